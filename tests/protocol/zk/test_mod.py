"""Π^mod (Paillier–Blum modulus): completeness, soundness checks, binding, codec."""

from __future__ import annotations

import dataclasses

import gmpy2
import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import wire
from protocol.arith import jacobi
from protocol.errors import EncodingError, InvalidProof, UsageError
from protocol.params import DEFAULT_LEVEL, SecurityLevel
from protocol.rng import SeededRng
from protocol.transcript import Transcript
from protocol.zk import mod
from tests.primepool import paillier_key
from tests.protocol.zk.helpers import assert_all_rejected, decode_strictly, hostile_inputs

M = DEFAULT_LEVEL.repetitions
INDICES = (0, M // 2, M - 1)


def session(sid: bytes = b"session-1") -> Transcript:
    return Transcript.for_session("tests/zk/mod", sid, [1, 2, 3], DEFAULT_LEVEL)


@pytest.fixture(scope="module")
def key():
    return paillier_key(0)


@pytest.fixture(scope="module")
def pub(key):
    return mod.Public(key.n)


@pytest.fixture(scope="module")
def proof(key, pub):
    return mod.prove(session(), pub, mod.Private(key.p, key.q), SeededRng("mod"))


def reject(pub, proof, t=None, level=DEFAULT_LEVEL) -> InvalidProof:
    with pytest.raises(InvalidProof) as info:
        mod.verify(t or session(), pub, proof, level)
    assert info.value.proof == "mod"
    return info.value


def replace_at(proof, name, index, value):
    items = list(getattr(proof, name))
    items[index] = value
    return dataclasses.replace(proof, **{name: tuple(items)})


# -- completeness and the challenges --------------------------------------


def test_honest_proof_verifies(pub, proof):
    mod.verify(session(), pub, proof)
    assert len(proof.x) == len(proof.z) == len(proof.a) == len(proof.b) == M


def test_challenges_are_pairwise_distinct(pub, proof):
    # z_i^N = y_i, so the proof itself shows the verifier's y_i.
    ys = [gmpy2.powmod(z, pub.n, pub.n) for z in proof.z]
    assert len(set(ys)) == M


def test_w_has_jacobi_minus_one_and_bits_vary(pub, proof):
    assert jacobi(proof.w, pub.n) == -1
    # With independent y_i all four (a, b) combinations turn up among 80 repetitions.
    assert len(set(zip(proof.a, proof.b, strict=True))) == 4


def test_verify_leaves_the_callers_transcript_unchanged(pub, proof):
    t = session()
    before = t.copy().challenge_bytes("probe", 32)
    mod.verify(t, pub, proof)
    assert t.copy().challenge_bytes("probe", 32) == before


def test_seeded_rng_gives_byte_identical_proofs(key, pub):
    priv = mod.Private(key.p, key.q)
    first = wire.encode(mod.prove(session(), pub, priv, SeededRng(7)))
    second = wire.encode(mod.prove(session(), pub, priv, SeededRng(7)))
    other = wire.encode(mod.prove(session(), pub, priv, SeededRng(8)))
    assert first == second
    assert first != other


def test_prover_refuses_a_witness_for_another_modulus(key):
    with pytest.raises(UsageError):
        mod.prove(session(), mod.Public(paillier_key(1).n), mod.Private(key.p, key.q), SeededRng(1))


def test_private_repr_is_redacted(key):
    text = repr(mod.Private(key.p, key.q))
    assert "redacted" in text
    assert str(int(key.p)) not in text and format(int(key.p), "x") not in text


# -- every field altered ---------------------------------------------------


def _bumped(value):
    return (not value) if isinstance(value, bool) else value + 1


@pytest.mark.parametrize("index", INDICES)
@pytest.mark.parametrize("name", ["x", "a", "b", "z"])
def test_altering_any_repetition_is_rejected(pub, proof, name, index):
    altered = replace_at(proof, name, index, _bumped(getattr(proof, name)[index]))
    reject(pub, altered)


def test_every_generic_alteration_is_rejected(pub, proof):
    # ±1, 0, negated, a flipped bit, one short and one long, at the first, a middle
    # and the last repetition of every sequence.
    count = assert_all_rejected(lambda p: mod.verify(session(), pub, p), proof, seq_limit=3)
    assert count > 20


def test_altering_w_is_rejected(pub, proof):
    reject(pub, dataclasses.replace(proof, w=proof.w + 1))


def test_swapping_two_repetitions_is_rejected(pub, proof):
    swapped = replace_at(proof, "x", 0, proof.x[1])
    swapped = replace_at(swapped, "x", 1, proof.x[0])
    reject(pub, swapped)


@pytest.mark.parametrize("name", ["x", "z"])
@pytest.mark.parametrize("bad", ["zero", "n", "factor"])
def test_non_units_are_rejected_by_name(key, pub, proof, name, bad):
    value = {"zero": 0, "n": pub.n, "factor": key.p}[bad]
    err = reject(pub, replace_at(proof, name, M // 2, value))
    assert err.check == f"{name}[{M // 2}] is not a unit modulo its modulus"


def test_w_must_be_a_unit(key, pub, proof):
    assert reject(pub, dataclasses.replace(proof, w=key.q)).check.startswith("w is not a unit")


def test_w_must_have_jacobi_minus_one(pub, proof):
    w = proof.w * proof.w % pub.n
    assert jacobi(w, pub.n) == 1
    assert reject(pub, dataclasses.replace(proof, w=w)).check == "Jacobi(w, N) is not -1"


def test_bits_must_be_bits(pub, proof):
    err = reject(pub, replace_at(proof, "a", 3, 2))
    assert err.check == "a[3] or b[3] is not a bit"


# -- the statement, the transcript and the level ---------------------------


def test_another_modulus_is_rejected(proof):
    reject(mod.Public(paillier_key(1).n), proof)


@pytest.mark.parametrize(
    "n, check",
    [
        (0, "N is not an odd integer above 1"),
        (1, "N is not an odd integer above 1"),
        (2 * 3 * 5 * 7, "N is not an odd integer above 1"),
        (gmpy2.next_prime(gmpy2.mpz(1) << 2047), "N is prime"),
        (gmpy2.next_prime(gmpy2.mpz(1) << 1023) ** 2, "N is a perfect square"),
        (gmpy2.mpz(1) << 4097 | 1, "N exceeds 4096 bits"),
    ],
)
def test_malformed_moduli_are_rejected_before_anything_else(proof, n, check):
    assert reject(mod.Public(n), proof).check == check


def test_another_session_is_rejected(pub, proof):
    reject(pub, proof, t=session(b"session-2"))


def test_extra_transcript_context_is_rejected(pub, proof):
    t = session()
    t.append("round", 2)
    reject(pub, proof, t=t)


def test_proof_under_another_level_is_rejected(pub, proof):
    level = dataclasses.replace(DEFAULT_LEVEL, name="other")
    reject(pub, proof, level=level)


def test_79_repetitions_are_rejected(pub, proof):
    short = dataclasses.replace(
        proof, x=proof.x[:-1], a=proof.a[:-1], b=proof.b[:-1], z=proof.z[:-1]
    )
    assert reject(pub, short).check == "x has 79 entries, not 80"
    with pytest.raises(UsageError):
        SecurityLevel(repetitions=79)
    with pytest.raises(UsageError):
        wire.encode(short)


def test_one_short_sequence_is_rejected(pub, proof):
    assert reject(pub, dataclasses.replace(proof, z=proof.z[:-1])).check.startswith("z has 79")


def test_more_repetitions_than_the_level_asks_are_rejected(key, pub):
    level = SecurityLevel(repetitions=81)
    longer = mod.prove(session(), pub, mod.Private(key.p, key.q), SeededRng(3), level)
    mod.verify(session(), pub, longer, level)
    reject(pub, longer)


# -- the codec -------------------------------------------------------------


def test_wire_round_trip(pub, proof):
    data = wire.encode(proof)
    decoded = wire.decode(data, mod.Proof)
    assert decoded == proof
    mod.verify(session(), pub, decoded)


def _raw(proof) -> list:
    return list(msgpack.unpackb(wire.encode(proof), use_list=True))


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=0, max_value=10**6))
def test_decoder_rejects_every_truncation(proof, cut):
    data = wire.encode(proof)
    with pytest.raises(EncodingError):
        wire.decode(data[: cut % len(data)], mod.Proof)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=2048))
