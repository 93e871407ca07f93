"""Shared helpers for proof tests: generic tampering and decoder fuzzing.

Nothing here knows a particular proof. ``tampered_variants`` walks the fields of
any frozen dataclass (a proof, or a message holding proofs) and yields one altered
copy per alteration; ``assert_all_rejected`` runs a verifier over them. The fuzz
strategies mutate a valid encoding at the byte level and at the field level, and
``decode_strictly`` states the codec's contract: any input either decodes to a
message that re-encodes to the same bytes, or raises ``EncodingError``.
``junk_for``, ``malformed_values`` and ``malformed_encodings`` read a message's
field codecs and derive what each field must refuse.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from functools import cache

import gmpy2
import msgpack
from hypothesis import strategies as st

from protocol import wire
from protocol.errors import EncodingError, InvalidProof
from protocol.group import ED25519, SECP256K1, Point, Scalar, group_by_suite_id

_MPZ = type(gmpy2.mpz(0))


def _sample_indices(length: int, limit: int | None) -> list[int]:
    if limit is None or length <= limit:
        return list(range(length))
    if limit <= 1:
        return [0]
    # Evenly spread, always including the first and the last element.
    return sorted({round(i * (length - 1) / (limit - 1)) for i in range(limit)})


def _int_alterations(value: int) -> Iterator[tuple[str, int]]:
    v = int(value)
    mask = 1 << max(1, v.bit_length() // 2)
    yield from (("+1", v + 1), ("-1", v - 1), ("=0", 0), ("negated", -v), ("replaced", v ^ mask))


def _point_alterations(value: Point) -> Iterator[tuple[str, Point]]:
    g = value.group.generator
    yield from (("+G", value + g), ("=G", g), ("negated", -value),
                ("=identity", value.group.identity))


def _scalar_alterations(value: Scalar) -> Iterator[tuple[str, Scalar]]:
    yield from (("+1", value + 1), ("negated", -value), ("=0", value.group.scalar(0)))


def _seq_alterations(value: tuple | list, limit: int | None) -> Iterator[tuple[str, object]]:
    kind = type(value)
    for i in _sample_indices(len(value), limit):
        for label, altered in alterations(value[i], seq_limit=limit):
            items = list(value)
            items[i] = altered
            yield f"[{i}]{label}", kind(items)
    if value:
        yield "[:-1]", kind(list(value)[:-1])
        yield "+dup", kind([*value, value[-1]])


def _same(a: object, b: object) -> bool:
    ints = (int, _MPZ)
    if isinstance(a, ints) and isinstance(b, ints):
        return isinstance(a, bool) == isinstance(b, bool) and a == b
    return type(a) is type(b) and a == b


def alterations(value: object, *, seq_limit: int | None = None) -> Iterator[tuple[str, object]]:
    """(label, altered value) pairs for one field value; each altered value differs from it.

    ints (and mpz) ±1, 0, negated, a bit flipped; points + G, = G, negated, identity;
    scalars + 1, negated, 0; bytes with a bit flipped; sequences per element (at most
    ``seq_limit`` elements, spread out) plus one shorter and one longer; nested
    dataclasses field by field. A label never repeats and no value equals the original.
    """
    if value is None:
        return
    if isinstance(value, bool):
        candidates = iter((("negated", not value),))
    elif isinstance(value, int | _MPZ):
        candidates = _int_alterations(value)
    elif isinstance(value, Point):
        candidates = _point_alterations(value)
    elif isinstance(value, Scalar):
        candidates = _scalar_alterations(value)
    elif isinstance(value, bytes):
        candidates = iter((("bitflip", value[:-1] + bytes((value[-1] ^ 1,))) if value
                           else ("=00", b"\x00"),))
    elif isinstance(value, str):
        candidates = iter((("+x", value + "x"),))
    elif isinstance(value, tuple | list):
        candidates = _seq_alterations(value, seq_limit)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        candidates = ((f".{label}", altered) for label, altered
                      in tampered_variants(value, seq_limit=seq_limit))
    else:
        raise TypeError(f"no alterations known for {type(value).__name__}")
    seen: list[object] = [value]
    for label, altered in candidates:
        if any(_same(altered, s) for s in seen):
            continue
        seen.append(altered)
        yield label, altered


def tampered_variants(obj: object, *, seq_limit: int | None = None) -> Iterator[tuple[str, object]]:
    """(field label, copy of ``obj`` with that one field altered) for every field of a dataclass."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError("tampered_variants needs a dataclass instance")
    for f in dataclasses.fields(obj):
        for label, altered in alterations(getattr(obj, f.name), seq_limit=seq_limit):
            yield f.name + label, dataclasses.replace(obj, **{f.name: altered})


