"""The interface of a prime-order group: scalars modulo q and points.

Each curve module subclasses ``Group``, ``Scalar`` and ``Point`` once and creates
exactly one group. Scalars and points find their group through a class attribute,
so checking "same group" is one type test, and mixing groups raises ``UsageError``.

The identity is an ordinary value here. coincurve cannot hold it and libsodium's
multiplications refuse it (as input, as result, and for a zero scalar), so each
curve module special-cases it before any library call; protocol code never sees a
library error for a legitimate identity.

Scalar arithmetic is plain Python integers modulo q: for 256-bit values this costs
a fraction of a microsecond, far below any point operation.
"""

from __future__ import annotations

from abc import ABC, ABCMeta, abstractmethod
from collections.abc import Iterable

import gmpy2

from protocol.errors import InvalidScalar, UsageError
from protocol.rng import Rng, randbelow

# gmpy2 results (Paillier, CRT) are used as scalars directly, so mpz counts as an integer.
INTEGERS = (int, type(gmpy2.mpz(0)))

# Instances block __new__ and __setattr__; constructors and caches use these instead.
_alloc = object.__new__
freeze_set = object.__setattr__


class _Frozen:
    __slots__ = ()

    def __new__(cls, *args: object, **kwargs: object):
        raise UsageError(f"create a {cls.__name__} through its Group, not directly")

    def __setattr__(self, name: str, value: object) -> None:
        raise UsageError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise UsageError(f"{type(self).__name__} is immutable")


def scalar_value(group: Group, k: object) -> int | None:
    """The integer in [0, q) that ``k`` stands for, or None if ``k`` is not scalar-like."""
    if isinstance(k, Scalar):
        if k.group is not group:
            raise UsageError(f"a {k.group.name} scalar used with the {group.name} group")
        return k.value
    if isinstance(k, INTEGERS):
        return int(k) % group.order
    return None


class Scalar(_Frozen):
    """An element of Z_q. Immutable; its value never appears in repr or str."""

    __slots__ = ("value",)
    group: Group  # class attribute, set by the group that owns the subclass

    @classmethod
    def _new(cls, value: int) -> Scalar:
        # value must already be reduced into [0, q).
        s = _alloc(cls)
        freeze_set(s, "value", value)
        return s

    # The arithmetic below is written out per operator (no shared helper call) because
    # scalar operations run in every proof's inner loops.
    def __add__(self, other: object) -> Scalar:
        cls = type(self)
        if type(other) is cls:
            v = other.value
        elif (v := scalar_value(cls.group, other)) is None:
            return NotImplemented
        s = _alloc(cls)
        freeze_set(s, "value", (self.value + v) % cls.group.order)
        return s

    __radd__ = __add__

    def __sub__(self, other: object) -> Scalar:
        cls = type(self)
        if type(other) is cls:
            v = other.value
        elif (v := scalar_value(cls.group, other)) is None:
            return NotImplemented
        s = _alloc(cls)
        freeze_set(s, "value", (self.value - v) % cls.group.order)
        return s

    def __rsub__(self, other: object) -> Scalar:
        cls = type(self)
        if (v := scalar_value(cls.group, other)) is None:
            return NotImplemented
        s = _alloc(cls)
        freeze_set(s, "value", (v - self.value) % cls.group.order)
        return s

    def __mul__(self, other: object) -> Scalar:
        # A Point operand returns NotImplemented here and is handled by Point.__rmul__.
        cls = type(self)
        if type(other) is cls:
            v = other.value
        elif (v := scalar_value(cls.group, other)) is None:
            return NotImplemented
        s = _alloc(cls)
        freeze_set(s, "value", self.value * v % cls.group.order)
        return s

    __rmul__ = __mul__

    def __neg__(self) -> Scalar:
        return self._new(-self.value % self.group.order)

    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return self.value == other.value
        if isinstance(other, Scalar):
            return False
        if isinstance(other, INTEGERS):
            return self.value == int(other) % self.group.order
        return NotImplemented

    def __hash__(self) -> int:
        # Equal to hash(int) for the canonical value, consistent with == against ints.
        return hash(self.value)

    def inverse(self) -> Scalar:
        if self.value == 0:
            raise UsageError("zero has no inverse")
        return self._new(int(gmpy2.invert(self.value, self.group.order)))

    def is_zero(self) -> bool:
        return self.value == 0

    def encode(self) -> bytes:
        return self.value.to_bytes(self.group.scalar_size, self.group.scalar_byteorder)

    def __int__(self) -> int:
        return self.value

    def __repr__(self) -> str:
        return f"Scalar({self.group.name}, <redacted>)"

    def __reduce__(self) -> tuple:
        return (self.group.scalar, (self.value,))


