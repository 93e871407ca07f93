"""Decoder fuzzing: the same properties for every proof in ``cases.py``.

Every input decoding as a proof either raises ``EncodingError`` or is that proof's
one canonical encoding. Group proofs are decoded with each curve and with none
(the suite id then chooses). Hypothesis budgets: truncations and junk per proof (a
proof on two curves draws one each time), hostile inputs per curve. Truncations, random bytes, non-bytes, junk of another
kind in any field (and inside any sequence), oversized and malformed integers,
points and scalars, bad headers and arities are all refused; hostile mutations of
an honest encoding raise nothing else.
"""

from functools import cache

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import wire
from protocol.errors import EncodingError
from protocol.group import ED25519, SECP256K1
from tests.protocol.zk.cases import CASES, GROUP_CASES, cases_param, proofs_param
from tests.protocol.zk.helpers import (
    decode_strictly,
    hostile_inputs,
    junk_for,
    malformed_encodings,
)

_SLOW_OK = {"suppress_health_check": [HealthCheck.too_slow]}


def assert_refused(case, data) -> None:
    for group in case.decode_groups:
        with pytest.raises(EncodingError):
            wire.decode(data, case.Proof, group)


@proofs_param()
@settings(max_examples=60, **_SLOW_OK)
@given(data=st.data())
def test_every_truncation_is_refused(proof_cases, data):
    case = data.draw(st.sampled_from(proof_cases), label="case")
    valid = case.encoding()
    cut = data.draw(st.integers(min_value=0, max_value=len(valid) - 1), label="cut")
    assert_refused(case, valid[:cut])


@settings(max_examples=100, **_SLOW_OK)
@given(data=st.binary(max_size=2048))
def test_random_bytes_are_refused_by_every_decoder(data):
    for case in CASES:
        assert_refused(case, data)


@cases_param()
def test_empty_and_non_bytes_are_refused(case):
    for data in (b"", msgpack.packb([]), msgpack.packb(None), msgpack.packb([1]), "text", 12, None):
        assert_refused(case, data)


@proofs_param()
@settings(max_examples=100, **_SLOW_OK)
@given(data=st.data())
def test_junk_in_any_field_or_sequence_item_is_refused(proof_cases, data):
    case = data.draw(st.sampled_from(proof_cases), label="case")
    codecs = case.Proof.__wire_codecs__
    index = data.draw(st.integers(0, len(codecs) - 1), label="field")
    codec = codecs[index][1]
    whole = msgpack.unpackb(case.encoding(), raw=False, use_list=True)
    whole[3 + index] = data.draw(junk_for(codec), label="junk")
    assert_refused(case, msgpack.packb(whole, use_bin_type=True))
    if isinstance(codec, wire.Seq):
        inside = msgpack.unpackb(case.encoding(), raw=False, use_list=True)
        items = inside[3 + index]
        item = data.draw(st.integers(0, len(items) - 1), label="item")
        items[item] = data.draw(junk_for(codec.item), label="item junk")
        assert_refused(case, msgpack.packb(inside, use_bin_type=True))


def _other_type_ids(case) -> list[int]:
    """The type ids of the other proofs in the table."""
    return sorted({c.Proof.__wire_type_id__ for c in CASES if c.Proof is not case.Proof})


@cases_param()
def test_malformed_headers_arities_and_fields_are_refused(case):
    # Per field, from its codec: integers past their bound or with a leading zero,
    # negative zero and bad sign bytes, points and scalars of the wrong length, the
    # identity, the group order; sequences too long, too short or with a bad item.
    accepted, count = [], 0
    for label, data in malformed_encodings(case.Proof, case.encoding(),
                                           other_type_ids=_other_type_ids(case)):
        count += 1
        for group in case.decode_groups:
            try:
                wire.decode(data, case.Proof, group)
            except EncodingError:
                continue
            accepted.append(f"{label} (expected group {group and group.name})")
    assert not accepted, "malformed encodings decoded:\n" + "\n".join(accepted)
    assert count >= 10 + 3 * len(case.Proof.__wire_codecs__)


@cases_param(GROUP_CASES)
def test_decoding_under_the_other_group_is_refused(case):
    other = ED25519 if case.group is SECP256K1 else SECP256K1
    with pytest.raises(EncodingError):
        wire.decode(case.encoding(), case.Proof, other)


@cache
def _hostile(case) -> st.SearchStrategy:
    return hostile_inputs(case.encoding())


@cases_param()
@settings(max_examples=150, **_SLOW_OK)
@given(data=st.data())
def test_hostile_inputs_raise_only_encoding_error(case, data):
    # Byte flips may land on another valid proof; anything else is EncodingError.
    hostile = data.draw(_hostile(case), label="input")
    for group in case.decode_groups:
        decode_strictly(hostile, case.Proof, group)
