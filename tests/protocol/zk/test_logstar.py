"""Π^log*: a non-generator base, named checks, statement binding (the rest: test_all_proofs.py)."""

from dataclasses import replace

import pytest

from protocol.errors import UsageError
from protocol.group import ED25519, SECP256K1
from protocol.params import DEFAULT_LEVEL as LEVEL
from protocol.rng import SeededRng
from protocol.zk import logstar
from tests.primepool import paillier_key, primes, ring_pedersen
from tests.protocol.zk import cases
from tests.protocol.zk.cases import PROVER_KEY, VERIFIER_AUX, each_group
from tests.protocol.zk.cases import logstar_statement as statement

ELL, ELL_EPS = LEVEL.ell, LEVEL.ell + LEVEL.epsilon
LOGSTAR = cases.case("logstar")
session = LOGSTAR.session


@each_group
def test_generator_as_base_works_too(group):
    pub, priv = statement(99, group, g=group.generator)
    LOGSTAR.verify(pub, logstar.prove(session(), pub, priv, SeededRng(3)))


def test_crt_prover_and_public_key_prover_give_the_same_proof():
    pub, priv = statement(2024)
    with_crt = logstar.prove(session(), pub, priv, SeededRng(4))
    plain = logstar.prove(session(), pub, logstar.Private(priv.x, priv.rho), SeededRng(4))
    assert with_crt == plain
    LOGSTAR.verify(pub, plain)


@each_group
@pytest.mark.parametrize("x", [2**ELL, -(2**ELL)], ids=["+2^l", "-2^l"])
def test_honest_extremes_are_accepted(group, x):
    pub, priv = statement(x, group)
    LOGSTAR.verify(pub, logstar.prove(session(), pub, priv, SeededRng(5)))


@pytest.mark.parametrize("z1", [2**ELL_EPS + 1, -(2**ELL_EPS) - 1])
def test_z1_just_outside_the_range_is_rejected_by_name(z1):
    pub, _, proof = LOGSTAR.honest()
    assert LOGSTAR.failing_check(pub, replace(proof, z1=z1)) == f"z1 outside ±2^{ELL_EPS}"


def test_exponent_far_out_of_range_is_caught_by_the_range_check():
    pub, priv = statement(2**ELL_EPS)
    proof = logstar._prove(session(), pub, priv, SeededRng(6), LEVEL)   # a cheating prover
    assert LOGSTAR.failing_check(pub, proof) == f"z1 outside ±2^{ELL_EPS}"


@pytest.mark.parametrize("x", [2**ELL + 1, -(2**ELL) - 1])
def test_honest_prover_refuses_a_witness_out_of_range(x):
    # The answer z1 = α + e·x would leak such an x even though verify rejects it.
    pub, priv = statement(x)
    with pytest.raises(UsageError, match="witness"):
        logstar.prove(session(), pub, priv, SeededRng(8))


def test_group_equation_is_checked():
    # A proof for X' = x'·g with a Paillier part for x: only the group equation can fail.
    pub, priv, _ = LOGSTAR.honest()
    lying = replace(pub, X=pub.g * (priv.x + 1))
    proof = logstar.prove(session(), lying, priv, SeededRng(7))
    assert LOGSTAR.failing_check(lying, proof) == "z1·g = Y + e·X"


@each_group
def test_identity_base_and_commitment_are_rejected(group):
    pub, _, proof = cases.case("logstar", group).honest()
    assert LOGSTAR.failing_check(replace(pub, g=group.identity), proof) == "g is the identity"
    assert LOGSTAR.failing_check(pub, replace(proof, Y=group.identity)) == "Y is the identity"


def test_points_of_another_group_are_rejected_not_crashing():
    pub, _, proof = cases.case("logstar", SECP256K1).honest()
    _, _, ed_proof = cases.case("logstar", ED25519).honest()
    check_name = LOGSTAR.failing_check(pub, replace(proof, Y=ed_proof.Y))
    assert check_name == "Y is not a point of the statement's group"
    assert "group" in LOGSTAR.failing_check(replace(pub, X=ED25519.generator), proof)


P0 = primes(0)[0]
P_HAT = primes(1)[0]
N0, N0_SQ, N_HAT = PROVER_KEY.n, PROVER_KEY.n**2, VERIFIER_AUX.params.n
BAD_UNITS = {
    "A": [0, N0_SQ, P0, N0, -1],
    "z2": [0, N0, P0, -1],
    "S": [0, N_HAT, P_HAT],
    "D": [0, N_HAT + 1, 5 * P_HAT],
}


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, vs in BAD_UNITS.items() for v in vs])
def test_non_units_in_the_proof_are_rejected_by_name(name, value):
    pub, _, proof = LOGSTAR.honest()
    assert LOGSTAR.failing_check(pub, replace(proof, **{name: value})) == f"{name} is not a unit modulo its modulus"


@pytest.mark.parametrize("value", [0, N0_SQ, P0, -1])
def test_non_unit_ciphertext_in_the_statement_is_rejected(value):
    pub, _, proof = LOGSTAR.honest()
    assert LOGSTAR.failing_check(replace(pub, C=value), proof) == "C is not a unit modulo its modulus"


OTHER_STATEMENTS = {
    "another C": lambda pub: replace(pub, C=statement(5)[0].C),
    "another X": lambda pub: replace(pub, X=pub.X + pub.g),
    "another g": lambda pub: replace(pub, g=pub.g + pub.g),
    "another N0": lambda pub: replace(pub, key=paillier_key(2).public),
    "another verifier aux": lambda pub: replace(pub, aux=ring_pedersen(2).params),
}


@pytest.mark.parametrize("change", OTHER_STATEMENTS.values(), ids=OTHER_STATEMENTS.keys())
def test_other_statements_are_rejected(change):
    pub, _, proof = LOGSTAR.honest()
    LOGSTAR.reject(change(pub), proof, aux_secret=None)


def test_usage_errors_for_mismatched_local_secrets():
    pub, priv, proof = LOGSTAR.honest()
    with pytest.raises(UsageError):
        logstar.prove(session(), pub, replace(priv, key=paillier_key(3)), SeededRng(8))
    with pytest.raises(UsageError):
        logstar.verify(session(), pub, proof, LEVEL, aux_secret=ring_pedersen(2))