def replace_at(obj: object, name: str, index: int, value: object) -> object:
    """A copy of ``obj`` whose sequence field ``name`` holds ``value`` at ``index``."""
    items = list(getattr(obj, name))
    items[index] = value
    return dataclasses.replace(obj, **{name: tuple(items)})


def assert_all_rejected(verify: Callable[[object], None], obj: object, *,
                        seq_limit: int | None = None) -> int:
    """Every tampered variant must raise InvalidProof (any other outcome is listed); returns the count."""
    failures, count = [], 0
    for label, variant in tampered_variants(obj, seq_limit=seq_limit):
        count += 1
        try:
            verify(variant)
        except InvalidProof:
            continue
        except Exception as exc:  # reported below, with the field that caused it
            failures.append(f"{label}: {type(exc).__name__}: {exc}")
        else:
            failures.append(f"{label}: accepted")
    assert not failures, "tampered proofs not rejected with InvalidProof:\n" + "\n".join(failures)
    return count


# -- decoder fuzzing ---------------------------------------------------------------


def decode_strictly(data: object, cls: type, group=None):
    """Decode, allowing only EncodingError; a success must re-encode to exactly ``data``."""
    try:
        msg = wire.decode(data, cls, group)
    except EncodingError:
        return None
    if cls.__wire_needs_group__ and group is None:
        # Decoded without an expected group: the header's suite id chose it.
        group = group_by_suite_id(msgpack.unpackb(data, raw=False)[2])
    assert wire.encode(msg, group if cls.__wire_needs_group__ else None) == data
    return msg


def _replace_field(data: bytes, index: int, replacement: object) -> bytes:
    body = list(msgpack.unpackb(data, raw=False, use_list=True))
    body[3 + index % (len(body) - 3)] = replacement
    return msgpack.packb(body, use_bin_type=True)


# Values a hostile peer might put in place of a field: every msgpack kind, huge integers
# as bytes (past any codec bound), leading zeros, and deep or long containers.
_FIELD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False), st.text(max_size=8), st.binary(max_size=64),
    st.integers(min_value=1, max_value=3000).map(lambda n: b"\x01" * n),
    st.binary(min_size=1, max_size=8).map(lambda b: b"\x00" + b),
    st.lists(st.integers(min_value=0, max_value=255), max_size=4),
    st.sampled_from([513, 1025, 1100]).map(lambda n: b"\xff" * n),
    st.sampled_from([513, 1025]).map(lambda n: b"\x00" + b"\xff" * n),
)


def mutated_encodings(valid: bytes) -> st.SearchStrategy[bytes]:
    """Inputs near ``valid``: truncations, byte flips, insertions, appended junk, a field swapped."""
    n = len(valid)
    truncated = st.integers(min_value=0, max_value=n - 1).map(lambda i: valid[:i])
    flipped = st.tuples(st.integers(0, n - 1), st.integers(1, 255)).map(
        lambda p: valid[:p[0]] + bytes((valid[p[0]] ^ p[1],)) + valid[p[0] + 1:])
    inserted = st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=4)).map(
        lambda p: valid[:p[0]] + p[1] + valid[p[0]:])
    appended = st.binary(min_size=1, max_size=16).map(lambda junk: valid + junk)
    swapped = st.tuples(st.integers(0, 63), _FIELD_VALUES).map(
        lambda p: _replace_field(valid, p[0], p[1]))
    return st.one_of(truncated, flipped, inserted, appended, swapped)


def hostile_inputs(valid: bytes) -> st.SearchStrategy[object]:
    """Mutations of ``valid`` plus unrelated inputs: random bytes, empty input, non-bytes."""
    return st.one_of(
        mutated_encodings(valid), st.binary(max_size=256), st.just(b""),
        st.none(), st.integers(), st.text(max_size=8),
    )


# -- codec-aware malformations -------------------------------------------------------
# A proof's class lists its fields' codecs (``__wire_codecs__``); from them follow the
# values each field must refuse, so the same fuzzing reaches every proof.

_INT64 = st.integers(min_value=-(2**63), max_value=2**64 - 1)
_OTHER_KINDS = st.one_of(st.none(), _INT64, st.floats(allow_nan=False), st.text(max_size=8),
                         st.lists(_INT64, max_size=3))


