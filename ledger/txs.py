"""Ledger transactions and the checks that need nothing but the transaction itself.

Three kinds exist: a keygen result with its certificate, a bridge signature made
with a registered key or one of its non-hardened BIP32 children, and a validator-set
change. A block carries each as its own canonical wire bytes; ``decode_tx`` turns
bytes back into one of the three. Checks against the ledger state (does the key
exist, is the change allowed) live in ``ledger.state``; the cryptographic checks
here are the expensive part and are done once per replica per transaction.

A key's chain code is public (the node shows it with the key), so the keygen
transaction carries it and every replica derives a child key from (public key,
chain code, path) exactly as the signers do: ``protocol.hd`` for ECDSA, and for the
FROST suites ``protocol.frost.tweak`` (BIP340 starts from the even-y key and reads
the last child x-only). The certificate does not prove the chain code: the ledger
records the one the keygen's submitter states.

A validator-set change carries a base, a nonce and the approvals of a quorum of the set
that votes on its block: each approver signs, with its node identity key, a
domain-separated encoding of (chain id, genesis hash, the change, its base, nonce) as
``ValidatorChange``. The base is the number of validator-set changes the chain had
committed when the change was approved, and a replica accepts a change only at exactly
that base (``LedgerState.change_count``): any committed change voids every approval
gathered before it, so an old approval can never re-add a validator removed since, nor
be replayed on another chain that reuses the chain id (the genesis hash differs).
Replicas verify approvals before they vote (``check_approvals``), so a change no quorum
of validators asked for never enters a block. The change's id (``change_id``) does not
depend on which approvals were gathered, so one approved change commits once, however
many nodes submit it with however many approvals.

Type ids 0x0420 and 0x0421 were the keygen and signature transactions before they
carried a chain code and a path, 0x0422 the validator-set change before it carried a
nonce and approvals, and 0x0425 and 0x0426 the change and its signed body before they
carried a base; they are retired, so bytes of those formats never decode as the
current ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from coincurve import PublicKey, PublicKeyXOnly
from coincurve.ecdsa import cdata_to_der, deserialize_compact
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

from ledger.codec import OneOf
from ledger.config import MAX_ID_BYTES, MAX_VALIDATORS, Validator, ValidatorSet
from ledger.crypto import SIGNATURE_SIZE, Signer, Verifier, signing_prefix, valid_public_key
from protocol import hd, wire
from protocol.errors import EncodingError, InvalidProof, UsageError
from protocol.frost.suites import suite_by_name
from protocol.frost.tweak import signing_key
from protocol.group import ED25519, SECP256K1, Group
from protocol.keygen_certificate import MAX_PARTICIPANTS, verify_keygen_certificate

SECP256K1_HALF_ORDER = SECP256K1.order // 2
MAX_CERTIFICATE_BYTES = 128 * 1024
MAX_MESSAGE_BYTES = 4096
#: a signing session carries its path in at most this many bytes, so no signature the
#: network makes has a longer one; the depth is bounded by ``protocol.hd.MAX_DEPTH``
MAX_PATH_BYTES = 1024

# scheme -> the one curve it runs on (BIP340 Schnorr is secp256k1 only).
SCHEME_CURVES = {"ecdsa": SECP256K1, "schnorr": SECP256K1, "eddsa": ED25519}
# scheme -> the FROST suite whose signers derive its child keys (ECDSA derives plainly).
FROST_SUITES = {"schnorr": "bip340", "eddsa": "ed25519"}


class InvalidTransaction(UsageError):
    """A transaction that can never enter a block (malformed, badly signed, not allowed)."""


class StaleChange(InvalidTransaction):
    """A validator change approved at another base: it can never commit (again) as it is."""


class FutureBase(InvalidTransaction):
    """A validator change at a base above the changes this replica has committed: not valid
    yet here, and perhaps valid once the replica catches up (never a reason to drop it)."""


@wire.message(0x0423)
@dataclass(frozen=True, slots=True)
class KeygenTx:
    """A new key and the certificate proving it; ``chain_code`` (None: the key has no
    children in the ledger) is what signatures with a ``path`` derive from."""

    key_id: str = wire.field(wire.Str(MAX_ID_BYTES))
    scheme: str = wire.field(wire.Str(16))
    curve: str = wire.field(wire.Str(16))
    public_key: bytes = wire.field(wire.Bytes(min_size=32, max_size=33))
    participants: tuple[int, ...] = wire.field(
        wire.Seq(wire.UInt(2**32 - 1), min_len=2, max_len=MAX_PARTICIPANTS))
    threshold: int = wire.field(wire.UInt(MAX_PARTICIPANTS))
    certificate: bytes = wire.field(wire.Bytes(max_size=MAX_CERTIFICATE_BYTES))
    chain_code: bytes | None = wire.field(wire.Optional(wire.Bytes(size=hd.CHAIN_CODE_SIZE)),
                                          default=None)


@wire.message(0x0424)
@dataclass(frozen=True, slots=True)
class SignatureTx:
    """A bridge signature: ``message`` is the 32-byte digest for ECDSA and BIP340,
    the message itself for Ed25519. ``public_key`` is always the registered key (as
    its keygen transaction has it); ``path`` (canonical, e.g. ``m/0/1``, at least one
    non-hardened step) says the signature is by that key's child, None by the key itself."""

    key_id: str = wire.field(wire.Str(MAX_ID_BYTES))
    public_key: bytes = wire.field(wire.Bytes(min_size=32, max_size=33))
    message: bytes = wire.field(wire.Bytes(max_size=MAX_MESSAGE_BYTES))
    signature: bytes = wire.field(wire.Bytes(size=64))
    bitcoin_txid: bytes | None = wire.field(wire.Optional(wire.Bytes(size=32)))
    path: str | None = wire.field(wire.Optional(wire.Str(MAX_PATH_BYTES)), default=None)


