"""secp256k1 through coincurve's bundled libsecp256k1.

We call coincurve's cffi ``lib`` directly rather than its ``PublicKey`` wrapper: the
wrapper has no negation (it would cost a re-parse with a square root) and allocates a
Python object per operation. A point holds the parsed ``secp256k1_pubkey`` and
caches its compressed encoding, so nothing is parsed twice.

libsecp256k1 cannot represent the point at infinity: ``pubkey_combine`` fails when
the sum is infinity and ``tweak_mul`` rejects a zero scalar. The identity is
therefore a point with no native value (``_pk is None``), encoded as 33 zero bytes
so that every encoding has the same size on the wire.
"""

from __future__ import annotations

from coincurve import GLOBAL_CONTEXT
from coincurve._libsecp256k1 import ffi, lib
from coincurve.flags import EC_COMPRESSED, EC_UNCOMPRESSED

from protocol.errors import Bug, InvalidPoint, UsageError
from protocol.group.base import Group, Point, Scalar, freeze_set

FIELD_PRIME = 2**256 - 2**32 - 977
ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
IDENTITY_ENCODING = bytes(33)
GENERATOR_ENCODING = bytes.fromhex(
    "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
)

_CTX = GLOBAL_CONTEXT.ctx


def _serialize(pk: object, compressed: bool = True) -> bytes:
    size = 33 if compressed else 65
    out = ffi.new("unsigned char[65]")
    out_len = ffi.new("size_t *", size)
    lib.secp256k1_ec_pubkey_serialize(
        _CTX, out, out_len, pk, EC_COMPRESSED if compressed else EC_UNCOMPRESSED
    )
    return bytes(ffi.buffer(out, size))


class Secp256k1Scalar(Scalar):
    __slots__ = ()


class Secp256k1Point(Point):
    # _pk: a ``secp256k1_pubkey *`` or None for the identity; _enc: lazy compressed encoding.
    __slots__ = ("_pk", "_enc")

    def encode(self) -> bytes:
        enc = self._enc
        if enc is None:
            enc = _serialize(self._pk)
            freeze_set(self, "_enc", enc)
        return enc

    def is_identity(self) -> bool:
        return self._pk is None

    def __add__(self, other: object) -> Point:
        if not self._check_same_group(other):
            return NotImplemented
        if self._pk is None:
            return other
        if other._pk is None:
            return self
        return _combine([self._pk, other._pk])

    def __neg__(self) -> Point:
        if self._pk is None:
            return self
        pk = ffi.new("secp256k1_pubkey *", self._pk[0])
        lib.secp256k1_ec_pubkey_negate(_CTX, pk)
        enc = self._enc
        # Negation flips only the parity prefix (02 <-> 03), so the cache carries over.
        return _point(pk, None if enc is None else bytes((enc[0] ^ 1,)) + enc[1:])

    def _mul(self, k: int) -> Point:
        if k == 0 or self._pk is None:
            return _IDENTITY
        k_bytes = k.to_bytes(32, "big")
        pk = ffi.new("secp256k1_pubkey *")
        # The precomputed-table path for G is about twice as fast as a generic multiply.
        if self.encode() == GENERATOR_ENCODING:
            ok = lib.secp256k1_ec_pubkey_create(_CTX, pk, k_bytes)
        else:
            pk[0] = self._pk[0]
            ok = lib.secp256k1_ec_pubkey_tweak_mul(_CTX, pk, k_bytes)
        if not ok:
            raise Bug("libsecp256k1 refused a scalar in [1, q)")
        return _point(pk)

    def _affine(self) -> bytes:
        if self._pk is None:
            raise UsageError("the identity has no affine coordinates")
        return self.encode()

    def x(self) -> int:
        return int.from_bytes(self._affine()[1:], "big")

    def has_even_y(self) -> bool:
        return self._affine()[0] == 2

    def encode_xonly(self) -> bytes:
        """BIP340 32-byte x coordinate (the y parity is dropped)."""
        return self._affine()[1:]


def _point(pk: object, enc: bytes | None = None) -> Secp256k1Point:
    p = object.__new__(Secp256k1Point)
    freeze_set(p, "_pk", pk)
    freeze_set(p, "_enc", enc)
    return p


def _combine(pks: list) -> Point:
    out = ffi.new("secp256k1_pubkey *")
    # For valid inputs the only failure is a sum at infinity.
    if lib.secp256k1_ec_pubkey_combine(_CTX, out, pks, len(pks)):
        return _point(out)
    return _IDENTITY


_IDENTITY = _point(None, IDENTITY_ENCODING)


class Secp256k1Group(Group):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(
            name="secp256k1",
            suite_id=1,
            order=ORDER,
            point_size=33,
            scalar_byteorder="big",
            scalar_type=Secp256k1Scalar,
            point_type=Secp256k1Point,
            identity_encoding=IDENTITY_ENCODING,
            generator_encoding=GENERATOR_ENCODING,
        )

    def decode_point(self, data: bytes, *, allow_identity: bool = False) -> Point:
        """Compressed SEC1 only (02/03 prefix, x < p, on the curve); 33 zero bytes is the identity."""
        if not isinstance(data, bytes):
            raise InvalidPoint(f"expected bytes, got {type(data).__name__}")
        if len(data) != 33:
            raise InvalidPoint(f"expected 33 bytes, got {len(data)}")
        if data == IDENTITY_ENCODING:
            if allow_identity:
                return _IDENTITY
            raise InvalidPoint("the identity is not allowed here")
        if data[0] not in (2, 3):
            raise InvalidPoint("prefix must be 02 or 03")
        if int.from_bytes(data[1:], "big") >= FIELD_PRIME:
            raise InvalidPoint("x is not below the field prime")
        pk = ffi.new("secp256k1_pubkey *")
        if not lib.secp256k1_ec_pubkey_parse(_CTX, pk, data, 33):
            raise InvalidPoint("x is not the abscissa of a curve point")
        return _point(pk, data)

    def decode_xonly(self, data: bytes) -> Point:
        """BIP340 lift_x: the point with this x and an even y."""
        if not isinstance(data, bytes):
            raise InvalidPoint(f"expected bytes, got {type(data).__name__}")
        if len(data) != 32:
            raise InvalidPoint(f"expected 32 bytes, got {len(data)}")
        return self.decode_point(b"\x02" + data)

    def encode_uncompressed(self, point: Point) -> bytes:
        """65-byte SEC1 04||x||y; the identity has none."""
        self._require_point(point)
        if point._pk is None:
            raise UsageError("the identity has no uncompressed encoding")
        return _serialize(point._pk, compressed=False)

    def _sum(self, points: list[Point]) -> Point:
        live = [p for p in points if p._pk is not None]
        if not live:
            return _IDENTITY
        if len(live) == 1:
            return live[0]
        return _combine([p._pk for p in live])


SECP256K1 = Secp256k1Group()
