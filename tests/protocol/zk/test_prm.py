"""Π^prm (ring-Pedersen parameters): completeness, soundness checks, binding, codec."""

from __future__ import annotations

import dataclasses

import gmpy2
import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import wire
from protocol.errors import EncodingError, InvalidProof, UsageError
from protocol.params import DEFAULT_LEVEL, SecurityLevel
from protocol.rng import SeededRng
from protocol.transcript import Transcript
from protocol.zk import prm
from tests.primepool import ring_pedersen
from tests.protocol.zk.helpers import assert_all_rejected, decode_strictly, hostile_inputs

M = DEFAULT_LEVEL.repetitions
INDICES = (0, M // 2, M - 1)


def session(sid: bytes = b"session-1") -> Transcript:
    return Transcript.for_session("tests/zk/prm", sid, [1, 2, 3], DEFAULT_LEVEL)


@pytest.fixture(scope="module")
def secret():
    return ring_pedersen(0)


@pytest.fixture(scope="module")
def pub(secret):
    return prm.Public.from_params(secret.params)


@pytest.fixture(scope="module")
def proof(secret, pub):
    return prm.prove(session(), pub, prm.Private.from_secret(secret), SeededRng("prm"))


def reject(pub, proof, t=None, level=DEFAULT_LEVEL) -> InvalidProof:
    with pytest.raises(InvalidProof) as info:
        prm.verify(t or session(), pub, proof, level)
    assert info.value.proof == "prm"
    return info.value


def replace_at(proof, name, index, value):
    items = list(getattr(proof, name))
    items[index] = value
    return dataclasses.replace(proof, **{name: tuple(items)})


# -- completeness ------------------------------------------------------------


def test_honest_proof_verifies(pub, proof):
    prm.verify(session(), pub, proof)
    assert len(proof.A) == len(proof.z) == M


def test_answers_are_reduced_below_phi(secret, proof):
    assert all(0 <= z < secret.phi for z in proof.z)


def test_commitments_are_pairwise_distinct(proof):
    assert len(set(proof.A)) == M


def test_verify_leaves_the_callers_transcript_unchanged(pub, proof):
    t = session()
    before = t.copy().challenge_bytes("probe", 32)
    prm.verify(t, pub, proof)
    assert t.copy().challenge_bytes("probe", 32) == before


def test_seeded_rng_gives_byte_identical_proofs(secret, pub):
    priv = prm.Private.from_secret(secret)
    first = wire.encode(prm.prove(session(), pub, priv, SeededRng(7)))
    assert first == wire.encode(prm.prove(session(), pub, priv, SeededRng(7)))
    assert first != wire.encode(prm.prove(session(), pub, priv, SeededRng(8)))


def test_prover_refuses_a_wrong_witness(secret, pub):
    priv = prm.Private.from_secret(secret)
    with pytest.raises(UsageError):
        prm.prove(session(), pub, dataclasses.replace(priv, lam=priv.lam + 1), SeededRng(1))
    with pytest.raises(UsageError):
        prm.prove(session(), prm.Public.from_params(ring_pedersen(1).params), priv, SeededRng(1))


def test_private_repr_is_redacted(secret):
    text = repr(prm.Private.from_secret(secret))
    assert "redacted" in text and str(int(secret.lam)) not in text


# -- every field altered -----------------------------------------------------


@pytest.mark.parametrize("index", INDICES)
@pytest.mark.parametrize("name", ["A", "z"])
def test_altering_any_repetition_is_rejected(pub, proof, name, index):
    reject(pub, replace_at(proof, name, index, getattr(proof, name)[index] + 1))


def test_every_generic_alteration_is_rejected(pub, proof):
    # ±1, 0, negated, a flipped bit, one short and one long, at the first, a middle
    # and the last repetition of every sequence.
    count = assert_all_rejected(lambda p: prm.verify(session(), pub, p), proof, seq_limit=3)
    assert count > 20


def test_a_commitment_that_is_not_a_unit_is_rejected(secret, pub, proof):
    err = reject(pub, replace_at(proof, "A", 5, secret.crt.p))
    assert err.check == "A[5] is not a unit modulo its modulus"


@pytest.mark.parametrize("value", [-1, "n", "n+z"])
def test_answers_outside_zero_to_n_are_rejected(pub, proof, value):
    z = {-1: -1, "n": pub.n, "n+z": pub.n + proof.z[7]}[value]
    assert reject(pub, replace_at(proof, "z", 7, z)).check == "z[7] is not in [0, N)"


def test_answer_shifted_by_phi_passes_the_equation_but_not_the_bound(secret, pub, proof):
    # t^(z + φ) = t^z: the bound is what keeps one answer to one encoding.
    shifted = proof.z[0] + secret.phi
    assert gmpy2.powmod(pub.t, shifted, pub.n) == gmpy2.powmod(pub.t, proof.z[0], pub.n)
    assert shifted >= pub.n
    assert reject(pub, replace_at(proof, "z", 0, shifted)).check == "z[0] is not in [0, N)"


# -- the statement, the transcript and the level -----------------------------


def test_other_parameters_are_rejected(proof):
    reject(prm.Public.from_params(ring_pedersen(1).params), proof)


def test_swapped_s_and_t_are_rejected(pub, proof):
    reject(prm.Public(pub.n, pub.t, pub.s), proof)


@pytest.mark.parametrize("field", ["n", "s", "t"])
def test_each_statement_value_is_bound(pub, proof, field):
    value = getattr(pub, field)
    reject(dataclasses.replace(pub, **{field: value + 2}), proof)


@pytest.mark.parametrize(
    "change, check",
    [
        (lambda p: dataclasses.replace(p, s=p.t), "s equals t"),
        (lambda p: dataclasses.replace(p, s=1), "s or t is 1"),
        (lambda p: dataclasses.replace(p, s=1, t=1), "s or t is 1"),
        (lambda p: dataclasses.replace(p, t=0), "t is not a unit modulo its modulus"),
        (lambda p: dataclasses.replace(p, s=p.n + p.s), "s is not a unit modulo its modulus"),
        (lambda p: dataclasses.replace(p, n=1), "N is not in [3, 2^4096)"),
        (lambda p: dataclasses.replace(p, n=gmpy2.mpz(1) << 4096 | 1), "N is not in [3, 2^4096)"),
    ],
)
def test_degenerate_statements_are_rejected(pub, proof, change, check):
    assert reject(change(pub), proof).check == check


def test_trivial_parameters_with_a_valid_looking_proof_are_rejected(pub):
    # t = 1, s = 1: every A_i = 1 and z_i = 0 satisfies t^z = A s^e.
    ones = prm.Proof(A=(gmpy2.mpz(1),) * M, z=(gmpy2.mpz(0),) * M)
    assert reject(dataclasses.replace(pub, s=1, t=1), ones).check == "s or t is 1"


def test_s_outside_the_group_of_t_is_caught_by_a_cheating_prover(secret, pub):
    # A prover that does not know log_t(s) can answer only the challenge it guessed:
    # it sets A_i = t^a_i (answer a_i for e_i = 0) for every i and fails on e_i = 1.
    rng = SeededRng("cheat")
    a = [gmpy2.mpz(int.from_bytes(rng.random_bytes(32), "big")) for _ in range(M)]
    cheat = prm.Proof(A=tuple(gmpy2.powmod(pub.t, x, pub.n) for x in a), z=tuple(a))
    assert reject(pub, cheat).check.startswith("t^z[")


def test_another_session_is_rejected(pub, proof):
    reject(pub, proof, t=session(b"session-2"))


def test_extra_transcript_context_is_rejected(pub, proof):
    t = session()
    t.append("round", 2)
    reject(pub, proof, t=t)


def test_proof_under_another_level_is_rejected(pub, proof):
    reject(pub, proof, level=dataclasses.replace(DEFAULT_LEVEL, name="other"))


def test_79_repetitions_are_rejected(pub, proof):
    short = dataclasses.replace(proof, A=proof.A[:-1], z=proof.z[:-1])
    assert reject(pub, short).check == "A and z need exactly 80 entries each"
    assert reject(pub, dataclasses.replace(proof, z=proof.z[:-1])).check.startswith("A and z")
    with pytest.raises(UsageError):
        wire.encode(short)


def test_more_repetitions_than_the_level_asks_are_rejected(secret, pub):
    level = SecurityLevel(repetitions=81)
    longer = prm.prove(session(), pub, prm.Private.from_secret(secret), SeededRng(3), level)
    prm.verify(session(), pub, longer, level)
    reject(pub, longer)


# -- the codec ---------------------------------------------------------------


def test_wire_round_trip(pub, proof):
    decoded = wire.decode(wire.encode(proof), prm.Proof)
    assert decoded == proof
    prm.verify(session(), pub, decoded)


def _raw(proof) -> list:
    return list(msgpack.unpackb(wire.encode(proof), use_list=True))


_INT64 = st.integers(min_value=-(2**63), max_value=2**64 - 1)
_JUNK = st.one_of(
    st.none(), st.booleans(), _INT64, st.floats(allow_nan=False), st.text(max_size=8),
    st.lists(_INT64, max_size=3), st.binary(min_size=1, max_size=8).map(lambda b: b"\x00" + b),
)


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=0, max_value=10**6))
def test_decoder_rejects_every_truncation(proof, cut):
    data = wire.encode(proof)
    with pytest.raises(EncodingError):
        wire.decode(data[: cut % len(data)], prm.Proof)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=2048))