#: a change adds or removes at most this many validators
MAX_CHANGE_ITEMS = 64
MAX_NONCE_BYTES = 32
MAX_BASE = 2**32 - 1
GENESIS_HASH_SIZE = 32
#: what an approval signs, after the ledger's signing prefix (domain and chain id)
APPROVAL_DOMAIN = b"tssnet/validator-change/v2"


@wire.message(0x0428)
@dataclass(frozen=True, slots=True)
class ValidatorChange:
    """What approvers sign: the additions sorted by id, the removals sorted, the number of
    changes committed before it (its base) and a nonce."""

    add: tuple[Validator, ...] = wire.field(wire.Seq(wire.Nested(Validator), max_len=MAX_CHANGE_ITEMS))
    remove: tuple[str, ...] = wire.field(wire.Seq(wire.Str(MAX_ID_BYTES), max_len=MAX_CHANGE_ITEMS))
    base: int = wire.field(wire.UInt(MAX_BASE))
    nonce: bytes = wire.field(wire.Bytes(min_size=1, max_size=MAX_NONCE_BYTES))


@wire.message(0x0427)
@dataclass(frozen=True, slots=True)
class Approval:
    """One validator's signature over a ``ValidatorChange`` (see ``approval_message``)."""

    validator: str = wire.field(wire.Str(MAX_ID_BYTES))
    signature: bytes = wire.field(wire.Bytes(size=SIGNATURE_SIZE))


@wire.message(0x0429)
@dataclass(frozen=True, slots=True)
class ValidatorSetTx:
    """Adds and removes validators, effective a fixed number of blocks after commit, valid
    only while the chain has committed exactly ``base`` changes, with the approvals of a
    quorum of the validators voting on its block (sorted by validator)."""

    add: tuple[Validator, ...] = wire.field(wire.Seq(wire.Nested(Validator), max_len=MAX_CHANGE_ITEMS))
    remove: tuple[str, ...] = wire.field(wire.Seq(wire.Str(MAX_ID_BYTES), max_len=MAX_CHANGE_ITEMS))
    base: int = wire.field(wire.UInt(MAX_BASE))
    nonce: bytes = wire.field(wire.Bytes(min_size=1, max_size=MAX_NONCE_BYTES))
    approvals: tuple[Approval, ...] = wire.field(wire.Seq(wire.Nested(Approval), max_len=MAX_VALIDATORS))

    def change(self) -> ValidatorChange:
        return ValidatorChange(self.add, self.remove, self.base, self.nonce)

    @classmethod
    def of(cls, change: ValidatorChange, approvals: tuple[Approval, ...] = ()) -> ValidatorSetTx:
        return cls(change.add, change.remove, change.base, change.nonce, approvals)


def approval_message(genesis: bytes, change: ValidatorChange) -> bytes:
    """The bytes an approval signs after ``signing_prefix(chain_id)``: bound to the chain's
    genesis hash as well as its id."""
    if len(genesis) != GENESIS_HASH_SIZE:
        raise UsageError("a genesis hash is 32 bytes")
    return APPROVAL_DOMAIN + genesis + wire.encode(change)


