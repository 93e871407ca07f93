"""Π^fac (no small factor): completeness, the exact range, binding, both verifier paths, codec."""

from __future__ import annotations

import dataclasses

import gmpy2
import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import wire
from protocol.errors import EncodingError, InvalidProof, UsageError
from protocol.params import DEFAULT_LEVEL
from protocol.rng import SeededRng
from protocol.transcript import Transcript
from protocol.zk import fac
from tests.primepool import paillier_key, ring_pedersen
from tests.protocol.zk.helpers import assert_all_rejected, decode_strictly, hostile_inputs

FIELDS = ["P", "Q", "A", "B", "T", "sigma", "z1", "z2", "w1", "w2", "v"]
AUX_FORMS = ["params", "secret"]


def session(sid: bytes = b"session-1") -> Transcript:
    return Transcript.for_session("tests/zk/fac", sid, [1, 2, 3], DEFAULT_LEVEL)


@pytest.fixture(scope="module")
def key():
    return paillier_key(0)


@pytest.fixture(scope="module")
def aux():
    return ring_pedersen(1)


@pytest.fixture(scope="module")
def pub(key, aux):
    return fac.Public(key.n, aux.params)


def verifier(key, aux, form: str):
    """verify() against (key, aux), with public parameters or the verifier's trapdoor."""
    secret = aux if form == "secret" else None
    return lambda proof: fac.verify(session(), fac.Public(key.n, aux.params), proof,
                                    aux_secret=secret)


@pytest.fixture(scope="module")
def proof(key, pub):
    return fac.prove(session(), pub, fac.Private(key.p, key.q), SeededRng("fac"))


def reject(pub, proof, t=None, level=DEFAULT_LEVEL, aux_secret=None) -> InvalidProof:
    with pytest.raises(InvalidProof) as info:
        fac.verify(t or session(), pub, proof, level, aux_secret=aux_secret)
    assert info.value.proof == "fac"
    return info.value


def root_bound(n0) -> gmpy2.mpz:
    return gmpy2.isqrt(n0 << (2 * (DEFAULT_LEVEL.ell + DEFAULT_LEVEL.epsilon)))


# -- completeness ------------------------------------------------------------


@pytest.mark.parametrize("form", AUX_FORMS)
def test_honest_proof_verifies(key, aux, proof, form):
    verifier(key, aux, form)(proof)


def test_answers_are_well_inside_the_range(key, proof):
    bound = root_bound(key.n)
    assert abs(proof.z1) < bound and abs(proof.z2) < bound


def test_statement_refuses_a_trapdoor(key, aux):
    # The trapdoor is the verifier's and goes to verify() only, never into a statement.
    with pytest.raises(UsageError):
        fac.Public(key.n, aux)


def test_seeded_rng_gives_byte_identical_proofs(key, pub):
    priv = fac.Private(key.p, key.q)
    first = wire.encode(fac.prove(session(), pub, priv, SeededRng(7)))
    assert first == wire.encode(fac.prove(session(), pub, priv, SeededRng(7)))
    assert first != wire.encode(fac.prove(session(), pub, priv, SeededRng(8)))


def test_verify_leaves_the_callers_transcript_unchanged(pub, proof):
    t = session()
    before = t.copy().challenge_bytes("probe", 32)
    fac.verify(t, pub, proof)
    assert t.copy().challenge_bytes("probe", 32) == before


def test_prover_refuses_a_wrong_witness(key, pub):
    with pytest.raises(UsageError):
        fac.prove(session(), pub, fac.Private(key.p, key.q + 2), SeededRng(1))


def test_public_needs_ring_pedersen_aux(key):
    with pytest.raises(UsageError):
        fac.Public(key.n, (1, 2, 3))


def test_private_repr_is_redacted(key):
    text = repr(fac.Private(key.p, key.q))
    assert "redacted" in text and str(int(key.p)) not in text


# -- every field altered, on both verifier paths -----------------------------


@pytest.mark.parametrize("form", AUX_FORMS)
@pytest.mark.parametrize("name", FIELDS)
def test_altering_any_field_is_rejected(key, aux, proof, name, form):
    altered = dataclasses.replace(proof, **{name: getattr(proof, name) + 1})
    with pytest.raises(InvalidProof):
        verifier(key, aux, form)(altered)


@pytest.mark.parametrize("form", AUX_FORMS)
@pytest.mark.parametrize("name", FIELDS)
def test_negating_any_field_is_rejected(key, aux, proof, name, form):
    value = getattr(proof, name)
    negated = aux.params.n - value if name in FIELDS[:5] else -value
    with pytest.raises(InvalidProof):
        verifier(key, aux, form)(dataclasses.replace(proof, **{name: negated}))


@pytest.mark.parametrize("form", AUX_FORMS)
def test_every_generic_alteration_is_rejected(key, aux, proof, form):
    # ±1, 0, negated and a flipped bit, for every field.
    assert assert_all_rejected(verifier(key, aux, form), proof) >= 5 * len(FIELDS)


@pytest.mark.parametrize("name", FIELDS[:5])
def test_commitments_must_be_units(aux, pub, proof, name):
    for value in (0, aux.crt.p, aux.params.n):
        err = reject(pub, dataclasses.replace(proof, **{name: value}))
        assert err.check == f"{name} is not a unit modulo its modulus"


# -- the range check, exactly at its boundary --------------------------------


