"""Offline recovery with the private ERS key: decrypt the shares, interpolate, check, sign.

``recover`` verifies each entry's proof under the label, decrypts its share (an integer
in ±2^(ℓ+ε) as the range proof allows, taken mod q) and keeps those whose x_j·G is the
public share X_j; t+1 of them interpolate to x, and x·G must be the public key. For
BIP340 keys that is the even-y key the shares were normalised to at keygen; for Ed25519
x is the raw scalar (not an RFC 8032 seed). The chain code is the first decrypted
chain-code ciphertext (of an entry whose share checked) that matches the commitment in the
key facts, which every proof binds and every partial agreed on; the result counts the
entries whose copy did not match (``chain_code_mismatches``), which never block recovery.

Nothing decrypted is ever put in an error or in the result unless it was checked against
a public value first: a share against X_j, the key against the public key, a chain code
against its commitment. A crafted ciphertext (another key's share, say) therefore teaches
the attacker nothing beyond whether it is the committed chain code.

``child`` derives a non-hardened BIP32 child exactly as the threshold signers do, and
``sign`` signs with a recovered FROST key (or its child) as the threshold key would
(``protocol.frost.single_key``); an ECDSA key signs in any secp256k1 library.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import hd, shamir
from protocol.errors import EncodingError, UsageError
from protocol.ers import statement as st
from protocol.ers.combine import (
    check_entries,
    check_public_key,
    entry_name,
    parse_recovery_data,
)
from protocol.ers.errors import ErsError, KeyMismatch, NotEnoughPartials, RecoveryFailed
from protocol.ers.keys import ErsPrivateKey, load_private_key
from protocol.frost import single_key
from protocol.frost.suites import suite_by_name
from protocol.frost.tweak import signing_key
from protocol.group import Point, Scalar, group_by_name
from protocol.rng import Rng
from protocol.secrecy import NeverPickled


def public_key_hex(scheme: str, point: Point) -> str:
    """A public key as the node shows it: BIP340 keys x-only, others in their group's encoding."""
    return point.encode_xonly().hex() if scheme == "schnorr" else point.encode().hex()


@dataclass(frozen=True, slots=True, repr=False)
class RecoveredKey(NeverPickled):
    """The whole private key of a threshold key, its public key and chain code."""

    key_id: str
    scheme: str
    curve: str
    secret: Scalar
    public_key: Point
    chain_code: bytes
    #: how many entries' encrypted chain code did not match the commitment every partial states
    chain_code_mismatches: int = 0

    def to_json(self) -> dict:
        """{"curve", "private_key" (32 bytes big-endian, hex), "chain_code" (hex)} and the key's
        "key_id", "scheme" and "public_key" (hex, as the node shows it), with how many entries'
        encrypted chain code did not match its commitment ("chain_code_mismatches", usually 0)."""
        return {"curve": self.curve, "private_key": int(self.secret).to_bytes(32, "big").hex(),
                "chain_code": self.chain_code.hex(), "key_id": self.key_id, "scheme": self.scheme,
                "public_key": public_key_hex(self.scheme, self.public_key),
                "chain_code_mismatches": self.chain_code_mismatches}

    def __repr__(self) -> str:
        return f"RecoveredKey(key_id={self.key_id!r}, scheme={self.scheme}, secret=<redacted>)"


def _decrypt_entry(facts: st.KeyFacts, private: ErsPrivateKey, label: str, entry: st.Entry, position: int
                   ) -> Scalar:
    """The entry's share once checked against its public share. Errors name the entry, never a
    decrypted value."""
    what = entry_name(position)
    st.verify_entry(facts, private.params, label, entry, what, position)
    who = st.describe(what, entry)
    group = facts.group
    try:
        share = group.scalar(int(private.paillier.decrypt_signed(entry.share_ciphertext)))
    except EncodingError:
        raise RecoveryFailed(f"the share ciphertext of {who} does not decrypt", position=position) from None
    if group.base_mul(share) != facts.public_share(entry.index):
        raise RecoveryFailed(f"the share of {who} does not decrypt to its public share", position=position)
    return share


