"""What every proof must do, run over the table in ``cases.py``.

Completeness, seeded determinism, the caller's transcript left alone, the wire
round trip, every tampered field rejected (before and after a round trip), binding
to the transcript and the level, non-proofs rejected and a redacted witness. The
decoders are fuzzed in ``test_decoders.py``; each proof's own checks stay in its file.
"""

import dataclasses

import pytest

from protocol.errors import InvalidProof, UsageError
from protocol.group import Scalar
from tests.protocol.zk.cases import CASES, LEVEL, cases_param
from tests.protocol.zk.helpers import assert_all_rejected, tampered_variants


@cases_param()
def test_honest_proof_verifies_with_and_without_each_trapdoor(case):
    pub, _, proof = case.honest()
    for without in case.trapdoor_subsets():
        case.verify(pub, proof, **without)


@cases_param()
def test_seeded_rng_gives_byte_identical_proofs(case):
    pub, priv, proof = case.honest()  # made with seed 2
    a = case.encode(proof)
    b = case.encode(case.prove(pub, priv, seed=2))
    c = case.encode(case.prove(pub, priv, seed=3))
    assert a == b != c


@cases_param()
def test_prove_and_verify_leave_the_callers_transcript_alone(case):
    pub, priv, _ = case.honest()
    t = case.session()
    before = t.copy().challenge_bytes("probe", 32)
    proof = case.prove(pub, priv, seed=14, t=t)
    case.verify(pub, proof, t)
    assert t.copy().challenge_bytes("probe", 32) == before


@cases_param()
def test_wire_round_trip_then_verify(case):
    pub, _, proof = case.honest()
    decoded = case.decode(case.encode(proof))
    assert decoded == proof
    case.verify(pub, decoded)


@cases_param()
def test_every_tampered_field_is_rejected(case):
    # ±1, 0, negated, a flipped bit, other points; sequences one shorter, one longer
    # and altered at their first, a middle and their last repetition.
    pub, _, proof = case.honest()
    count = assert_all_rejected(lambda p: case.verify(pub, p), proof, seq_limit=case.seq_limit)
    assert count >= case.min_tampered


@cases_param()
def test_tampered_variants_that_still_encode_still_fail_after_a_round_trip(case):
    # The codec treats every repetition alike: the first of each sequence stands for all.
    pub, _, proof = case.honest()
    sent = 0
    for _, bad in tampered_variants(proof, seq_limit=1):
        try:
            data = case.encode(bad)
        except UsageError:
            continue  # negative naturals, identity points, short sequences: not even sendable
        sent += 1
        with pytest.raises(InvalidProof):
            case.verify(pub, case.decode(data))
    assert sent > 0


def _with_more_context(case):
    t = case.session()
    t.append("round", 2)
    return t


OTHER_TRANSCRIPTS = {
    "another session": lambda case: case.session(b"session-B"),
    "another prover": lambda case: case.session(prover=2),
    "more context": _with_more_context,
}


@cases_param()
@pytest.mark.parametrize("transcript", OTHER_TRANSCRIPTS.values(), ids=OTHER_TRANSCRIPTS.keys())
def test_proof_is_bound_to_its_transcript(case, transcript):
    # A new challenge: the proof fails an equation, not a range or a unit check.
    pub, _, proof = case.honest()
    for without in case.with_and_without_trapdoors():
        check = case.failing_check(pub, proof, transcript(case), **without)
        assert case.matches_binding_check(check), (without, check)


OTHER_LEVELS = {  # made when used: a level the rules refuse fails one test, not the module
    "another name": lambda: dataclasses.replace(LEVEL, name="other"),
    # The same name, a wider range for Π^aff-g's y: only the transcript can tell.
    "another ell'": lambda: dataclasses.replace(LEVEL, ell_prime=LEVEL.ell_prime + 64),
}


@cases_param([case for case in CASES if case.level_bound])
@pytest.mark.parametrize("level", OTHER_LEVELS.values(), ids=OTHER_LEVELS.keys())
def test_proof_is_bound_to_the_security_level(case, level):
    pub, _, proof = case.honest()
    for without in case.with_and_without_trapdoors():
        check = case.failing_check(pub, proof, level=level(), **without)
        assert case.matches_binding_check(check), (without, check)


@cases_param(CASES)
def test_not_a_proof_is_rejected(case):
    pub, _, _ = case.honest()
    for without in case.with_and_without_trapdoors():
        for junk in (object(), "proof", 17, None):
            case.reject(pub, junk, **without)


def _secret_numbers(priv) -> list[int]:
    numbers = []
    for f in dataclasses.fields(priv):
        value = getattr(priv, f.name)
        if isinstance(value, Scalar):
            value = value.value
        if hasattr(value, "p"):  # a Paillier key: its factors
            numbers += [int(value.p), int(value.q)]
        elif value is not None and not isinstance(value, bool):
            numbers.append(int(value))
    return [abs(n) for n in numbers if abs(n) >= 2**16]


@cases_param()
def test_private_repr_is_redacted(case):
    _, priv, _ = case.honest()
    text = repr(priv)
    assert "redacted" in text
    secrets = _secret_numbers(priv)
    assert secrets
    for n in secrets:
        assert str(n) not in text and format(n, "x") not in text