def change_id(change: ValidatorChange) -> bytes:
    """The change's id: one per (change, base, nonce), whichever approvals carry it."""
    return hashlib.sha256(APPROVAL_DOMAIN + wire.encode(change)).digest()


def sign_approval(signer: Signer, chain_id: str, genesis: bytes, change: ValidatorChange) -> Approval:
    """``signer``'s approval of ``change`` on the chain ``chain_id`` with genesis hash ``genesis``."""
    return Approval(signer.node_id, signer.sign(signing_prefix(chain_id) + approval_message(genesis, change)))


def approval_valid(verifier: Verifier, vset: ValidatorSet, genesis: bytes, change: ValidatorChange,
                   approval: Approval) -> bool:
    """True when ``approval`` is by a member of ``vset`` and verifies under its key."""
    key = vset.keys.get(approval.validator)
    return key is not None and verifier.verify(key, approval_message(genesis, change), approval.signature)


Tx = KeygenTx | SignatureTx | ValidatorSetTx
_TX_DECODER = OneOf((KeygenTx, SignatureTx, ValidatorSetTx))


def decode_tx(data: bytes) -> Tx:
    """The transaction in ``data``; EncodingError for anything else."""
    return _TX_DECODER.decode(data)


def scheme_group(scheme: str, curve: str) -> Group:
    group = SCHEME_CURVES.get(scheme)
    if group is None or group.name != curve:
        raise InvalidTransaction(f"unsupported scheme/curve pair {scheme}/{curve}")
    return group


def check_keygen(tx: KeygenTx) -> None:
    """The certificate proves the public key for exactly these participants and threshold."""
    group = scheme_group(tx.scheme, tx.curve)
    try:
        verify_keygen_certificate(tx.certificate, tx.key_id, group, tx.public_key,
                                  tx.participants, tx.threshold)
    except (EncodingError, InvalidProof) as exc:
        raise InvalidTransaction(f"keygen {tx.key_id!r}: {exc}") from None


def path_steps(path: str) -> tuple[int, ...]:
    """The indices of a transaction's path; InvalidTransaction unless it is canonical.

    One spelling per path (``m/0/1``, no spaces, no ``m`` alone: that is no path), so a
    signature cannot enter the ledger twice under two spellings of one child.
    """
    try:
        steps = hd.parse_path(path)
    except UsageError as exc:
        raise InvalidTransaction(f"path {path!r}: {exc}") from None
    if not steps:
        raise InvalidTransaction("path 'm' names the key itself: leave the path out")
    if hd.format_path(steps) != path:
        raise InvalidTransaction(f"path {path!r} is not written canonically ({hd.format_path(steps)})")
    return steps


def verifying_key(scheme: str, public_key: bytes, chain_code: bytes | None, path: str | None) -> bytes:
    """The key a signature by ``public_key`` or its child at ``path`` verifies under.

    ECDSA and Ed25519: the (child) point's encoding. BIP340: 0x02 || x of the even-y
    (child) key, derived from the even-y form of ``public_key`` as the signers derive it.
    InvalidTransaction for a bad path, a missing chain code or an underivable child.
    """
    if path is None:
        return public_key
    steps = path_steps(path)
    if chain_code is None:
        raise InvalidTransaction("the key was registered without a chain code: no child of it "
                                 "can be checked, so a signature with a path is refused")
    group = SCHEME_CURVES.get(scheme)
    if group is None:
        raise InvalidTransaction(f"unknown scheme {scheme!r}")
    try:
        point = group.decode_point(public_key)
        if scheme == "ecdsa":
            child = hd.derive(group, point, chain_code, steps).public_key
        else:
            suite = suite_by_name(FROST_SUITES[scheme])
            child = signing_key(suite, point, chain_code=chain_code, path=steps).public_key
    except (EncodingError, UsageError) as exc:
        raise InvalidTransaction(f"path {path!r}: {exc}") from None
    return child.encode()


