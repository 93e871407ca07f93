"""Offline recovery with the private ERS key: decrypt the shares, interpolate, check, sign.

``recover`` verifies each entry's proof under the label, decrypts its share (an integer
in ±2^(ℓ+ε) as the range proof allows, taken mod q) and keeps those whose x_j·G is the
public share X_j; t+1 of them interpolate to x, and x·G must be the public key. For
BIP340 keys that is the even-y key the shares were normalised to at keygen; for Ed25519
x is the raw scalar (not an RFC 8032 seed). The chain code is decrypted from every kept
entry and must be the same in all.

``child`` derives a non-hardened BIP32 child exactly as the threshold signers do, and
``sign`` signs with a recovered FROST key (or its child) as the threshold key would
(``protocol.frost.single_key``); an ECDSA key signs in any secp256k1 library.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import hd, shamir
from protocol.errors import EncodingError, UsageError
from protocol.ers import statement as st
from protocol.ers.combine import RecoveryData, check_entries, parse_recovery_data
from protocol.ers.errors import ErsError, KeyMismatch, NotEnoughPartials, RecoveryFailed
from protocol.ers.keys import ErsPrivateKey, load_private_key
from protocol.frost import single_key
from protocol.frost.suites import suite_by_name
from protocol.frost.tweak import signing_key
from protocol.group import Point, Scalar, group_by_name
from protocol.rng import Rng
from protocol.secrecy import NeverPickled


@dataclass(frozen=True, slots=True, repr=False)
class RecoveredKey(NeverPickled):
    """The whole private key of a threshold key, its public key and chain code."""

    key_id: str
    scheme: str
    curve: str
    secret: Scalar
    public_key: Point
    chain_code: bytes

    def to_json(self) -> dict:
        """{"curve", "private_key" (32 bytes big-endian, hex), "chain_code" (hex)}."""
        return {"curve": self.curve, "private_key": int(self.secret).to_bytes(32, "big").hex(),
                "chain_code": self.chain_code.hex()}

    def __repr__(self) -> str:
        return f"RecoveredKey(key_id={self.key_id!r}, scheme={self.scheme}, secret=<redacted>)"


def _decrypt_entry(data: RecoveryData, private: ErsPrivateKey, label: str, entry: st.Entry
                   ) -> tuple[Scalar, bytes]:
    facts = data.facts
    st.verify_entry(facts, private.params, label, entry)
    group = facts.group
    try:
        share = group.scalar(int(private.paillier.decrypt_signed(entry.share_ciphertext)))
        code = int(private.paillier.decrypt(entry.chain_code_ciphertext))
    except EncodingError as exc:
        raise RecoveryFailed(f"{entry.who()}: {exc}") from None
    if group.base_mul(share) != facts.public_share(entry.index):
        raise RecoveryFailed(f"the share of {entry.who()} does not decrypt to its public share")
    if code >> (8 * st.CHAIN_CODE_SIZE):
        raise RecoveryFailed(f"the chain code of {entry.who()} does not decrypt to {st.CHAIN_CODE_SIZE} bytes")
    return share, code.to_bytes(st.CHAIN_CODE_SIZE, "big")


def recover(data, ers_private_key, label: str) -> RecoveredKey:
    """The key in ``data`` (recovery data JSON object, text or ``RecoveryData``); ErsError if not."""
    private = load_private_key(ers_private_key)
    label = st.check_label(label)
    data = parse_recovery_data(data)
    facts = data.facts
    if data.ers_key != private.fingerprint:
        raise KeyMismatch("the recovery data was made for another ERS key than this private key")
    facts.check_sharing()
    check_entries(facts, data.entries)
    shares: dict[int, Scalar] = {}
    codes: dict[int, bytes] = {}
    failures: list[ErsError] = []
    # Every entry that verifies and decrypts to its share counts: any t+1 of them recover the key.
    for entry in data.entries:
        try:
            shares[entry.index], codes[entry.index] = _decrypt_entry(data, private, label, entry)
        except ErsError as exc:
            failures.append(exc)
    needed = facts.threshold + 1
    if len(shares) < needed:
        if failures and not shares:
            raise failures[0]
        reasons = "; ".join(e.message for e in failures)
        raise NotEnoughPartials(f"only {len(shares)} of the {needed} shares needed decrypt: {reasons}")
    if len(set(codes.values())) != 1:
        raise RecoveryFailed("the validators' encrypted chain codes differ: "
                             + ", ".join(f"{i}: {c.hex()}" for i, c in sorted(codes.items())))
    group = facts.group
    subset = tuple(sorted(shares))[:needed]
    secret = group.scalar(0)
    for j in subset:
        secret = secret + shamir.lagrange_at_zero(group, j, subset) * shares[j]
    if group.base_mul(secret) != facts.public_key:
        raise RecoveryFailed("the decrypted shares do not interpolate to the key's private key")
    return RecoveredKey(facts.key_id, facts.scheme, facts.curve, secret, facts.public_key,
                        codes[subset[0]])


def from_json(obj: dict, scheme: str | None = None) -> RecoveredKey:
    """A recovered key from ``RecoveredKey.to_json``'s output; ``scheme`` is needed for secp256k1
    (ECDSA or BIP340), Ed25519 keys are EdDSA."""
    if not isinstance(obj, dict):
        raise UsageError("a recovered key is a JSON object")
    curve = obj.get("curve")
    scheme = scheme or ("eddsa" if curve == "ed25519" else None)
    if scheme not in st.SCHEMES or curve != st.SCHEMES[scheme]:
        raise UsageError(f"curve {curve!r} with scheme {scheme!r} is no key tssnet makes")
    group = group_by_name(curve)
    try:
        raw = bytes.fromhex(obj["private_key"])
        chain_code = bytes.fromhex(obj["chain_code"])
    except (KeyError, TypeError, ValueError):
        raise UsageError("private_key and chain_code are hex") from None
    value = int.from_bytes(raw, "big")
    if len(raw) != 32 or not 0 < value < group.order or len(chain_code) != st.CHAIN_CODE_SIZE:
        raise UsageError("a recovered key is a 32-byte non-zero scalar and a 32-byte chain code")
    secret = group.scalar(value)
    return RecoveredKey(str(obj.get("key_id", "")), scheme, group.name, secret, group.base_mul(secret),
                        chain_code)


def child(key: RecoveredKey, path: str | None) -> tuple[Scalar, Point]:
    """(secret, public key) of the key the threshold signers sign with for ``path`` (None: the key itself).

    ECDSA: the BIP32 child of the key; FROST: the suite's signing key (BIP340's even-y child)."""
    if key.scheme == "ecdsa":
        if path is None:
            return key.secret, key.public_key
        derived = hd.derive(key.public_key.group, key.public_key, key.chain_code, path)
        return key.secret + derived.tweak, derived.public_key
    tweaked = signing_key(suite_by_name(st.FROST_SUITES[key.scheme]), key.public_key,
                          chain_code=key.chain_code, path=path)
    return tweaked.secret(key.secret), tweaked.public_key


def sign(key: RecoveredKey, message: bytes, *, path: str | None = None, rng: Rng | None = None) -> bytes:
    """A signature by the recovered FROST key (Ed25519 or BIP340), or its child at ``path``."""
    if key.scheme not in st.FROST_SUITES:
        raise UsageError("sign an ECDSA key's digest with the recovered private key in a secp256k1 library")
    return single_key.sign(st.FROST_SUITES[key.scheme], key.secret, message, chain_code=key.chain_code,
                           path=path, rng=rng)


__all__ = ["RecoveredKey", "child", "from_json", "recover", "sign"]
