"""Π^aff-g: the ℓ vs ℓ' range regression, named checks, statement binding (the rest: test_all_proofs.py)."""

from dataclasses import replace

import pytest

from protocol.errors import UsageError
from protocol.group import ED25519, SECP256K1
from protocol.params import DEFAULT_LEVEL as LEVEL
from protocol.rng import SeededRng
from protocol.zk import affg
from tests.primepool import paillier_key, primes, ring_pedersen
from tests.protocol.zk import cases
from tests.protocol.zk.cases import PROVER_KEY, VERIFIER_AUX, VERIFIER_KEY, each_group
from tests.protocol.zk.cases import affg_statement as statement

ELL, ELL_PRIME = LEVEL.ell, LEVEL.ell_prime
X_BOUND, Y_BOUND = LEVEL.ell + LEVEL.epsilon, LEVEL.ell_prime + LEVEL.epsilon
AFFG = cases.case("affg")
session = AFFG.session


def test_crt_prover_and_public_key_prover_give_the_same_proof():
    pub, priv = statement(12, -34)
    with_crt = affg.prove(session(), pub, priv, SeededRng(3))
    plain = affg.prove(session(), pub, replace(priv, key1=None), SeededRng(3))
    assert with_crt == plain
    AFFG.verify(pub, plain)


EXTREMES = [(sx * 2**ELL, sy * 2**ELL_PRIME) for sx in (1, -1) for sy in (1, -1)] + [(0, 0)]


@pytest.mark.parametrize(("x", "y"), EXTREMES, ids=["++", "+-", "-+", "--", "zero"])
def test_honest_extremes_are_accepted(x, y):
    pub, priv = statement(x, y)
    AFFG.verify(pub, affg.prove(session(), pub, priv, SeededRng(4)))


def _buggy_z1_bound(monkeypatch):
    """Reproduce the published bug: z1 checked against ℓ'+ε instead of ℓ+ε."""
    original = affg.require_signed_range

    def widened(value, bits, proof, name):
        original(value, Y_BOUND if name == "z1" else bits, proof, name)

    monkeypatch.setattr(affg, "require_signed_range", widened)


def test_regression_x_in_the_gap_between_l_and_l_prime_is_rejected(monkeypatch):
    # x = 2^(ℓ+ε) is far outside ±2^ℓ, yet z1 = α + e·x lands below 2^(ℓ'+ε):
    # a verifier bounding z1 by ℓ'+ε would accept. Every equation holds.
    pub, priv = statement(2**X_BOUND, 5)
    proof = affg._prove(session(), pub, priv, SeededRng(5), LEVEL)   # a cheating prover
    assert 2**X_BOUND < abs(proof.z1) <= 2**Y_BOUND
    assert AFFG.failing_check(pub, proof) == f"z1 outside ±2^{X_BOUND}"
    _buggy_z1_bound(monkeypatch)
    AFFG.verify(pub, proof)  # only the correct bound stood between this proof and acceptance


def test_y_far_out_of_range_is_rejected_by_the_z2_check():
    pub, priv = statement(5, 2**Y_BOUND)
    proof = affg._prove(session(), pub, priv, SeededRng(6), LEVEL)   # a cheating prover
    assert AFFG.failing_check(pub, proof) == f"z2 outside ±2^{Y_BOUND}"


@pytest.mark.parametrize(("x", "y"), [(2**ELL + 1, 5), (-(2**ELL) - 1, 5),
                                      (5, 2**ELL_PRIME + 1), (5, -(2**ELL_PRIME) - 1)])
def test_honest_prover_refuses_a_witness_out_of_range(x, y):
    # The answers z = α + e·w would leak such a witness even though verify rejects them.
    pub, priv = statement(x, y)
    with pytest.raises(UsageError, match="witness"):
        affg.prove(session(), pub, priv, SeededRng(7))


@pytest.mark.parametrize(("name", "bits"), [("z1", X_BOUND), ("z2", Y_BOUND)])
@pytest.mark.parametrize("sign", [1, -1])
def test_responses_just_outside_their_range_are_rejected_by_name(name, bits, sign):
    pub, _, proof = AFFG.honest()
    bad = replace(proof, **{name: sign * (2**bits + 1)})
    assert AFFG.failing_check(pub, bad) == f"{name} outside ±2^{bits}"


@pytest.mark.parametrize(("name", "bits"), [("z1", X_BOUND), ("z2", Y_BOUND)])
def test_responses_on_their_bound_pass_the_range_check(name, bits):
    pub, _, proof = AFFG.honest()
    assert "outside" not in AFFG.failing_check(pub, replace(proof, **{name: 2**bits}))


