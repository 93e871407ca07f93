"""Π^prm (ring-Pedersen parameters): reduced answers, named soundness checks, degenerate and
cheating statements, repetition counts (the rest: test_all_proofs.py, test_decoders.py)."""

from __future__ import annotations

import dataclasses

import gmpy2
import pytest

from protocol import wire
from protocol.errors import UsageError
from protocol.params import DEFAULT_LEVEL, SecurityLevel
from protocol.rng import SeededRng
from protocol.zk import prm
from tests.primepool import ring_pedersen
from tests.protocol.zk import cases
from tests.protocol.zk.helpers import replace_at

M = DEFAULT_LEVEL.repetitions
PRM = cases.case("prm")
SECRET = ring_pedersen(0)
session = PRM.session
reject = PRM.reject
pub_fixture, proof_fixture = cases.honest_fixtures(PRM)


# -- completeness ------------------------------------------------------------


def test_honest_proof_has_one_entry_per_repetition(proof):
    assert len(proof.A) == len(proof.z) == M


def test_answers_are_reduced_below_phi(proof):
    assert all(0 <= z < SECRET.phi for z in proof.z)


def test_commitments_are_pairwise_distinct(proof):
    assert len(set(proof.A)) == M


def test_prover_refuses_a_wrong_witness(pub):
    priv = prm.Private.from_secret(SECRET)
    with pytest.raises(UsageError):
        prm.prove(session(), pub, dataclasses.replace(priv, lam=priv.lam + 1), SeededRng(1))
    with pytest.raises(UsageError):
        prm.prove(session(), prm.Public.from_params(ring_pedersen(1).params), priv, SeededRng(1))


# -- altered fields (each one at the first, a middle and the last repetition,
# ±1, 0, negated, a flipped bit: test_all_proofs.py) ---------------------------


def test_a_commitment_that_is_not_a_unit_is_rejected(pub, proof):
    err = reject(pub, replace_at(proof, "A", 5, SECRET.crt.p))
    assert err.check == "A[5] is not a unit modulo its modulus"


@pytest.mark.parametrize("value", [-1, "n", "n+z"])
def test_answers_outside_zero_to_n_are_rejected(pub, proof, value):
    z = {-1: -1, "n": pub.n, "n+z": pub.n + proof.z[7]}[value]
    assert reject(pub, replace_at(proof, "z", 7, z)).check == "z[7] is not in [0, N)"


def test_answer_shifted_by_phi_passes_the_equation_but_not_the_bound(pub, proof):
    # t^(z + φ) = t^z: the bound is what keeps one answer to one encoding.
    shifted = proof.z[0] + SECRET.phi
    assert gmpy2.powmod(pub.t, shifted, pub.n) == gmpy2.powmod(pub.t, proof.z[0], pub.n)
    assert shifted >= pub.n
    assert reject(pub, replace_at(proof, "z", 0, shifted)).check == "z[0] is not in [0, N)"


# -- the statement and the number of repetitions -----------------------------


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


def test_s_outside_the_group_of_t_is_caught_by_a_cheating_prover(pub):
    # A prover that does not know log_t(s) can answer only the challenge it guessed:
    # it sets A_i = t^a_i (answer a_i for e_i = 0) for every i and fails on e_i = 1.
    rng = SeededRng("cheat")
    a = [gmpy2.mpz(int.from_bytes(rng.random_bytes(32), "big")) for _ in range(M)]
    cheat = prm.Proof(A=tuple(gmpy2.powmod(pub.t, x, pub.n) for x in a), z=tuple(a))
    assert reject(pub, cheat).check.startswith("t^z[")


def test_one_repetition_short_is_rejected(pub, proof):
    short = dataclasses.replace(proof, A=proof.A[:-1], z=proof.z[:-1])
    assert reject(pub, short).check == f"A and z need exactly {M} entries each"
    assert reject(pub, dataclasses.replace(proof, z=proof.z[:-1])).check.startswith("A and z")


def test_fewer_than_80_repetitions_cannot_be_sent(proof):
    with pytest.raises(UsageError):
        wire.encode(dataclasses.replace(proof, A=proof.A[:79], z=proof.z[:79]))


def test_more_repetitions_than_the_level_asks_are_rejected(pub):
    level = SecurityLevel(repetitions=M + 1)
    longer = prm.prove(session(), pub, prm.Private.from_secret(SECRET), SeededRng(3), level)
    PRM.verify(pub, longer, level=level)
    reject(pub, longer)
