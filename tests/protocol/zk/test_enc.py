"""Π^enc: named range and unit checks, statement binding, local secrets (the rest: test_all_proofs.py)."""

from dataclasses import replace

import pytest

from protocol.errors import UsageError
from protocol.group import ED25519
from protocol.params import DEFAULT_LEVEL as LEVEL
from protocol.rng import SeededRng
from protocol.zk import enc
from tests.primepool import paillier_key, primes, ring_pedersen
from tests.protocol.zk import cases
from tests.protocol.zk.cases import PROVER_KEY, VERIFIER_AUX
from tests.protocol.zk.cases import enc_statement as statement

ELL, ELL_EPS = LEVEL.ell, LEVEL.ell + LEVEL.epsilon
ENC = cases.case("enc")
session = ENC.session


def test_crt_prover_and_public_key_prover_give_the_same_proof():
    pub, priv = statement(-987654321)
    with_crt = enc.prove(session(), pub, priv, SeededRng(3))
    plain = enc.prove(session(), pub, enc.Private(priv.k, priv.rho), SeededRng(3))
    assert with_crt == plain
    ENC.verify(pub, plain)


@pytest.mark.parametrize("k", [2**ELL, -(2**ELL), 0], ids=["+2^l", "-2^l", "zero"])
def test_honest_extremes_are_accepted(k):
    pub, priv = statement(k)
    ENC.verify(pub, enc.prove(session(), pub, priv, SeededRng(4)))


@pytest.mark.parametrize("z1", [2**ELL_EPS + 1, -(2**ELL_EPS) - 1, 2**(ELL_EPS + 200)])
def test_z1_just_outside_the_range_is_rejected_by_name(z1):
    pub, _, proof = ENC.honest()
    assert ENC.failing_check(pub, replace(proof, z1=z1)) == f"z1 outside ±2^{ELL_EPS}"


@pytest.mark.parametrize("z1", [2**ELL_EPS, -(2**ELL_EPS)])
def test_z1_on_the_bound_passes_the_range_check(z1):
    pub, _, proof = ENC.honest()
    assert "outside" not in ENC.failing_check(pub, replace(proof, z1=z1))


def test_plaintext_far_out_of_range_is_caught_by_the_range_check():
    # The honest algorithm run on k = 2^(ℓ+ε): every equation holds, only z1's range fails.
    pub, priv = statement(2**ELL_EPS)
    proof = enc._prove(session(), pub, priv, SeededRng(5), LEVEL)   # a cheating prover
    assert ENC.failing_check(pub, proof) == f"z1 outside ±2^{ELL_EPS}"


@pytest.mark.parametrize("k", [2**ELL + 1, -(2**ELL) - 1])
def test_honest_prover_refuses_a_witness_out_of_range(k):
    # The answer z1 = α + e·k would leak such a k even though verify rejects it.
    pub, priv = statement(k)
    with pytest.raises(UsageError, match="witness"):
        enc.prove(session(), pub, priv, SeededRng(6))


P0 = primes(0)[0]
P_HAT = primes(1)[0]
N0, N0_SQ, N_HAT = PROVER_KEY.n, PROVER_KEY.n**2, VERIFIER_AUX.params.n
BAD_UNITS = {
    "A": [0, N0_SQ, N0_SQ + 1, P0, N0, -1],
    "z2": [0, N0, P0, 3 * P0, -1],
    "S": [0, N_HAT, P_HAT, N_HAT + 1],
    "C": [0, N_HAT, 2 * P_HAT, -5],
}


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, vs in BAD_UNITS.items() for v in vs])
def test_non_units_in_the_proof_are_rejected_by_name(name, value):
    pub, _, proof = ENC.honest()
    bad = replace(proof, **{name: value})
    assert ENC.failing_check(pub, bad) == f"{name} is not a unit modulo its modulus"


@pytest.mark.parametrize("value", [0, N0_SQ, P0, N0 * 7, -3])
def test_non_unit_ciphertext_in_the_statement_is_rejected(value):
    pub, _, proof = ENC.honest()
    bad = enc.Public(pub.group, pub.key, value, pub.aux)
    assert ENC.failing_check(bad, proof) == "K is not a unit modulo its modulus"


OTHER_STATEMENTS = {
    "another K": lambda pub: statement(5)[0],
    "another N0": lambda pub: enc.Public(pub.group, paillier_key(2).public, pub.K, pub.aux),
    "another verifier aux": lambda pub: enc.Public(pub.group, pub.key, pub.K,
                                                   ring_pedersen(2).params),
    "another group": lambda pub: enc.Public(ED25519, pub.key, pub.K, pub.aux),
}


@pytest.mark.parametrize("change", OTHER_STATEMENTS.values(), ids=OTHER_STATEMENTS.keys())
def test_other_statements_are_rejected(change):
    pub, _, proof = ENC.honest()
    ENC.reject(change(pub), proof, aux_secret=None)


def test_usage_errors_for_mismatched_local_secrets():
    pub, priv = statement(1)
    with pytest.raises(UsageError):
        enc.prove(session(), pub, enc.Private(priv.k, priv.rho, paillier_key(3)), SeededRng(7))
    pub, _, proof = ENC.honest()
    with pytest.raises(UsageError):
        enc.verify(session(), pub, proof, LEVEL, aux_secret=ring_pedersen(2))
