"""Ledger transactions and the checks that need nothing but the transaction itself.

Three kinds exist: a keygen result with its certificate, a bridge signature made
with a registered key, and a validator-set change. A block carries each as its
own canonical wire bytes; ``decode_tx`` turns bytes back into one of the three.
Checks against the ledger state (does the key exist, is the change allowed) live
in ``ledger.state``; the cryptographic checks here are the expensive part and are
done once per replica per transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from coincurve import PublicKey, PublicKeyXOnly
from coincurve.ecdsa import cdata_to_der, deserialize_compact
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

from ledger.codec import OneOf
from ledger.config import MAX_ID_BYTES, Validator
from ledger.crypto import valid_public_key
from protocol import wire
from protocol.errors import EncodingError, InvalidProof, UsageError
from protocol.group import ED25519, SECP256K1, Group
from protocol.keygen_certificate import MAX_PARTICIPANTS, verify_keygen_certificate

SECP256K1_HALF_ORDER = SECP256K1.order // 2
MAX_CERTIFICATE_BYTES = 128 * 1024
MAX_MESSAGE_BYTES = 4096

# scheme -> the one curve it runs on (BIP340 Schnorr is secp256k1 only).
SCHEME_CURVES = {"ecdsa": SECP256K1, "schnorr": SECP256K1, "eddsa": ED25519}


class InvalidTransaction(UsageError):
    """A transaction that can never enter a block (malformed, badly signed, not allowed)."""


@wire.message(0x0420)
@dataclass(frozen=True, slots=True)
class KeygenTx:
    key_id: str = wire.field(wire.Str(MAX_ID_BYTES))
    scheme: str = wire.field(wire.Str(16))
    curve: str = wire.field(wire.Str(16))
    public_key: bytes = wire.field(wire.Bytes(min_size=32, max_size=33))
    participants: tuple[int, ...] = wire.field(
        wire.Seq(wire.UInt(2**32 - 1), min_len=2, max_len=MAX_PARTICIPANTS))
    threshold: int = wire.field(wire.UInt(MAX_PARTICIPANTS))
    certificate: bytes = wire.field(wire.Bytes(max_size=MAX_CERTIFICATE_BYTES))


@wire.message(0x0421)
@dataclass(frozen=True, slots=True)
class SignatureTx:
    """A bridge signature: ``message`` is the 32-byte digest for ECDSA and BIP340,
    the message itself for Ed25519."""

    key_id: str = wire.field(wire.Str(MAX_ID_BYTES))
    public_key: bytes = wire.field(wire.Bytes(min_size=32, max_size=33))
    message: bytes = wire.field(wire.Bytes(max_size=MAX_MESSAGE_BYTES))
    signature: bytes = wire.field(wire.Bytes(size=64))
    bitcoin_txid: bytes | None = wire.field(wire.Optional(wire.Bytes(size=32)))


@wire.message(0x0422)
@dataclass(frozen=True, slots=True)
class ValidatorSetTx:
    """Adds and removes validators, effective a fixed number of blocks after commit."""

    add: tuple[Validator, ...] = wire.field(wire.Seq(wire.Nested(Validator), max_len=64))
    remove: tuple[str, ...] = wire.field(wire.Seq(wire.Str(MAX_ID_BYTES), max_len=64))


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


def check_signature(tx: SignatureTx, scheme: str) -> None:
    """The signature verifies under ``tx.public_key`` with the key's scheme."""
    if scheme == "eddsa":
        ok = _verify_ed25519(tx)
    elif len(tx.message) != 32:
        raise InvalidTransaction(f"{scheme} signs a 32-byte digest")
    elif scheme == "ecdsa":
        ok = _verify_ecdsa(tx)
    elif scheme == "schnorr":
        ok = _verify_bip340(tx)
    else:
        raise InvalidTransaction(f"unknown scheme {scheme!r}")
    if not ok:
        raise InvalidTransaction(f"signature for key {tx.key_id!r} does not verify")


def _verify_ecdsa(tx: SignatureTx) -> bool:
    # libsecp256k1 accepts only low-S signatures; we say so instead of failing opaquely.
    if int.from_bytes(tx.signature[32:], "big") > SECP256K1_HALF_ORDER:
        raise InvalidTransaction("ECDSA signature is not low-S normalised")
    try:
        der = cdata_to_der(deserialize_compact(tx.signature))
        return PublicKey(tx.public_key).verify(der, tx.message, hasher=None)
    except (ValueError, TypeError):
        return False


def _verify_bip340(tx: SignatureTx) -> bool:
    if len(tx.public_key) != 33:
        return False
    try:
        return PublicKeyXOnly(tx.public_key[1:]).verify(tx.signature, tx.message)
    except (ValueError, TypeError):
        return False


def _verify_ed25519(tx: SignatureTx) -> bool:
    if len(tx.public_key) != 32:
        return False
    try:
        VerifyKey(tx.public_key).verify(tx.message, tx.signature)
    except (BadSignatureError, CryptoError, ValueError, TypeError):
        return False
    return True


def check_validator_change(tx: ValidatorSetTx) -> None:
    """Shape only: something to do, no id twice; membership rules need the state."""
    if not tx.add and not tx.remove:
        raise InvalidTransaction("validator change that changes nothing")
    ids = [v.id for v in tx.add] + list(tx.remove)
    if len(set(ids)) != len(ids):
        raise InvalidTransaction("a validator id appears twice in one change")
    keys = [v.public_key for v in tx.add]
    if len(set(keys)) != len(keys) or not all(valid_public_key(k) for k in keys):
        raise InvalidTransaction("added keys must be distinct valid Ed25519 public keys")
    if any(not v.id for v in tx.add):
        raise InvalidTransaction("a validator id cannot be empty")