class Point(_Frozen, metaclass=ABCMeta):
    """An element of the prime-order group. Immutable and hashable by its encoding."""

    __slots__ = ()
    group: Group  # class attribute, set by the group that owns the subclass

    @abstractmethod
    def encode(self) -> bytes:
        """The canonical fixed-size encoding (the identity included)."""

    @abstractmethod
    def is_identity(self) -> bool:
        """True for the neutral element."""

    @abstractmethod
    def __add__(self, other: object) -> Point:
        """Group addition; a Point of another group raises UsageError."""

    @abstractmethod
    def __neg__(self) -> Point:
        """The inverse element."""

    @abstractmethod
    def _mul(self, k: int) -> Point:
        """k * self for an integer k already reduced into [0, q)."""

    def _check_same_group(self, other: object) -> bool:
        """True for a point of this group; False for a non-point; raises for another group."""
        if type(other) is type(self):
            return True
        if isinstance(other, Point):
            raise UsageError(f"a {other.group.name} point used with the {self.group.name} group")
        return False

    def __sub__(self, other: object) -> Point:
        if not self._check_same_group(other):
            return NotImplemented
        return self + (-other)

    def __mul__(self, k: object) -> Point:
        v = scalar_value(self.group, k)
        if v is None:
            return NotImplemented
        return self._mul(v)

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return self.encode() == other.encode()
        if isinstance(other, Point):
            return False
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.encode())

    def __repr__(self) -> str:
        return f"Point({self.group.name}, {self.encode().hex()})"

    def __reduce__(self) -> tuple:
        return (self.group.decode_any_point, (self.encode(),))

    # BIP340 / ECDSA helpers exist only on secp256k1; the curve module overrides them.
    def x(self) -> int:
        raise UsageError(f"{self.group.name} points have no affine x accessor")

    def has_even_y(self) -> bool:
        raise UsageError(f"{self.group.name} points have no y parity")

    def encode_xonly(self) -> bytes:
        raise UsageError(f"{self.group.name} points have no x-only encoding")


class Group(ABC):
    """One prime-order group. Exactly one instance exists per curve; it is immutable."""

    __slots__ = (
        "name",
        "suite_id",
        "order",
        "scalar_size",
        "point_size",
        "scalar_byteorder",
        "identity",
        "generator",
        "_scalar_type",
    )

    def __init__(
        self,
        *,
        name: str,
        suite_id: int,
        order: int,
        point_size: int,
        scalar_byteorder: str,
        scalar_type: type[Scalar],
        point_type: type[Point],
        identity_encoding: bytes,
        generator_encoding: bytes,
    ) -> None:
        for attr, value in (
            ("name", name),
            ("suite_id", suite_id),
            ("order", order),
            ("scalar_size", 32),
            ("point_size", point_size),
            ("scalar_byteorder", scalar_byteorder),
            ("_scalar_type", scalar_type),
        ):
            freeze_set(self, attr, value)
        scalar_type.group = self
        point_type.group = self
        freeze_set(self, "identity", self.decode_point(identity_encoding, allow_identity=True))
        freeze_set(self, "generator", self.decode_point(generator_encoding))

    def __setattr__(self, name: str, value: object) -> None:
        raise UsageError("Group is immutable")

    def __repr__(self) -> str:
        return f"Group({self.name})"

    def __reduce__(self) -> str:
        # Pickle and deepcopy resolve to the module-level singleton (SECP256K1, ED25519).
        return self.name.upper()

    # --- scalars -------------------------------------------------------------

    def scalar(self, value: int | Scalar) -> Scalar:
        """The scalar ``value mod q``; accepts any integer (negative too) or a Scalar of this group."""
        v = scalar_value(self, value)
        if v is None:
            raise UsageError(f"cannot make a scalar from {type(value).__name__}")
        return self._scalar_type._new(v)

    def decode_scalar(self, data: bytes) -> Scalar:
        """Strict: exactly ``scalar_size`` bytes holding a value below q."""
        if not isinstance(data, bytes):
            raise InvalidScalar(f"expected bytes, got {type(data).__name__}")
        if len(data) != self.scalar_size:
            raise InvalidScalar(f"expected {self.scalar_size} bytes, got {len(data)}")
        value = int.from_bytes(data, self.scalar_byteorder)
        if value >= self.order:
            raise InvalidScalar("scalar is not below the group order")
        return self._scalar_type._new(value)

    def random_scalar(self, rng: Rng) -> Scalar:
        """Uniform in [0, q) by rejection sampling."""
        return self._scalar_type._new(int(randbelow(rng, self.order)))

    def random_nonzero_scalar(self, rng: Rng) -> Scalar:
        """Uniform in [1, q)."""
        while True:
            s = self.random_scalar(rng)
            if s.value:
                return s

    # --- points --------------------------------------------------------------

    def base_mul(self, k: Scalar | int) -> Point:
        """k * G."""
        v = scalar_value(self, k)
        if v is None:
            raise UsageError(f"cannot multiply by {type(k).__name__}")
        return self.generator._mul(v)

    def multi_mul(self, scalars: Iterable[Scalar | int], points: Iterable[Point]) -> Point:
        """sum k_i * P_i; zero scalars, identity points and cancelling terms are all fine."""
        scalars = list(scalars)
        points = list(points)
        if len(scalars) != len(points):
            raise UsageError(f"{len(scalars)} scalars but {len(points)} points")
        terms = []
        for k, p in zip(scalars, points, strict=True):
            v = scalar_value(self, k)
            if v is None:
                raise UsageError(f"cannot multiply by {type(k).__name__}")
            self._require_point(p)
            terms.append(p._mul(v))
        return self.sum_points(terms)

    def sum_points(self, points: Iterable[Point]) -> Point:
        """The sum of any number of points of this group (the identity when empty)."""
        points = list(points)
        for p in points:
            self._require_point(p)
        return self._sum(points)

    def decode_any_point(self, data: bytes) -> Point:
        """decode_point with the identity allowed (used by unpickling)."""
        return self.decode_point(data, allow_identity=True)

    def _require_point(self, p: object) -> None:
        if not isinstance(p, Point):
            raise UsageError(f"expected a Point, got {type(p).__name__}")
        if p.group is not self:
            raise UsageError(f"a {p.group.name} point used with the {self.name} group")

    @abstractmethod
    def decode_point(self, data: bytes, *, allow_identity: bool = False) -> Point:
        """Strict decoding; raises InvalidPoint on anything but a canonical group element."""

    @abstractmethod
    def _sum(self, points: list[Point]) -> Point:
        """Sum of points already checked to belong to this group."""
