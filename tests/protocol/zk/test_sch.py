"""Π^sch: completeness on both curves, soundness checks, transcript binding, codec."""

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings

from protocol import wire
from protocol.errors import EncodingError, InvalidProof, UsageError
from protocol.group import ED25519, SECP256K1
from protocol.params import DEFAULT_LEVEL
from protocol.rng import SeededRng
from protocol.transcript import Transcript
from protocol.zk import sch
from tests.protocol.zk.helpers import (
    assert_all_rejected,
    decode_strictly,
    hostile_inputs,
    tampered_variants,
)

GROUPS = pytest.mark.parametrize("group", [SECP256K1, ED25519], ids=lambda g: g.name)


def session(name: bytes = b"session-A") -> Transcript:
    return Transcript.for_session("tests/zk/sch", name, [1, 2, 3], DEFAULT_LEVEL).fork("prover", 1)


def statement(group, seed=1):
    x = group.random_nonzero_scalar(SeededRng(seed))
    return sch.Public(group, group.base_mul(x)), sch.Private(x)


@GROUPS
def test_honest_proof_verifies(group):
    pub, priv = statement(group)
    proof = sch.prove(session(), pub, priv, SeededRng(2))
    sch.verify(session(), pub, proof)


@GROUPS
def test_commit_then_prove_matches_the_early_commitment(group):
    pub, priv = statement(group)
    nonce, A = sch.commit(group, SeededRng(3))
    proof = sch.prove_with_commitment(session(), pub, priv, nonce)
    assert proof.A == A
    sch.verify(session(), pub, proof)


def test_nonce_answers_only_one_challenge():
    pub, priv = statement(SECP256K1)
    nonce, _ = sch.commit(SECP256K1, SeededRng(4))
    sch.prove_with_commitment(session(), pub, priv, nonce)
    with pytest.raises(UsageError):
        sch.prove_with_commitment(session(b"other"), pub, priv, nonce)


def test_nonce_of_another_group_is_a_usage_error():
    pub, priv = statement(SECP256K1)
    nonce, _ = sch.commit(ED25519, SeededRng(5))
    with pytest.raises(UsageError):
        sch.prove_with_commitment(session(), pub, priv, nonce)


@GROUPS
def test_every_tampered_field_is_rejected(group):
    pub, priv = statement(group)
    proof = sch.prove(session(), pub, priv, SeededRng(6))
    count = assert_all_rejected(lambda p: sch.verify(session(), pub, p), proof)
    assert count >= 7


@GROUPS
def test_identity_commitment_is_rejected_by_name(group):
    pub, priv = statement(group)
    proof = sch.Proof(A=group.identity, z=group.scalar(0))
    with pytest.raises(InvalidProof) as info:
        sch.verify(session(), pub, proof)
    assert info.value.check == "A is the identity"


@GROUPS
def test_other_statement_is_rejected(group):
    pub, priv = statement(group)
    proof = sch.prove(session(), pub, priv, SeededRng(7))
    other, _ = statement(group, seed=99)
    with pytest.raises(InvalidProof) as info:
        sch.verify(session(), other, proof)
    assert info.value.check == "z·G = A + e·X"


def test_wrong_witness_does_not_verify():
    pub, _ = statement(SECP256K1)
    proof = sch.prove(session(), pub, sch.Private(SECP256K1.scalar(12345)), SeededRng(8))
    with pytest.raises(InvalidProof):
        sch.verify(session(), pub, proof)


def test_proof_is_bound_to_session_and_prover_fork():
    pub, priv = statement(SECP256K1)
    proof = sch.prove(session(), pub, priv, SeededRng(9))
    with pytest.raises(InvalidProof):
        sch.verify(session(b"session-B"), pub, proof)
    other_prover = Transcript.for_session(
        "tests/zk/sch", b"session-A", [1, 2, 3], DEFAULT_LEVEL).fork("prover", 2)
    with pytest.raises(InvalidProof):
        sch.verify(other_prover, pub, proof)


def test_prove_and_verify_leave_the_callers_transcript_alone():
    pub, priv = statement(SECP256K1)
    t = session()
    before = t.copy().challenge_bytes("probe", 32)
    proof = sch.prove(t, pub, priv, SeededRng(10))
    sch.verify(t, pub, proof)
    assert t.copy().challenge_bytes("probe", 32) == before


