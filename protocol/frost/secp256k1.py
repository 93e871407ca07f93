"""FROST(secp256k1, SHA-256) (RFC 9591 §6.5).

H1, H2 and H3 are hash_to_field from RFC 9380 (expand_message_xmd with SHA-256,
L = 48 bytes, one element), with the context string plus a label as the DST; H4
and H5 are SHA-256 over context || label || m. Elements are compressed SEC1 (33
bytes), scalars 32 bytes big-endian, so a signature is 65 bytes.
"""

from __future__ import annotations

import hashlib

from protocol.frost.ciphersuite import RfcCiphersuite
from protocol.group import SECP256K1, Scalar

_L = 48            # ceil((ceil(log2(n)) + 128) / 8) for secp256k1 (RFC 9380 §5)
_BLOCK = 64        # SHA-256 input block size
_HASH = 32         # SHA-256 output size


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1 with SHA-256."""
    if len(dst) > 255 or length > 255 * _HASH:
        raise ValueError("DST or output length out of range")
    dst_prime = dst + bytes((len(dst),))
    b0 = hashlib.sha256(bytes(_BLOCK) + msg + length.to_bytes(2, "big") + b"\x00" + dst_prime).digest()
    blocks = [hashlib.sha256(b0 + b"\x01" + dst_prime).digest()]
    for i in range(2, -(-length // _HASH) + 1):
        mixed = bytes(x ^ y for x, y in zip(b0, blocks[-1], strict=True))
        blocks.append(hashlib.sha256(mixed + bytes((i,)) + dst_prime).digest())
    return b"".join(blocks)[:length]


class Secp256k1Sha256(RfcCiphersuite):
    name = "secp256k1"
    context = b"FROST-secp256k1-SHA256-v1"
    group = SECP256K1
    hash_name = "sha256"

    def _hash_to_scalar(self, dst: bytes, m: bytes) -> Scalar:
        return self.group.scalar(int.from_bytes(expand_message_xmd(m, dst, _L), "big"))


SECP256K1_SHA256 = Secp256k1Sha256()

__all__ = ["SECP256K1_SHA256", "Secp256k1Sha256", "expand_message_xmd"]