def test_z1_in_the_gap_is_named_as_z1():
    pub, _, proof = AFFG.honest()
    assert AFFG.failing_check(pub, replace(proof, z1=2**Y_BOUND)) == f"z1 outside ±2^{X_BOUND}"


def test_group_equation_is_checked():
    pub, priv, _ = AFFG.honest()
    lying = replace(pub, X=pub.group.base_mul(priv.x + 1))
    proof = affg.prove(session(), lying, priv, SeededRng(7))
    assert AFFG.failing_check(lying, proof) == "z1·G = Bx + e·X"


def test_y_under_n1_must_match_the_y_in_d():
    # Y encrypts another value than the y inside D: the N1 equation fails.
    pub, priv, _ = AFFG.honest()
    other_y, rho_y = PROVER_KEY.public.encrypt(priv.y + 1, SeededRng(8))
    lying = replace(pub, Y=other_y)
    proof = affg.prove(session(), lying, replace(priv, rho_y=rho_y), SeededRng(9))
    assert AFFG.failing_check(lying, proof) == "(1+N1)^z2·wy^N1 = By·Y^e mod N1² equation does not hold"


@each_group
def test_identity_bx_is_rejected(group):
    pub, _, proof = cases.case("affg", group).honest()
    assert AFFG.failing_check(pub, replace(proof, Bx=group.identity)) == "Bx is the identity"
    other = ED25519 if group is SECP256K1 else SECP256K1
    assert "group" in AFFG.failing_check(pub, replace(proof, Bx=other.generator))


P0, P1, P_HAT = primes(1)[0], primes(0)[0], primes(1)[1]
N0, N1, N_HAT = VERIFIER_KEY.n, PROVER_KEY.n, VERIFIER_AUX.params.n
BAD_UNITS = {
    "A": [0, N0**2, P0, N0],
    "By": [0, N1**2, P1, -1],
    "w": [0, N0, P0],
    "wy": [0, N1, 3 * P1],
    "S": [0, N_HAT],
    "T": [P_HAT, -2],
    "E": [0, N_HAT + 1],
    "F": [2 * P_HAT, N_HAT],
}


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, vs in BAD_UNITS.items() for v in vs])
def test_non_units_in_the_proof_are_rejected_by_name(name, value):
    pub, _, proof = AFFG.honest()
    assert AFFG.failing_check(pub, replace(proof, **{name: value})) == f"{name} is not a unit modulo its modulus"


BAD_STATEMENT_UNITS = [("C", 0), ("C", P0), ("D", N0**2), ("D", N0), ("Y", 0), ("Y", P1 * 11)]


@pytest.mark.parametrize(("name", "value"), BAD_STATEMENT_UNITS)
def test_non_unit_ciphertexts_in_the_statement_are_rejected(name, value):
    pub, _, proof = AFFG.honest()
    assert AFFG.failing_check(replace(pub, **{name: value}), proof) == f"{name} is not a unit modulo its modulus"


OTHER_STATEMENTS = {
    "another C": lambda pub: replace(pub, C=statement(1, 1, seed=7)[0].C),
    "another D": lambda pub: replace(pub, D=statement(1, 1, seed=7)[0].D),
    "another Y": lambda pub: replace(pub, Y=statement(1, 1, seed=7)[0].Y),
    "another X": lambda pub: replace(pub, X=pub.X + pub.group.generator),
    "another N0": lambda pub: replace(pub, key0=paillier_key(2).public),
    "another N1": lambda pub: replace(pub, key1=paillier_key(3).public),
    "another verifier aux": lambda pub: replace(pub, aux=ring_pedersen(2).params),
    "another group": lambda pub: replace(pub, group=ED25519, X=ED25519.generator),
}


@pytest.mark.parametrize("change", OTHER_STATEMENTS.values(), ids=OTHER_STATEMENTS.keys())
def test_other_statements_are_rejected(change):
    pub, _, proof = AFFG.honest()
    AFFG.reject(change(pub), proof, aux_secret=None, key0=None)


def test_usage_errors_for_mismatched_local_secrets():
    pub, priv, proof = AFFG.honest()
    with pytest.raises(UsageError):
        affg.prove(session(), pub, replace(priv, key1=paillier_key(3)), SeededRng(10))
    with pytest.raises(UsageError):
        affg.verify(session(), pub, proof, LEVEL, key0=paillier_key(3))
    with pytest.raises(UsageError):
        affg.verify(session(), pub, proof, LEVEL, aux_secret=ring_pedersen(2))