@pytest.mark.parametrize("name", ["z1", "z2"])
@pytest.mark.parametrize("sign", [1, -1])
def test_range_boundary_is_exact(key, pub, proof, name, sign):
    bound = root_bound(key.n)
    limit = key.n << (2 * (DEFAULT_LEVEL.ell + DEFAULT_LEVEL.epsilon))
    assert bound * bound <= limit < (bound + 1) * (bound + 1)
    inside = reject(pub, dataclasses.replace(proof, **{name: sign * bound}))
    assert not inside.check.startswith(name)
    outside = reject(pub, dataclasses.replace(proof, **{name: sign * (bound + 1)}))
    assert outside.check == f"{name} outside ±sqrt(N0)·2^(ℓ+ε)"


# -- the statement, the transcript and the level -----------------------------


def test_another_n0_is_rejected(aux, proof):
    reject(fac.Public(paillier_key(2).n, aux.params), proof)


@pytest.mark.parametrize("form", AUX_FORMS)
def test_other_ring_pedersen_parameters_are_rejected(key, proof, form):
    other = ring_pedersen(2)
    reject(fac.Public(key.n, other.params), proof, aux_secret=other if form == "secret" else None)


def test_swapped_s_and_t_are_rejected(key, aux, proof):
    p = aux.params
    reject(fac.Public(key.n, type(p)(p.n, p.t, p.s)), proof)


@pytest.mark.parametrize(
    "n0, check",
    [
        (gmpy2.next_prime(gmpy2.mpz(1) << 2045) * 3, "N0 is not 2048 to 4096 bits"),
        (gmpy2.mpz(1) << 4096 | 1, "N0 is not 2048 to 4096 bits"),
        (0, "N0 is not 2048 to 4096 bits"),
    ],
)
def test_n0_outside_the_level_is_rejected(aux, proof, n0, check):
    assert reject(fac.Public(n0, aux.params), proof).check == check


def test_ring_pedersen_values_must_be_units(key, aux, proof):
    p = aux.params
    bad = type(p)(p.n, p.s, aux.crt.q)
    assert reject(fac.Public(key.n, bad), proof).check == "t is not a unit modulo its modulus"


def test_another_session_is_rejected(pub, proof):
    reject(pub, proof, t=session(b"session-2"))


def test_extra_transcript_context_is_rejected(pub, proof):
    t = session()
    t.append("round", 2)
    reject(pub, proof, t=t)


def test_proof_under_another_level_is_rejected(pub, proof):
    reject(pub, proof, level=dataclasses.replace(DEFAULT_LEVEL, name="other"))


# -- the codec ---------------------------------------------------------------


def test_wire_round_trip(pub, proof):
    decoded = wire.decode(wire.encode(proof), fac.Proof)
    assert decoded == proof
    fac.verify(session(), pub, decoded)


def _raw(proof) -> list:
    return list(msgpack.unpackb(wire.encode(proof), use_list=True))


_INT64 = st.integers(min_value=-(2**63), max_value=2**64 - 1)
_JUNK = st.one_of(
    st.none(), st.booleans(), _INT64, st.floats(allow_nan=False), st.text(max_size=8),
    st.lists(_INT64, max_size=3), st.binary(min_size=1, max_size=8).map(lambda b: b"\x00\x00" + b),
)


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=0, max_value=10**6))
def test_decoder_rejects_every_truncation(proof, cut):
    data = wire.encode(proof)
    with pytest.raises(EncodingError):
        wire.decode(data[: cut % len(data)], fac.Proof)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=2048))
def test_decoder_rejects_random_bytes(data):
    with pytest.raises(EncodingError):
        wire.decode(data, fac.Proof)


@settings(max_examples=100, deadline=None)
@given(position=st.integers(min_value=3, max_value=13), junk=_JUNK)
def test_decoder_rejects_wrong_types(proof, position, junk):
    raw = _raw(proof)
    raw[position] = junk
    with pytest.raises(EncodingError):
        wire.decode(msgpack.packb(raw, use_bin_type=True), fac.Proof)


@pytest.mark.parametrize(
    "position, value",
    [
        pytest.param(3, b"\x01" * 513, id="P-over-4096-bits"),
        pytest.param(8, b"\x00" + b"\x01" * 1281, id="sigma-over-bound"),
        pytest.param(9, b"\x01" + b"\x01" * 513, id="z1-over-bound"),
        pytest.param(13, b"\x01" + b"\x01" * 1281, id="v-over-bound"),
        pytest.param(9, b"\x01", id="negative-zero"),
        pytest.param(10, b"\x02\x01", id="bad-sign-byte"),
        pytest.param(11, b"", id="signed-without-sign-byte"),
    ],
)
def test_decoder_rejects_oversized_and_malformed_integers(proof, position, value):
    raw = _raw(proof)
    raw[position] = value
    with pytest.raises(EncodingError):
        wire.decode(msgpack.packb(raw, use_bin_type=True), fac.Proof)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda raw: raw.append(b""), id="extra-field"),
        pytest.param(lambda raw: raw.pop(), id="missing-field"),
        pytest.param(lambda raw: raw.__setitem__(1, 0x0106), id="other-type-id"),
        pytest.param(lambda raw: raw.__setitem__(0, 2), id="other-version"),
    ],
)
def test_decoder_rejects_malformed_messages(proof, mutate):
    raw = _raw(proof)
    mutate(raw)
    with pytest.raises(EncodingError):
        wire.decode(msgpack.packb(raw, use_bin_type=True), fac.Proof)


def test_decoder_rejects_empty_and_non_bytes():
    for data in (b"", msgpack.packb([]), msgpack.packb(None), None):
        with pytest.raises(EncodingError):
            wire.decode(data, fac.Proof)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_decoder_accepts_only_canonical_encodings(proof, data):
    # Byte flips may land on another valid proof; anything else is EncodingError.
    hostile = data.draw(hostile_inputs(wire.encode(proof)))
    decoded = decode_strictly(hostile, fac.Proof)
    assert decoded is None or wire.encode(decoded) == hostile
