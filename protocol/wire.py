"""The one codec for everything tssnet puts on the wire or on disk.

A message is a frozen dataclass registered with a type id; each field declares a
codec with size bounds. The encoding is a msgpack array::

    [WIRE_VERSION, type_id, suite_id, field_1, field_2, ...]

``suite_id`` names the group whose points and scalars the message carries (0 for
none). Big integers travel as msgpack ``bin``: minimal big-endian magnitude, with a
leading sign byte for signed fields. Decoding is strict: the whole input must be
one array, every field must be within its bounds, and re-encoding the result must
give back the input byte for byte, so every value has exactly one encoding and no
non-minimal msgpack form slips through. Every failure is an ``EncodingError``.

Type ids: 0x01xx zero-knowledge proofs, 0x02xx CGGMP21, 0x03xx FROST,
0x04xx ledger, 0x05xx daemon and storage records, 0x06xx the session channel.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import gmpy2
import msgpack

from protocol.errors import Bug, EncodingError, UsageError
from protocol.group import Group, group_by_suite_id

WIRE_VERSION = 1
MAX_MESSAGE_BYTES = 8 * 1024 * 1024

T = TypeVar("T")

_MPZ = type(gmpy2.mpz(0))
_REGISTRY: dict[int, type] = {}


class Codec:
    """Converts one field between its Python value and a msgpack-native value."""

    needs_group = False

    def encode(self, value: Any, group: Group | None) -> Any:
        raise Bug("codec without encode")

    def decode(self, raw: Any, group: Group | None) -> Any:
        raise Bug("codec without decode")


def _expect(raw: Any, kind: type, what: str) -> None:
    # bool is an int subclass in Python; on the wire it is never a number.
    if not isinstance(raw, kind) or isinstance(raw, bool):
        raise EncodingError(f"{what}: expected {getattr(kind, '__name__', kind)}, got {type(raw).__name__}")


class Nat(Codec):
    """A non-negative integer below 2^max_bits; minimal big-endian bytes, zero is empty."""

    def __init__(self, max_bits: int) -> None:
        self.max_bits = max_bits

    def encode(self, value: Any, group: Group | None) -> bytes:
        value = int(value)
        if value < 0 or value.bit_length() > self.max_bits:
            raise UsageError(f"integer outside [0, 2^{self.max_bits})")
        return value.to_bytes((value.bit_length() + 7) // 8, "big")

    def decode(self, raw: Any, group: Group | None) -> gmpy2.mpz:
        _expect(raw, bytes, "integer")
        if len(raw) > (self.max_bits + 7) // 8:
            raise EncodingError(f"integer longer than {self.max_bits} bits")
        if raw[:1] == b"\x00":
            raise EncodingError("integer with a leading zero byte")
        value = gmpy2.mpz(int.from_bytes(raw, "big"))
        if value.bit_length() > self.max_bits:
            raise EncodingError(f"integer longer than {self.max_bits} bits")
        return value


class Int(Codec):
    """A signed integer with |value| < 2^max_bits: a sign byte then the minimal magnitude."""

    def __init__(self, max_bits: int) -> None:
        self.magnitude = Nat(max_bits)

    def encode(self, value: Any, group: Group | None) -> bytes:
        value = int(value)
        return (b"\x01" if value < 0 else b"\x00") + self.magnitude.encode(abs(value), group)

    def decode(self, raw: Any, group: Group | None) -> gmpy2.mpz:
        _expect(raw, bytes, "signed integer")
        if not raw or raw[0] not in (0, 1):
            raise EncodingError("signed integer without a valid sign byte")
        magnitude = self.magnitude.decode(raw[1:], group)
        if raw[0] == 1 and magnitude == 0:
            raise EncodingError("negative zero")
        return -magnitude if raw[0] == 1 else magnitude


class UInt(Codec):
    """A small non-negative integer (party index, round, counter) as a msgpack int."""

    def __init__(self, max_value: int = 2**32 - 1) -> None:
        self.max_value = max_value

    def encode(self, value: Any, group: Group | None) -> int:
        if isinstance(value, bool) or not 0 <= int(value) <= self.max_value:
            raise UsageError(f"small integer outside [0, {self.max_value}]")
        return int(value)

    def decode(self, raw: Any, group: Group | None) -> int:
        _expect(raw, int, "small integer")
        if not 0 <= raw <= self.max_value:
            raise EncodingError(f"small integer outside [0, {self.max_value}]")
        return raw


class Bool(Codec):
    def encode(self, value: Any, group: Group | None) -> bool:
        if not isinstance(value, bool):
            raise UsageError("expected a bool")
        return value

    def decode(self, raw: Any, group: Group | None) -> bool:
        if not isinstance(raw, bool):
            raise EncodingError("expected a bool")
        return raw


class Bytes(Codec):
    """A byte string of an exact ``size``, or of ``min_size``..``max_size`` bytes."""

    def __init__(self, *, size: int | None = None, min_size: int = 0, max_size: int = 1024) -> None:
        self.min_size, self.max_size = (size, size) if size is not None else (min_size, max_size)

    def _check(self, value: bytes, error: type[Exception]) -> bytes:
        if not self.min_size <= len(value) <= self.max_size:
            raise error(f"byte string of {len(value)} bytes, expected {self.min_size}..{self.max_size}")
        return value

    def encode(self, value: Any, group: Group | None) -> bytes:
        if not isinstance(value, bytes):
            raise UsageError("expected bytes")
        return self._check(value, UsageError)

    def decode(self, raw: Any, group: Group | None) -> bytes:
        _expect(raw, bytes, "byte string")
        return self._check(raw, EncodingError)


class Str(Codec):
    def __init__(self, max_len: int = 256) -> None:
        self.max_len = max_len

    def encode(self, value: Any, group: Group | None) -> str:
        if not isinstance(value, str) or len(value.encode()) > self.max_len:
            raise UsageError(f"expected a string of at most {self.max_len} bytes")
        return value

    def decode(self, raw: Any, group: Group | None) -> str:
        _expect(raw, str, "string")
        if len(raw.encode()) > self.max_len:
            raise EncodingError(f"string longer than {self.max_len} bytes")
        return raw


class ScalarField(Codec):
    """A scalar of the message's group, in the group's canonical encoding."""

    needs_group = True

    def encode(self, value: Any, group: Group | None) -> bytes:
        if value.group is not group:
            raise UsageError("scalar of another group")
        return value.encode()

    def decode(self, raw: Any, group: Group | None):
        _expect(raw, bytes, "scalar")
        return group.decode_scalar(raw)


class PointField(Codec):
    """A point of the message's group; the identity only where ``allow_identity``."""

    needs_group = True

    def __init__(self, *, allow_identity: bool = False) -> None:
        self.allow_identity = allow_identity

    def encode(self, value: Any, group: Group | None) -> bytes:
        if value.group is not group:
            raise UsageError("point of another group")
        if value.is_identity() and not self.allow_identity:
            raise UsageError("identity point where none is allowed")
        return value.encode()

    def decode(self, raw: Any, group: Group | None):
        _expect(raw, bytes, "point")
        return group.decode_point(raw, allow_identity=self.allow_identity)