def check_signature(tx: SignatureTx, scheme: str, chain_code: bytes | None = None) -> None:
    """The signature verifies under ``tx.public_key``, or under its child at ``tx.path``
    (derived with ``chain_code``), with the key's scheme."""
    verify = _VERIFIERS.get(scheme)
    if verify is None:
        raise InvalidTransaction(f"unknown scheme {scheme!r}")
    if scheme != "eddsa" and len(tx.message) != 32:
        raise InvalidTransaction(f"{scheme} signs a 32-byte digest")
    key = verifying_key(scheme, tx.public_key, chain_code, tx.path)
    if verify(key, tx.message, tx.signature):
        return
    if tx.path is None:
        raise InvalidTransaction(f"signature for key {tx.key_id!r} does not verify under the key "
                                 "itself (a child key's signature names its path)")
    # Only to name the mistake: a failed check costs one more verification.
    if verify(tx.public_key, tx.message, tx.signature):
        raise InvalidTransaction(f"signature for key {tx.key_id!r} is by the key itself, not by its "
                                 f"child at {tx.path}")
    raise InvalidTransaction(f"signature for key {tx.key_id!r} does not verify under its child "
                             f"at {tx.path}")


def _verify_ecdsa(key: bytes, digest: bytes, signature: bytes) -> bool:
    # libsecp256k1 accepts only low-S signatures; we say so instead of failing opaquely.
    if int.from_bytes(signature[32:], "big") > SECP256K1_HALF_ORDER:
        raise InvalidTransaction("ECDSA signature is not low-S normalised")
    try:
        der = cdata_to_der(deserialize_compact(signature))
        return PublicKey(key).verify(der, digest, hasher=None)
    except (ValueError, TypeError):
        return False


def _verify_bip340(key: bytes, digest: bytes, signature: bytes) -> bool:
    if len(key) != 33:
        return False
    try:
        return PublicKeyXOnly(key[1:]).verify(signature, digest)
    except (ValueError, TypeError):
        return False


def _verify_ed25519(key: bytes, message: bytes, signature: bytes) -> bool:
    if len(key) != 32:
        return False
    try:
        VerifyKey(key).verify(message, signature)
    except (BadSignatureError, CryptoError, ValueError, TypeError):
        return False
    return True


_VERIFIERS = {"ecdsa": _verify_ecdsa, "schnorr": _verify_bip340, "eddsa": _verify_ed25519}


def check_validator_change(tx: ValidatorSetTx) -> None:
    """Shape only: something to do, one spelling (sorted, no id twice), valid keys, and
    approvals sorted by distinct validators; membership and signatures need the state."""
    if not tx.add and not tx.remove:
        raise InvalidTransaction("validator change that changes nothing")
    ids = [v.id for v in tx.add] + list(tx.remove)
    if len(set(ids)) != len(ids):
        raise InvalidTransaction("a validator id appears twice in one change")
    if any(not v.id for v in tx.add):
        raise InvalidTransaction("a validator id cannot be empty")
    if not _increasing([v.id for v in tx.add]) or not _increasing(list(tx.remove)):
        raise InvalidTransaction("additions and removals must each be sorted by validator id")
    keys = [v.public_key for v in tx.add]
    if len(set(keys)) != len(keys) or not all(valid_public_key(k) for k in keys):
        raise InvalidTransaction("added keys must be distinct valid Ed25519 public keys")
    approvers = [a.validator for a in tx.approvals]
    if len(set(approvers)) != len(approvers):
        raise InvalidTransaction("a validator approves the change twice")
    if not _increasing(approvers):
        raise InvalidTransaction("approvals must be sorted by validator id")


def check_approvals(tx: ValidatorSetTx, vset: ValidatorSet, verifier: Verifier, genesis: bytes) -> None:
    """The approvals are by distinct members of ``vset`` (the set voting on the block), at
    least its quorum, each a valid signature of the change under that member's key."""
    change = tx.change()
    seen: set[str] = set()
    for approval in tx.approvals:
        if approval.validator in seen:
            raise InvalidTransaction("a validator approves the change twice")
        seen.add(approval.validator)
        if approval.validator not in vset:
            raise InvalidTransaction(f"approval by {approval.validator!r}, who is not a validator")
        if not approval_valid(verifier, vset, genesis, change, approval):
            raise InvalidTransaction(f"the approval by {approval.validator!r} does not verify")
    if len(seen) < vset.quorum:
        raise InvalidTransaction(f"the change has {len(seen)} approvals; it needs a quorum of "
                                 f"{vset.quorum} of the {len(vset)} validators")


def _increasing(items: list[str]) -> bool:
    return all(a < b for a, b in zip(items, items[1:], strict=False))
