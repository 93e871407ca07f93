"""Ed25519's prime-order subgroup through libsodium's point arithmetic (PyNaCl bindings).

libsodium works on 32-byte encodings, so a point *is* its canonical encoding and
hashing or comparing it is a bytes operation. What libsodium does at the edges
(checked on the bundled libsodium, PyNaCl 1.6):

- ``crypto_core_ed25519_add``/``sub`` accept and return the identity (P + -P gives
  01 00..00), but they also accept non-canonical, small-order and mixed-order
  inputs without complaint, so only validated points may reach them.
- ``crypto_scalarmult_ed25519_noclamp`` and ``..._base_noclamp`` raise for a zero
  scalar, a scalar that is a multiple of q, an identity, small-order or mixed-order
  input point, and any identity result; they also clear bit 255 of the scalar. We pass only
  scalars in [1, q) and never the identity.
- ``crypto_core_ed25519_is_valid_point`` rejects non-canonical y, off-curve points,
  the identity, the eight small-order points and every point outside the
  prime-order subgroup (torsion-mixed points), so it is the decoder's final check.

Scalars encode little-endian as in RFC 8032.
"""

from __future__ import annotations

from nacl.bindings import (
    crypto_core_ed25519_add,
    crypto_core_ed25519_is_valid_point,
    crypto_scalarmult_ed25519_base_noclamp,
    crypto_scalarmult_ed25519_noclamp,
)

from protocol.errors import InvalidPoint
from protocol.group.base import Group, Point, Scalar, freeze_set

FIELD_PRIME = 2**255 - 19
ORDER = 2**252 + 27742317777372353535851937790883648493
IDENTITY_ENCODING = b"\x01" + bytes(31)
GENERATOR_ENCODING = bytes.fromhex(
    "5866666666666666666666666666666666666666666666666666666666666666"
)
_Y_MASK = (1 << 255) - 1


class Ed25519Scalar(Scalar):
    __slots__ = ()


class Ed25519Point(Point):
    __slots__ = ("_enc",)  # canonical encoding; libsodium's native representation

    def encode(self) -> bytes:
        return self._enc

    def is_identity(self) -> bool:
        return self._enc == IDENTITY_ENCODING

    def __add__(self, other: object) -> Point:
        if not self._check_same_group(other):
            return NotImplemented
        if self._enc == IDENTITY_ENCODING:
            return other
        if other._enc == IDENTITY_ENCODING:
            return self
        return _point(crypto_core_ed25519_add(self._enc, other._enc))

    def __neg__(self) -> Point:
        enc = self._enc
        if enc == IDENTITY_ENCODING:
            return self
        # -(x, y) = (-x, y): for x != 0 (every non-identity point of the subgroup),
        # -x has the other parity, so only the sign bit changes.
        return _point(enc[:31] + bytes((enc[31] ^ 0x80,)))

    def _mul(self, k: int) -> Point:
        enc = self._enc
        if k == 0 or enc == IDENTITY_ENCODING:
            return _IDENTITY
        k_bytes = k.to_bytes(32, "little")
        # The fixed-base path is about five times faster than the generic one.
        if enc == GENERATOR_ENCODING:
            return _point(crypto_scalarmult_ed25519_base_noclamp(k_bytes))
        return _point(crypto_scalarmult_ed25519_noclamp(k_bytes, enc))


def _point(enc: bytes) -> Ed25519Point:
    p = object.__new__(Ed25519Point)
    freeze_set(p, "_enc", enc)
    return p


_IDENTITY = _point(IDENTITY_ENCODING)


class Ed25519Group(Group):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(
            name="ed25519",
            suite_id=2,
            order=ORDER,
            point_size=32,
            scalar_byteorder="little",
            scalar_type=Ed25519Scalar,
            point_type=Ed25519Point,
            identity_encoding=IDENTITY_ENCODING,
            generator_encoding=GENERATOR_ENCODING,
        )

    def decode_point(self, data: bytes, *, allow_identity: bool = False) -> Point:
        """Canonical encodings of prime-order-subgroup points only; 01 00..00 is the identity."""
        if not isinstance(data, bytes):
            raise InvalidPoint(f"expected bytes, got {type(data).__name__}")
        if len(data) != 32:
            raise InvalidPoint(f"expected 32 bytes, got {len(data)}")
        if data == IDENTITY_ENCODING:
            if allow_identity:
                return _IDENTITY
            raise InvalidPoint("the identity is not allowed here")
        if int.from_bytes(data, "little") & _Y_MASK >= FIELD_PRIME:
            raise InvalidPoint("y is not below the field prime")
        # The only x = 0 points are (0, 1) and (0, -1); both have small order, so their
        # "negative zero" encodings (sign bit set) are rejected here with the torsion.
        if not crypto_core_ed25519_is_valid_point(data):
            raise InvalidPoint("not a point of the prime-order subgroup")
        return _point(data)

    def _sum(self, points: list[Point]) -> Point:
        total = _IDENTITY
        for p in points:
            total = total + p
        return total


ED25519 = Ed25519Group()