class Seq(Codec):
    """A tuple of ``min_len``..``max_len`` items of one codec."""

    def __init__(self, item: Codec, *, min_len: int = 0, max_len: int = 256) -> None:
        self.item, self.min_len, self.max_len = item, min_len, max_len
        self.needs_group = item.needs_group

    def _check_len(self, n: int, error: type[Exception]) -> None:
        if not self.min_len <= n <= self.max_len:
            raise error(f"sequence of {n} items, expected {self.min_len}..{self.max_len}")

    def encode(self, value: Any, group: Group | None) -> list:
        value = tuple(value)
        self._check_len(len(value), UsageError)
        return [self.item.encode(v, group) for v in value]

    def decode(self, raw: Any, group: Group | None) -> tuple:
        _expect(raw, tuple, "sequence")
        self._check_len(len(raw), EncodingError)
        return tuple(self.item.decode(v, group) for v in raw)


class Optional(Codec):
    """A value of ``inner`` or None (msgpack nil)."""

    def __init__(self, inner: Codec) -> None:
        self.inner = inner
        self.needs_group = inner.needs_group

    def encode(self, value: Any, group: Group | None) -> Any:
        return None if value is None else self.inner.encode(value, group)

    def decode(self, raw: Any, group: Group | None) -> Any:
        return None if raw is None else self.inner.decode(raw, group)


class Nested(Codec):
    """A registered message embedded as a field (its fields only, no header)."""

    def __init__(self, cls: type) -> None:
        if cls not in _REGISTRY.values():
            raise Bug(f"{cls.__name__} is not a registered wire message")
        self.cls = cls
        self.needs_group = cls.__wire_needs_group__

    def encode(self, value: Any, group: Group | None) -> list:
        if type(value) is not self.cls:
            raise UsageError(f"expected {self.cls.__name__}")
        return _encode_fields(value, group)

    def decode(self, raw: Any, group: Group | None) -> Any:
        _expect(raw, tuple, self.cls.__name__)
        return _decode_fields(self.cls, raw, group)


def field(codec: Codec, **kwargs):
    """Declare a message field with its codec: ``x: int = wire.field(wire.Nat(4096))``."""
    return dataclasses.field(metadata={"wire": codec}, **kwargs)


def message(type_id: int):
    """Register a frozen dataclass as a wire message with a unique type id."""

    def register(cls: type[T]) -> type[T]:
        if not dataclasses.is_dataclass(cls) or not cls.__dataclass_params__.frozen:
            raise Bug(f"{cls.__name__} must be a frozen dataclass")
        if type_id in _REGISTRY:
            raise Bug(f"wire type id {type_id:#06x} used by {_REGISTRY[type_id].__name__} and {cls.__name__}")
        codecs = []
        for f in dataclasses.fields(cls):
            if "wire" not in f.metadata:
                raise Bug(f"{cls.__name__}.{f.name} has no wire codec")
            codecs.append((f.name, f.metadata["wire"]))
        cls.__wire_type_id__ = type_id
        cls.__wire_codecs__ = tuple(codecs)
        cls.__wire_needs_group__ = any(c.needs_group for _, c in codecs)
        _REGISTRY[type_id] = cls
        return cls

    return register


