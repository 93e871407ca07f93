"""The codec: deterministic golden bytes, strict decoding, typed errors on any bad input."""

import contextlib
from dataclasses import dataclass

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import wire
from protocol.errors import Bug, EncodingError, UsageError
from protocol.group import ED25519, SECP256K1


@wire.message(0x7F01)
@dataclass(frozen=True, slots=True)
class Plain:
    n: int = wire.field(wire.Nat(64))
    z: int = wire.field(wire.Int(64))
    tag: bytes = wire.field(wire.Bytes(size=2))
    items: tuple = wire.field(wire.Seq(wire.UInt(255), min_len=1, max_len=3))
    name: str = wire.field(wire.Str(8))
    flag: bool = wire.field(wire.Bool())
    extra: int | None = wire.field(wire.Optional(wire.UInt()))


@wire.message(0x7F02)
@dataclass(frozen=True, slots=True)
class WithGroup:
    point: object = wire.field(wire.PointField())
    scalar: object = wire.field(wire.ScalarField())
    inner: Plain = wire.field(wire.Nested(Plain))


PLAIN = Plain(n=258, z=-5, tag=b"ab", items=(1, 2), name="hi", flag=True, extra=None)


def test_golden_bytes_plain():
    # [1, 0x7f01, 0, b"\x01\x02", b"\x01\x05", b"ab", [1, 2], "hi", true, nil]
    assert wire.encode(PLAIN).hex() == "9a01cd7f0100c4020102c4020105c4026162920102a26869c3c0"


def test_golden_bytes_with_group():
    msg = WithGroup(point=SECP256K1.generator, scalar=SECP256K1.scalar(1), inner=PLAIN)
    encoded = wire.encode(msg, SECP256K1)
    assert encoded.hex() == (
        "9601cd7f0201c421"
        "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
        "c420" + "00" * 31 + "01"
        "97c4020102c4020105c4026162920102a26869c3c0"
    )
    assert wire.decode(encoded, WithGroup, SECP256K1) == msg


def test_round_trip_both_groups():
    for group in (SECP256K1, ED25519):
        msg = WithGroup(point=group.base_mul(7), scalar=group.scalar(-3), inner=PLAIN)
        assert wire.decode(wire.encode(msg, group), WithGroup, group) == msg


def test_zero_and_large_integers_round_trip():
    msg = Plain(n=0, z=0, tag=b"xy", items=(0,), name="", flag=False, extra=2**32 - 1)
    assert wire.decode(wire.encode(msg), Plain) == msg
    big = Plain(n=2**64 - 1, z=-(2**64 - 1), tag=b"xy", items=(255,), name="", flag=False, extra=0)
    assert wire.decode(wire.encode(big), Plain) == big


def _raw(fields, header=(1, 0x7F01, 0)):
    return msgpack.packb([*header, *fields], use_bin_type=True)


GOOD_FIELDS = [b"\x01\x02", b"\x01\x05", b"ab", [1, 2], "hi", True, None]


def _with(index, value):
    fields = list(GOOD_FIELDS)
    fields[index] = value
    return _raw(fields)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (_raw(GOOD_FIELDS, header=(2, 0x7F01, 0)), "version"),
        (_raw(GOOD_FIELDS, header=(1, 0x7F02, 0)), "type id"),
        (_raw(GOOD_FIELDS, header=(1, 0x7F01, 1)), "suite on group-free message"),
        (_raw(GOOD_FIELDS, header=(True, 0x7F01, 0)), "bool version"),
        (_raw(GOOD_FIELDS[:-1]), "missing field"),
        (_raw([*GOOD_FIELDS, 1]), "extra field"),
        (_with(0, b"\x00\x01\x02"), "leading zero"),
        (_with(0, b"\x01" * 9), "integer over its bound"),
        (_with(0, 258), "integer as msgpack int"),
        (_with(1, b"\x01"), "negative zero"),
        (_with(1, b"\x02\x05"), "bad sign byte"),
        (_with(1, b""), "empty signed integer"),
        (_with(2, b"abc"), "wrong fixed size"),
        (_with(3, []), "sequence under minimum"),
        (_with(3, [1, 2, 3, 4]), "sequence over maximum"),
        (_with(3, [256]), "small integer over bound"),
        (_with(3, [-1]), "negative small integer"),
        (_with(3, [True]), "bool as small integer"),
        (_with(4, "toolongname"), "string over bound"),
        (_with(4, b"hi"), "bytes for string"),
        (_with(5, 1), "int for bool"),
        (msgpack.packb({"a": 1}), "map"),
        (msgpack.packb(5), "not an array"),
        (wire.encode(PLAIN) + b"\x00", "trailing byte"),
        (wire.encode(PLAIN)[:-1], "truncated"),
        (b"", "empty"),
        (b"\xc1", "reserved msgpack byte"),
    ],
)
def test_strict_decoding_rejects(data, why):
    with pytest.raises(EncodingError):
        wire.decode(data, Plain)