def test_decoder_rejects_random_bytes(data):
    with pytest.raises(EncodingError):
        wire.decode(data, mod.Proof)


_INT64 = st.integers(min_value=-(2**63), max_value=2**64 - 1)
_JUNK = st.one_of(
    st.none(), st.booleans(), _INT64, st.floats(allow_nan=False), st.text(max_size=8),
    st.lists(_INT64, max_size=3), st.binary(min_size=1, max_size=8).map(lambda b: b"\x00" + b),
)


@settings(max_examples=100, deadline=None)
@given(position=st.integers(min_value=3, max_value=7), junk=_JUNK)
def test_decoder_rejects_wrong_types(proof, position, junk):
    raw = _raw(proof)
    raw[position] = junk
    with pytest.raises(EncodingError):
        wire.decode(msgpack.packb(raw, use_bin_type=True), mod.Proof)


@settings(max_examples=30, deadline=None)
@given(
    position=st.integers(min_value=4, max_value=7),
    index=st.integers(0, M - 1),
    junk=_JUNK.filter(lambda v: not isinstance(v, bool)),
)
def test_decoder_rejects_wrong_types_inside_sequences(proof, position, index, junk):
    raw = _raw(proof)
    raw[position][index] = junk
    with pytest.raises(EncodingError):
        wire.decode(msgpack.packb(raw, use_bin_type=True), mod.Proof)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda raw: raw.__setitem__(3, b"\x01" * 513), id="w-over-4096-bits"),
        pytest.param(lambda raw: raw.__setitem__(4, (raw[4] * 4)[:257]), id="257-repetitions"),
        pytest.param(lambda raw: raw.append(b""), id="extra-field"),
        pytest.param(lambda raw: raw.pop(), id="missing-field"),
        pytest.param(lambda raw: raw.__setitem__(1, 0x0106), id="other-type-id"),
        pytest.param(lambda raw: raw.__setitem__(3, b"\x00" + raw[3]), id="leading-zero"),
    ],
)
def test_decoder_rejects_oversized_and_malformed(proof, mutate):
    raw = _raw(proof)
    mutate(raw)
    with pytest.raises(EncodingError):
        wire.decode(msgpack.packb(raw, use_bin_type=True), mod.Proof)


def test_decoder_rejects_empty_and_non_bytes():
    for data in (b"", msgpack.packb([]), msgpack.packb(None), "text"):
        with pytest.raises(EncodingError):
            wire.decode(data, mod.Proof)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_decoder_accepts_only_canonical_encodings(proof, data):
    # Byte flips may land on another valid proof; anything else is EncodingError.
    hostile = data.draw(hostile_inputs(wire.encode(proof)))
    decoded = decode_strictly(hostile, mod.Proof)
    assert decoded is None or wire.encode(decoded) == hostile
