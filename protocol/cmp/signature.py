"""ECDSA signatures as threshold signing outputs them: low-s, with a recovery id, verified.

``finish`` turns the aggregated s and the presignature's R into an
``EcdsaSignature``: r = R.x mod q, s replaced by q − s when above q/2 (BIP62/BIP146
low-s, which Bitcoin's standardness rules require), and a recovery id v with
bit 0 the parity of the y of the nonce point actually used (−R after the low-s
flip) and bit 1 set when R.x ≥ q. The signature is verified against the public
key before it is returned; a failure there is a ``Bug``, because every share was
already checked on its own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from Crypto.Hash import keccak
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from protocol import wire
from protocol.errors import Bug, UsageError
from protocol.group import Group, Point, Scalar

DIGEST_SIZE = 32


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _keccak256(data: bytes) -> bytes:
    # Ethereum's hash: the original Keccak padding, not NIST SHA3-256's.
    return keccak.new(digest_bits=256, data=data).digest()


#: message hashes Sign accepts: "sha256d" is Bitcoin's double SHA-256, "keccak256" Ethereum's
HASHES = {
    "sha256": _sha256,
    "sha256d": lambda data: _sha256(_sha256(data)),
    "keccak256": _keccak256,
}


def message_digest(message: bytes, hash_name: str) -> bytes:
    """The 32-byte digest of ``message`` under one of ``HASHES``."""
    if not isinstance(message, bytes | bytearray):
        raise UsageError("a message to sign is bytes")
    hasher = HASHES.get(hash_name) if isinstance(hash_name, str) else None
    if hasher is None:
        raise UsageError(f"unknown hash {hash_name!r}; known: {sorted(HASHES)}")
    return hasher(bytes(message))


def digest_scalar(group: Group, digest: bytes) -> Scalar:
    """m = the digest as a big-endian integer mod q (the digest is exactly 32 bytes)."""
    if not isinstance(digest, bytes) or len(digest) != DIGEST_SIZE:
        raise UsageError(f"a digest is exactly {DIGEST_SIZE} bytes")
    return group.scalar(int.from_bytes(digest, "big"))


@wire.message(0x0241)
@dataclass(frozen=True, slots=True)
class EcdsaSignature:
    """(r, s) with s ≤ q/2, and the recovery id (0..3) of the public key."""

    r: int = wire.field(wire.Nat(256))
    s: int = wire.field(wire.Nat(256))
    recovery_id: int = wire.field(wire.UInt(3))

    def to_compact(self) -> bytes:
        """64 bytes r ‖ s, big-endian."""
        return int(self.r).to_bytes(32, "big") + int(self.s).to_bytes(32, "big")

    def to_recoverable(self) -> bytes:
        """65 bytes r ‖ s ‖ v (libsecp256k1's recoverable compact form)."""
        return self.to_compact() + bytes([self.recovery_id])

    def to_der(self) -> bytes:
        """The ASN.1 DER SEQUENCE { r, s } used by X.509, OpenSSL and Bitcoin scripts."""
        return encode_dss_signature(int(self.r), int(self.s))


def verify(public_key: Point, digest: bytes, r: int, s: int) -> bool:
    """Plain ECDSA verification (any s), with our group arithmetic."""
    group = public_key.group
    q = group.order
    if not (0 < r < q and 0 < s < q) or public_key.is_identity():
        return False
    s_inv = group.scalar(s).inverse()
    point = group.multi_mul([digest_scalar(group, digest) * s_inv, s_inv * r],
                            [group.generator, public_key])
    return not point.is_identity() and point.x() % q == r


def finish(R: Point, s: Scalar, digest: bytes, public_key: Point) -> EcdsaSignature:
    """The low-s signature (R.x mod q, s) with its recovery id, verified under ``public_key``."""
    q = R.group.order
    x = R.x()
    r, s_value = x % q, s.value
    recovery_id = (0 if R.has_even_y() else 1) | (2 if x >= q else 0)
    if s_value > q // 2:
        s_value = q - s_value
        recovery_id ^= 1  # the nonce point is now −R, whose y has the other parity
    if not verify(public_key, digest, r, s_value):
        raise Bug("an aggregated ECDSA signature does not verify although every share passed")
    return EcdsaSignature(r, s_value, recovery_id)


__all__ = ["DIGEST_SIZE", "HASHES", "EcdsaSignature", "digest_scalar", "finish", "message_digest",
           "verify"]