def test_non_minimal_msgpack_form_is_rejected():
    canonical = wire.encode(PLAIN)
    # the version 1 as uint8 (0xcc 0x01) instead of a positive fixint
    padded = canonical[:1] + b"\xcc\x01" + canonical[2:]
    assert msgpack.unpackb(padded)[0] == 1
    with pytest.raises(EncodingError, match="non-canonical"):
        wire.decode(padded, Plain)


def test_group_mismatch_is_rejected():
    msg = WithGroup(point=ED25519.base_mul(2), scalar=ED25519.scalar(1), inner=PLAIN)
    data = wire.encode(msg, ED25519)
    with pytest.raises(EncodingError):
        wire.decode(data, WithGroup, SECP256K1)
    with pytest.raises(EncodingError):
        wire.decode(data[:3] + b"\x09" + data[4:], WithGroup)      # unknown suite id


def test_identity_point_is_rejected_where_not_allowed():
    msg = WithGroup(point=SECP256K1.generator, scalar=SECP256K1.scalar(1), inner=PLAIN)
    data = bytearray(wire.encode(msg, SECP256K1))
    data[8:8 + 33] = b"\x00" * 33          # the identity's encoding, in the point field
    with pytest.raises(EncodingError):
        wire.decode(bytes(data), WithGroup, SECP256K1)
    with pytest.raises(UsageError):
        wire.encode(WithGroup(point=SECP256K1.identity, scalar=SECP256K1.scalar(1), inner=PLAIN), SECP256K1)


def test_oversized_input_is_rejected_before_parsing():
    with pytest.raises(EncodingError, match="exceeds"):
        wire.decode(b"\x90" * 100, Plain, max_size=64)


def test_encode_refuses_out_of_range_values():
    with pytest.raises(UsageError):
        wire.encode(Plain(n=-1, z=0, tag=b"ab", items=(1,), name="", flag=True, extra=None))
    with pytest.raises(UsageError):
        wire.encode(Plain(n=2**64, z=0, tag=b"ab", items=(1,), name="", flag=True, extra=None))
    with pytest.raises(UsageError):
        wire.encode(WithGroup(point=SECP256K1.generator, scalar=SECP256K1.scalar(1), inner=PLAIN))


def test_registry_refuses_duplicates_and_unannotated_fields():
    with pytest.raises(Bug):
        @wire.message(0x7F01)
        @dataclass(frozen=True, slots=True)
        class Again:
            n: int = wire.field(wire.Nat(8))

    with pytest.raises(Bug):
        @wire.message(0x7F03)
        @dataclass(frozen=True, slots=True)
        class NoCodec:
            n: int


@settings(max_examples=400)
@given(st.binary(max_size=200))
def test_random_bytes_only_ever_raise_encoding_error(data):
    for cls, group in ((Plain, None), (WithGroup, SECP256K1), (WithGroup, ED25519)):
        with contextlib.suppress(EncodingError):
            wire.decode(data, cls, group)


@settings(max_examples=300)
@given(st.data())
def test_mutated_valid_messages_only_ever_raise_encoding_error(data):
    group = data.draw(st.sampled_from([SECP256K1, ED25519]))
    msg = WithGroup(point=group.base_mul(11), scalar=group.scalar(5), inner=PLAIN)
    encoded = bytearray(wire.encode(msg, group))
    position = data.draw(st.integers(0, len(encoded) - 1))
    encoded[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(encoded)))
    try:
        decoded = wire.decode(bytes(encoded[:cut]), WithGroup, group)
    except EncodingError:
        return
    assert wire.encode(decoded, group) == bytes(encoded[:cut])