@cache
def junk_for(codec: wire.Codec) -> st.SearchStrategy[object]:
    """Raw values ``codec`` must refuse: other msgpack kinds, or bytes it cannot take."""
    if isinstance(codec, wire.Bool):
        return st.one_of(_OTHER_KINDS, st.binary(max_size=8))
    if isinstance(codec, wire.Nat):  # a leading zero
        bad = st.binary(min_size=1, max_size=8).map(lambda b: b"\x00" + b)
    elif isinstance(codec, wire.Int):  # a sign byte, then a leading zero
        bad = st.tuples(st.sampled_from([b"\x00", b"\x01"]), st.binary(max_size=8)).map(
            lambda p: p[0] + b"\x00" + p[1])
    else:  # points and scalars: too short for any group; sequences: not an array
        bad = st.binary(max_size=8)
    return st.one_of(_OTHER_KINDS, st.booleans(), bad)


def _big_endian(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def _integer_malformations(codec: wire.Codec, raw: bytes) -> Iterator[tuple[str, object]]:
    if isinstance(codec, wire.Nat):
        yield "over-bound", _big_endian(1 << codec.max_bits)
        yield "over-length", b"\x01" * ((codec.max_bits + 7) // 8 + 1)
        yield "leading-zero", b"\x00" + raw
        return
    bits = codec.magnitude.max_bits
    for sign in (b"\x00", b"\x01"):
        yield f"over-bound-{sign[0]}", sign + _big_endian(1 << bits)
        yield f"over-length-{sign[0]}", sign + b"\x01" * ((bits + 7) // 8 + 1)
    yield "leading-zero", raw[:1] + b"\x00" + raw[1:]
    yield "negative-zero", b"\x01"
    yield "bad-sign-byte", b"\x02" + (raw[1:] or b"\x01")
    yield "no-sign-byte", b""


def malformed_values(codec: wire.Codec, raw: object, group=None) -> Iterator[tuple[str, object]]:
    """(label, raw value) pairs ``codec`` must refuse where it holds ``raw``, a valid value."""
    if isinstance(codec, wire.Nat | wire.Int):
        yield from _integer_malformations(codec, raw)
    elif isinstance(codec, wire.Bool):
        yield from (("int-1", 1), ("int-0", 0), ("bytes", b"\x01"), ("nil", None))
    elif isinstance(codec, wire.PointField | wire.ScalarField):
        yield from (("empty", b""), ("short", raw[:-1]), ("long", raw + b"\x00"),
                    ("all-ff", b"\xff" * len(raw)))
        if isinstance(codec, wire.PointField):
            yield "identity", group.identity.encode()
        else:
            yield "order", group.order.to_bytes(len(raw), group.scalar_byteorder)
    elif isinstance(codec, wire.Seq):
        items = list(raw)
        too_many = codec.max_len + 1
        yield f"{too_many}-items", (items * (too_many // len(items) + 1))[:too_many]
        if codec.min_len:
            yield f"{codec.min_len - 1}-items", items[:codec.min_len - 1]
        for i in sorted({0, len(items) // 2, len(items) - 1}):
            for label, bad in malformed_values(codec.item, items[i], group):
                yield f"[{i}]{label}", [*items[:i], bad, *items[i + 1:]]
    else:
        raise TypeError(f"no malformations known for {type(codec).__name__}")


def malformed_encodings(cls: type, valid: bytes, *,
                        other_type_ids: Iterable[int]) -> Iterator[tuple[str, bytes]]:
    """(label, bytes) that decoding as ``cls`` must refuse: a bad header, arity or field."""
    valid_body = msgpack.unpackb(valid, raw=False, use_list=True)

    def edited(edit) -> bytes:  # edits build new lists and leave valid_body alone
        return msgpack.packb(edit(valid_body), use_bin_type=True)

    def put(index: int, value: object):
        return lambda body: [*body[:index], value, *body[index + 1:]]

    suite = valid_body[2]
    group = group_by_suite_id(suite) if suite else None
    other_suites = [g.suite_id for g in (SECP256K1, ED25519) if g is not group] + [99] if group else [1]
    yield from ((f"type-id-{t:#06x}", edited(put(1, t))) for t in (*other_type_ids, 0x01FF))
    yield from (
        ("extra-field", edited(lambda body: [*body, b""])),
        ("missing-field", edited(lambda body: body[:-1])),
        ("header-only", edited(lambda body: body[:3])),
        ("nested", edited(lambda body: [body])),
        ("not-an-array", msgpack.packb({"v": 1})),
        ("other-version", edited(put(0, 2))),
        ("version-as-bool", edited(put(0, True))),
        ("suite-as-bool", edited(put(2, True))),
        *((f"suite-{s}", edited(put(2, s))) for s in other_suites),
    )
    for i, (name, codec) in enumerate(cls.__wire_codecs__):
        for label, bad in malformed_values(codec, valid_body[3 + i], group):
            yield f"{name}:{label}", edited(put(3 + i, bad))
