"""Π^sch: the early commitment, named checks and groups (the rest: test_all_proofs.py)."""

from dataclasses import dataclass

import pytest

from protocol.errors import UsageError
from protocol.group import ED25519, SECP256K1
from protocol.rng import SeededRng
from protocol.zk import sch
from tests.protocol.zk import cases
from tests.protocol.zk.cases import each_group
from tests.protocol.zk.cases import sch_statement as statement
from tests.protocol.zk.helpers import tampered_variants

SCH = cases.case("sch", SECP256K1)
session = SCH.session


@each_group
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


@each_group
def test_identity_commitment_is_rejected_by_name(group):
    pub, priv = statement(group)
    proof = sch.Proof(A=group.identity, z=group.scalar(0))
    assert cases.case("sch", group).reject(pub, proof).check == "A is the identity"


@each_group
def test_other_statement_is_rejected(group):
    pub, priv = statement(group)
    proof = sch.prove(session(), pub, priv, SeededRng(7))
    other, _ = statement(group, seed=99)
    assert cases.case("sch", group).reject(other, proof).check == "z·G = A + e·X"


def test_wrong_witness_does_not_verify():
    pub, _ = statement(SECP256K1)
    proof = sch.prove(session(), pub, sch.Private(SECP256K1.scalar(12345)), SeededRng(8))
    SCH.reject(pub, proof)


def test_proof_of_another_group_is_rejected_not_crashing():
    pub, _ = statement(SECP256K1)
    ed_pub, ed_priv = statement(ED25519)
    proof = sch.prove(session(), ed_pub, ed_priv, SeededRng(11))
    assert "group" in SCH.reject(pub, proof).check


def test_statement_point_of_another_group_is_rejected_by_name():
    # X arrives from a peer: a point of the wrong curve is that peer's fault, not a usage error.
    pub, priv = statement(SECP256K1)
    proof = sch.prove(session(), pub, priv, SeededRng(12))
    foreign = sch.Public(SECP256K1, ED25519.generator)
    assert SCH.reject(foreign, proof).check == "X is not a point of the statement's group"


def test_secret_nonce_repr_is_redacted():
    nonce, _ = sch.commit(SECP256K1, SeededRng(16))
    assert "redacted" in repr(nonce)


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