def _encode_fields(msg: Any, group: Group | None) -> list:
    return [codec.encode(getattr(msg, name), group) for name, codec in type(msg).__wire_codecs__]


def _decode_fields(cls: type[T], raw: tuple, group: Group | None) -> T:
    codecs = cls.__wire_codecs__
    if len(raw) != len(codecs):
        raise EncodingError(f"{cls.__name__}: {len(raw)} fields, expected {len(codecs)}")
    values = {name: codec.decode(item, group) for (name, codec), item in zip(codecs, raw, strict=True)}
    return cls(**values)


def encode(msg: Any, group: Group | None = None) -> bytes:
    """The canonical bytes of a registered message (``group`` for messages with points/scalars)."""
    cls = type(msg)
    if not hasattr(cls, "__wire_type_id__"):
        raise UsageError(f"{cls.__name__} is not a wire message")
    if cls.__wire_needs_group__ and group is None:
        raise UsageError(f"{cls.__name__} carries group elements: pass its group")
    suite = group.suite_id if cls.__wire_needs_group__ else 0
    body = [WIRE_VERSION, cls.__wire_type_id__, suite, *_encode_fields(msg, group)]
    return msgpack.packb(body, use_bin_type=True)


def decode(data: bytes, expected: type[T], group: Group | None = None,
           *, max_size: int = MAX_MESSAGE_BYTES) -> T:
    """Decode bytes that must hold one ``expected`` message; EncodingError on anything else.

    ``group`` is the group the caller expects (for example the key's curve); a
    message whose suite id names another group is refused.
    """
    if not isinstance(data, bytes | bytearray):
        raise EncodingError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_size:
        raise EncodingError(f"message of {len(data)} bytes exceeds {max_size}")
    try:
        raw = msgpack.unpackb(
            data, raw=False, use_list=False, strict_map_key=True, max_map_len=0, max_ext_len=0,
            max_bin_len=max_size, max_str_len=max_size, max_array_len=max_size,
        )
    except (msgpack.UnpackException, ValueError, TypeError, OverflowError) as exc:
        raise EncodingError(f"not a msgpack message: {exc}") from None
    if not isinstance(raw, tuple) or len(raw) < 3:
        raise EncodingError("message is not a [version, type, suite, ...] array")
    version, type_id, suite = raw[:3]
    if version != WIRE_VERSION or isinstance(version, bool):
        raise EncodingError(f"unsupported wire version {version!r}")
    if type_id != getattr(expected, "__wire_type_id__", None) or isinstance(type_id, bool):
        raise EncodingError(f"expected {expected.__name__}, got type id {type_id!r}")
    group = _message_group(expected, suite, group)
    try:
        msg = _decode_fields(expected, raw[3:], group)
    except EncodingError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        # A message's own __post_init__ validation speaks in ValueError.
        raise EncodingError(f"{expected.__name__}: {exc}") from None
    try:
        canonical = encode(msg, group)
    except UsageError as exc:
        raise EncodingError(f"{expected.__name__}: {exc}") from None
    if canonical != data:
        raise EncodingError(f"{expected.__name__}: non-canonical encoding")
    return msg


def decode_one_of(data: bytes, choices: tuple[type, ...], group: Group | None = None,
                  *, max_size: int = MAX_MESSAGE_BYTES) -> Any:
    """Decode bytes that must hold a message of one of ``choices``, chosen by its type id."""
    by_id = {cls.__wire_type_id__: cls for cls in choices}
    if not isinstance(data, bytes | bytearray) or len(data) < 3:
        raise EncodingError("not a message")
    # A message is a msgpack array whose first two items are small positive ints:
    # version and type id. Read them with a streaming unpacker so the body is not parsed twice.
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=max_size)
    unpacker.feed(bytes(data[:32]))
    try:
        unpacker.read_array_header()
        unpacker.unpack()
        type_id = unpacker.unpack()
    except (msgpack.UnpackException, ValueError, TypeError, msgpack.OutOfData):
        raise EncodingError("message header does not decode") from None
    cls = by_id.get(type_id) if isinstance(type_id, int) and not isinstance(type_id, bool) else None
    if cls is None:
        raise EncodingError(f"type id {type_id!r} is none of {sorted(by_id)}")
    return decode(data, cls, group, max_size=max_size)


def _message_group(expected: type, suite: Any, group: Group | None) -> Group | None:
    if not expected.__wire_needs_group__:
        if suite != 0 or isinstance(suite, bool):
            raise EncodingError("suite id on a message without group elements")
        return None
    if not isinstance(suite, int) or isinstance(suite, bool):
        raise EncodingError("suite id is not an integer")
    try:
        found = group_by_suite_id(suite)
    except (KeyError, ValueError, UsageError):
        raise EncodingError(f"unknown suite id {suite}") from None
    if group is not None and found is not group:
        raise EncodingError(f"message for suite {found.name}, expected {group.name}")
    return found