def _chain_code(facts: st.KeyFacts, private: ErsPrivateKey, entry: st.Entry) -> bytes | None:
    """The entry's chain code if its ciphertext decrypts to the one the facts commit to, else None."""
    try:
        value = int(private.paillier.decrypt(entry.chain_code_ciphertext))
    except EncodingError:
        return None
    if value.bit_length() > 8 * st.CHAIN_CODE_SIZE:
        return None
    code = value.to_bytes(st.CHAIN_CODE_SIZE, "big")
    return code if facts.commits_to(code) else None


def _first_chain_code(facts: st.KeyFacts, private: ErsPrivateKey, entries: list[st.Entry]
                      ) -> tuple[bytes, int]:
    """The first committed chain code among ``entries`` and how many entries before it did not
    match; RecoveryFailed (naming no value) when none matches."""
    for k, entry in enumerate(entries):
        code = _chain_code(facts, private, entry)
        if code is not None:
            return code, k + sum(_chain_code(facts, private, e) is None for e in entries[k + 1:])
    raise RecoveryFailed(f"no entry's encrypted chain code matches the commitment of key {facts.key_id!r}")


def recover(data, ers_private_key, label: str, public_key=None) -> RecoveredKey:
    """The key in ``data`` (recovery data JSON object, text or ``RecoveryData``); ErsError if not.
    ``public_key`` (hex as the node shows it, bytes or a point): the key the caller expects."""
    private = load_private_key(ers_private_key)
    label = st.check_label(label)
    data = parse_recovery_data(data)
    facts = data.facts
    if public_key is not None:
        check_public_key(facts, public_key)
    if data.ers_key != private.fingerprint:
        raise KeyMismatch("the recovery data was made for another ERS key than this private key")
    check_entries(facts, data.entries, tuple(st.describe(entry_name(k + 1), e) for k, e in enumerate(data.entries)))
    facts.check_sharing()
    shares: dict[int, Scalar] = {}
    decrypted: list[st.Entry] = []
    failures: list[ErsError] = []
    # Every entry that verifies and decrypts to its share counts: any t+1 of them recover the key.
    for k, entry in enumerate(data.entries):
        try:
            shares[entry.index] = _decrypt_entry(facts, private, label, entry, k + 1)
            decrypted.append(entry)
        except ErsError as exc:
            failures.append(exc)
    needed = facts.threshold + 1
    if len(shares) < needed:
        if failures and not shares:
            raise failures[0]
        reasons = "; ".join(e.message for e in failures)
        raise NotEnoughPartials(f"only {len(shares)} of the {needed} shares needed decrypt: {reasons}")
    group = facts.group
    subset = tuple(sorted(shares))[:needed]
    secret = group.scalar(0)
    for j in subset:
        secret = secret + shamir.lagrange_at_zero(group, j, subset) * shares[j]
    if group.base_mul(secret) != facts.public_key:
        raise RecoveryFailed("the decrypted shares do not interpolate to the key's private key")
    chain_code, mismatches = _first_chain_code(facts, private, decrypted)
    return RecoveredKey(facts.key_id, facts.scheme, facts.curve, secret, facts.public_key, chain_code, mismatches)


def from_json(obj: dict, scheme: str | None = None) -> RecoveredKey:
    """A recovered key from ``RecoveredKey.to_json``'s output. The scheme is the output's own, or
    ``scheme`` (needed for secp256k1, ECDSA or BIP340, when the output does not say it); a
    public key in the output must be the private key's."""
    if not isinstance(obj, dict):
        raise UsageError("a recovered key is a JSON object")
    curve = obj.get("curve")
    stated = obj.get("scheme")
    if scheme is not None and stated is not None and scheme != stated:
        raise UsageError(f"the recovered key is a {stated!r} key, not {scheme!r}")
    scheme = scheme or stated or ("eddsa" if curve == "ed25519" else None)
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
    public_key = group.base_mul(secret)
    if "public_key" in obj and obj["public_key"] != public_key_hex(scheme, public_key):
        raise UsageError("the recovered key's public_key is not its private key's")
    return RecoveredKey(str(obj.get("key_id", "")), scheme, group.name, secret, public_key, chain_code)


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


__all__ = ["RecoveredKey", "child", "from_json", "public_key_hex", "recover", "sign"]
