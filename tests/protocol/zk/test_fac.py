"""Π^fac (no small factor): the exact range, both verifier paths, named checks, the statement
(the rest: test_all_proofs.py, test_decoders.py)."""

from __future__ import annotations

import dataclasses

import gmpy2
import pytest

from protocol.errors import UsageError
from protocol.params import DEFAULT_LEVEL
from protocol.rng import SeededRng
from protocol.zk import fac
from tests.primepool import paillier_key, ring_pedersen
from tests.protocol.zk import cases
from tests.protocol.zk.helpers import assert_all_rejected

FIELDS = ["P", "Q", "A", "B", "T", "sigma", "z1", "z2", "w1", "w2", "v"]
AUX_FORMS = ["params", "secret"]
FAC = cases.case("fac")
KEY, AUX = cases.PROVER_KEY, cases.VERIFIER_AUX
pub_fixture, proof_fixture = cases.honest_fixtures(FAC)


def reject(pub, proof, aux_secret=None):
    """Rejected by verify() with public parameters only, unless a trapdoor is given."""
    return FAC.reject(pub, proof, aux_secret=aux_secret)


def trapdoor(form: str) -> dict:
    """verify() with public parameters only, or with the verifier's trapdoor."""
    return {"aux_secret": AUX if form == "secret" else None}


def root_bound(n0) -> gmpy2.mpz:
    return gmpy2.isqrt(n0 << (2 * (DEFAULT_LEVEL.ell + DEFAULT_LEVEL.epsilon)))


# -- completeness ------------------------------------------------------------


def test_answers_are_well_inside_the_range(proof):
    bound = root_bound(KEY.n)
    assert abs(proof.z1) < bound and abs(proof.z2) < bound


def test_statement_refuses_a_trapdoor():
    # The trapdoor is the verifier's and goes to verify() only, never into a statement.
    with pytest.raises(UsageError):
        fac.Public(KEY.n, AUX)


def test_prover_refuses_a_wrong_witness(pub):
    with pytest.raises(UsageError):
        fac.prove(FAC.session(), pub, fac.Private(KEY.p, KEY.q + 2), SeededRng(1))


def test_public_needs_ring_pedersen_aux():
    with pytest.raises(UsageError):
        fac.Public(KEY.n, (1, 2, 3))


# -- every field altered, on both verifier paths -----------------------------


@pytest.mark.parametrize("form", AUX_FORMS)
@pytest.mark.parametrize("name", FIELDS[:5])
def test_negating_a_commitment_modulo_n_hat_is_rejected(pub, proof, name, form):
    # Plain negation of every field: the generic alterations below and in test_all_proofs.py.
    negated = AUX.params.n - getattr(proof, name)
    reject(pub, dataclasses.replace(proof, **{name: negated}), **trapdoor(form))


def test_every_generic_alteration_is_rejected_without_the_trapdoor(pub, proof):
    # ±1, 0, negated and a flipped bit, for every field (with it: test_all_proofs.py).
    count = assert_all_rejected(lambda p: FAC.verify(pub, p, **trapdoor("params")), proof)
    assert count >= 5 * len(FIELDS)


@pytest.mark.parametrize("name", FIELDS[:5])
def test_commitments_must_be_units(pub, proof, name):
    for value in (0, AUX.crt.p, AUX.params.n):
        err = reject(pub, dataclasses.replace(proof, **{name: value}))
        assert err.check == f"{name} is not a unit modulo its modulus"


# -- the range check, exactly at its boundary --------------------------------


@pytest.mark.parametrize("name", ["z1", "z2"])
@pytest.mark.parametrize("sign", [1, -1])
def test_range_boundary_is_exact(pub, proof, name, sign):
    bound = root_bound(KEY.n)
    limit = KEY.n << (2 * (DEFAULT_LEVEL.ell + DEFAULT_LEVEL.epsilon))
    assert bound * bound <= limit < (bound + 1) * (bound + 1)
    inside = reject(pub, dataclasses.replace(proof, **{name: sign * bound}))
    assert not inside.check.startswith(name)
    outside = reject(pub, dataclasses.replace(proof, **{name: sign * (bound + 1)}))
    assert outside.check == f"{name} outside ±sqrt(N0)·2^(ℓ+ε)"


# -- the statement -----------------------------------------------------------


def test_another_n0_is_rejected(proof):
    reject(fac.Public(paillier_key(2).n, AUX.params), proof)


@pytest.mark.parametrize("form", AUX_FORMS)
def test_other_ring_pedersen_parameters_are_rejected(proof, form):
    other = ring_pedersen(2)
    reject(fac.Public(KEY.n, other.params), proof, aux_secret=other if form == "secret" else None)


def test_swapped_s_and_t_are_rejected(proof):
    p = AUX.params
    reject(fac.Public(KEY.n, type(p)(p.n, p.t, p.s)), proof)


@pytest.mark.parametrize(
    "n0, check",
    [
        (gmpy2.next_prime(gmpy2.mpz(1) << 2045) * 3, "N0 is not 2048 to 4096 bits"),
        (gmpy2.mpz(1) << 4096 | 1, "N0 is not 2048 to 4096 bits"),
        (0, "N0 is not 2048 to 4096 bits"),
    ],
)
def test_n0_outside_the_level_is_rejected(proof, n0, check):
    assert reject(fac.Public(n0, AUX.params), proof).check == check


def test_ring_pedersen_values_must_be_units(proof):
    p = AUX.params
    bad = type(p)(p.n, p.s, AUX.crt.q)
    assert reject(fac.Public(KEY.n, bad), proof).check == "t is not a unit modulo its modulus"