def test_proof_of_another_group_is_rejected_not_crashing():
    pub, _ = statement(SECP256K1)
    ed_pub, ed_priv = statement(ED25519)
    proof = sch.prove(session(), ed_pub, ed_priv, SeededRng(11))
    with pytest.raises(InvalidProof) as info:
        sch.verify(session(), pub, proof)
    assert "group" in info.value.check


def test_not_a_proof_is_rejected():
    pub, _ = statement(SECP256K1)
    with pytest.raises(InvalidProof):
        sch.verify(session(), pub, object())


@GROUPS
def test_seeded_rng_gives_byte_identical_proofs(group):
    pub, priv = statement(group)
    a = wire.encode(sch.prove(session(), pub, priv, SeededRng(12)), group)
    b = wire.encode(sch.prove(session(), pub, priv, SeededRng(12)), group)
    c = wire.encode(sch.prove(session(), pub, priv, SeededRng(13)), group)
    assert a == b != c


@GROUPS
def test_wire_round_trip(group):
    pub, priv = statement(group)
    proof = sch.prove(session(), pub, priv, SeededRng(14))
    data = wire.encode(proof, group)
    decoded = wire.decode(data, sch.Proof, group)
    assert decoded == proof
    sch.verify(session(), pub, decoded)


def test_decoding_with_the_other_group_is_refused():
    pub, priv = statement(SECP256K1)
    data = wire.encode(sch.prove(session(), pub, priv, SeededRng(15)), SECP256K1)
    with pytest.raises(EncodingError):
        wire.decode(data, sch.Proof, ED25519)


def test_private_repr_is_redacted():
    _, priv = statement(SECP256K1)
    nonce, _ = sch.commit(SECP256K1, SeededRng(16))
    assert "redacted" in repr(priv) and str(priv.x.value) not in repr(priv)
    assert "redacted" in repr(nonce)


_PUB, _PRIV = statement(SECP256K1)
_VALID = wire.encode(sch.prove(session(), _PUB, _PRIV, SeededRng(17)), SECP256K1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_inputs(_VALID))
def test_decoder_only_raises_encoding_error(data):
    for group in (SECP256K1, ED25519, None):
        decode_strictly(data, sch.Proof, group)


# -- the shared tamper helper itself (other proofs' tests rely on it) ------------------


@dataclass(frozen=True, slots=True)
class _Inner:
    n: int
    flag: bool


@dataclass(frozen=True, slots=True)
class _Outer:
    point: object
    scalar: object
    values: tuple
    blob: bytes
    inner: _Inner
    missing: object = None


def test_tampered_variants_alter_every_field_once_per_label():
    g = SECP256K1
    obj = _Outer(g.base_mul(3), g.scalar(5), (0, 7, 9), b"ab", _Inner(4, True))
    variants = dict(tampered_variants(obj))
    assert len(variants) == len(list(tampered_variants(obj)))
    fields = {next(f for f in ("point", "scalar", "values", "blob", "inner", "missing")
                   if label.startswith(f)) for label in variants}
    assert fields == {"point", "scalar", "values", "blob", "inner"}  # None has nothing to alter
    for label, variant in variants.items():
        assert variant != obj, label
    assert variants["values[:-1]"].values == (0, 7)
    assert variants["values+dup"].values == (0, 7, 9, 9)
    assert variants["values[1]+1"].values == (0, 8, 9)
    assert "values[0]=0" not in variants  # never an unchanged value
    assert variants["inner.n=0"].inner == _Inner(0, True)
    assert variants["inner.flagnegated"].inner == _Inner(4, False)
    assert variants["point=identity"].point.is_identity()


def test_tampered_variants_can_sample_long_sequences():
    obj = _Outer(SECP256K1.generator, SECP256K1.scalar(1), tuple(range(1, 81)), b"", _Inner(2, False))
    touched = {label.split("]")[0] for label in dict(tampered_variants(obj, seq_limit=3))
               if label.startswith("values[") and not label.startswith("values[:")}
    assert touched == {"values[0", "values[40", "values[79"}