def test_decoder_rejects_random_bytes(data):
    with pytest.raises(EncodingError):
        wire.decode(data, prm.Proof)


@settings(max_examples=60, deadline=None)
@given(position=st.integers(min_value=3, max_value=4), index=st.integers(0, M - 1), junk=_JUNK)
def test_decoder_rejects_wrong_types(proof, position, index, junk):
    whole, inside = _raw(proof), _raw(proof)
    whole[position] = junk
    inside[position][index] = junk
    for raw in (whole, inside):
        with pytest.raises(EncodingError):
            wire.decode(msgpack.packb(raw, use_bin_type=True), prm.Proof)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda raw: raw[3].__setitem__(0, b"\x01" * 513), id="A-over-4096-bits"),
        pytest.param(lambda raw: raw.__setitem__(4, (raw[4] * 4)[:257]), id="257-answers"),
        pytest.param(lambda raw: raw.__setitem__(3, raw[3][:79]), id="79-commitments"),
        pytest.param(lambda raw: raw.append(b""), id="extra-field"),
        pytest.param(lambda raw: raw.pop(), id="missing-field"),
        pytest.param(lambda raw: raw.__setitem__(1, 0x0105), id="other-type-id"),
        pytest.param(lambda raw: raw.__setitem__(2, 1), id="suite-id"),
    ],
)
def test_decoder_rejects_oversized_and_malformed(proof, mutate):
    raw = _raw(proof)
    mutate(raw)
    with pytest.raises(EncodingError):
        wire.decode(msgpack.packb(raw, use_bin_type=True), prm.Proof)


def test_decoder_rejects_empty_and_non_bytes():
    for data in (b"", msgpack.packb([]), msgpack.packb(None), 12):
        with pytest.raises(EncodingError):
            wire.decode(data, prm.Proof)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_decoder_accepts_only_canonical_encodings(proof, data):
    # Byte flips may land on another valid proof; anything else is EncodingError.
    hostile = data.draw(hostile_inputs(wire.encode(proof)))
    decoded = decode_strictly(hostile, prm.Proof)
    assert decoded is None or wire.encode(decoded) == hostile
