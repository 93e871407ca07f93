"""Π^aff-g: completeness on both curves, the ℓ vs ℓ' range regression, named checks, binding, codec."""

from dataclasses import replace
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings

from protocol import wire
from protocol.errors import InvalidProof, UsageError
from protocol.group import ED25519, SECP256K1
from protocol.params import DEFAULT_LEVEL
from protocol.rng import SeededRng
from protocol.transcript import Transcript
from protocol.zk import affg
from tests.primepool import paillier_key, primes, ring_pedersen
from tests.protocol.zk.helpers import (
    assert_all_rejected,
    decode_strictly,
    hostile_inputs,
    tampered_variants,
)

LEVEL = DEFAULT_LEVEL
ELL, ELL_PRIME = LEVEL.ell, LEVEL.ell_prime
X_BOUND, Y_BOUND = LEVEL.ell + LEVEL.epsilon, LEVEL.ell_prime + LEVEL.epsilon
GROUPS = pytest.mark.parametrize("group", [SECP256K1, ED25519], ids=lambda g: g.name)

# As in presigning: the verifier owns N0 (its K is C) and the ring-Pedersen
# parameters (same modulus, as CGGMP21 aux info); the prover owns N1.
VERIFIER_KEY = paillier_key(1)
VERIFIER_AUX = ring_pedersen(1)
PROVER_KEY = paillier_key(0)


def session(name: bytes = b"session-A", prover: int = 1) -> Transcript:
    t = Transcript.for_session("tests/zk/affg", name, [1, 2, 3], LEVEL)
    return t.fork("prover", prover)


def statement(x: int, y: int, group=SECP256K1, seed: int = 1):
    rng = SeededRng(seed)
    key0, key1 = VERIFIER_KEY.public, PROVER_KEY.public
    C, _ = key0.encrypt(987654321, rng)
    enc_y, rho = key0.encrypt(y, rng)
    Y, rho_y = key1.encrypt(y, rng)
    D = key0.add(key0.mul(C, x), enc_y)
    pub = affg.Public(group, key0, key1, C, D, Y, group.base_mul(x), VERIFIER_AUX.params)
    return pub, affg.Private(x, y, rho, rho_y, PROVER_KEY)


def check(pub, proof, t=None, *, fast=True):
    if fast:
        affg.verify(t or session(), pub, proof, LEVEL, aux_secret=VERIFIER_AUX, key0=VERIFIER_KEY)
    else:
        affg.verify(t or session(), pub, proof, LEVEL)


@cache
def honest(group=SECP256K1):
    pub, priv = statement(-(2**200) + 17, 2**1200 + 5, group)
    return pub, priv, affg.prove(session(), pub, priv, SeededRng(2), LEVEL)


def rejected_by(pub, proof, t=None) -> str:
    with pytest.raises(InvalidProof) as info:
        check(pub, proof, t)
    assert info.value.proof == "affg"
    return info.value.check


@GROUPS
def test_honest_proof_verifies_with_and_without_the_trapdoors(group):
    pub, _, proof = honest(group)
    check(pub, proof, fast=True)
    check(pub, proof, fast=False)
    affg.verify(session(), pub, proof, LEVEL, key0=VERIFIER_KEY)
    affg.verify(session(), pub, proof, LEVEL, aux_secret=VERIFIER_AUX)


def test_crt_prover_and_public_key_prover_give_the_same_proof():
    pub, priv = statement(12, -34)
    with_crt = affg.prove(session(), pub, priv, SeededRng(3))
    plain = affg.prove(session(), pub, replace(priv, key1=None), SeededRng(3))
    assert with_crt == plain
    check(pub, plain)


EXTREMES = [(sx * 2**ELL, sy * 2**ELL_PRIME) for sx in (1, -1) for sy in (1, -1)] + [(0, 0)]


@pytest.mark.parametrize(("x", "y"), EXTREMES, ids=["++", "+-", "-+", "--", "zero"])
def test_honest_extremes_are_accepted(x, y):
    pub, priv = statement(x, y)
    check(pub, affg.prove(session(), pub, priv, SeededRng(4)))


@GROUPS
def test_every_tampered_field_is_rejected(group):
    pub, _, proof = honest(group)
    assert assert_all_rejected(lambda p: check(pub, p), proof) >= 13 * 3


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
    proof = affg.prove(session(), pub, priv, SeededRng(5))
    assert 2**X_BOUND < abs(proof.z1) <= 2**Y_BOUND
    assert rejected_by(pub, proof) == f"z1 outside ±2^{X_BOUND}"
    _buggy_z1_bound(monkeypatch)
    check(pub, proof)  # only the correct bound stood between this proof and acceptance


def test_y_far_out_of_range_is_rejected_by_the_z2_check():
    pub, priv = statement(5, 2**Y_BOUND)
    proof = affg.prove(session(), pub, priv, SeededRng(6))
    assert rejected_by(pub, proof) == f"z2 outside ±2^{Y_BOUND}"


@pytest.mark.parametrize(("name", "bits"), [("z1", X_BOUND), ("z2", Y_BOUND)])
@pytest.mark.parametrize("sign", [1, -1])
def test_responses_just_outside_their_range_are_rejected_by_name(name, bits, sign):
    pub, _, proof = honest()
    bad = replace(proof, **{name: sign * (2**bits + 1)})
    assert rejected_by(pub, bad) == f"{name} outside ±2^{bits}"


@pytest.mark.parametrize(("name", "bits"), [("z1", X_BOUND), ("z2", Y_BOUND)])
def test_responses_on_their_bound_pass_the_range_check(name, bits):
    pub, _, proof = honest()
    assert "outside" not in rejected_by(pub, replace(proof, **{name: 2**bits}))


def test_z1_in_the_gap_is_named_as_z1():
    pub, _, proof = honest()
    assert rejected_by(pub, replace(proof, z1=2**Y_BOUND)) == f"z1 outside ±2^{X_BOUND}"


def test_group_equation_is_checked():
    pub, priv, _ = honest()
    lying = replace(pub, X=pub.group.base_mul(priv.x + 1))
    proof = affg.prove(session(), lying, priv, SeededRng(7))
    assert rejected_by(lying, proof) == "z1·G = Bx + e·X"


def test_y_under_n1_must_match_the_y_in_d():
    # Y encrypts another value than the y inside D: the N1 equation fails.
    pub, priv, _ = honest()
    other_y, rho_y = PROVER_KEY.public.encrypt(priv.y + 1, SeededRng(8))
    lying = replace(pub, Y=other_y)
    proof = affg.prove(session(), lying, replace(priv, rho_y=rho_y), SeededRng(9))
    assert rejected_by(lying, proof) == "(1+N1)^z2·wy^N1 = By·Y^e mod N1² equation does not hold"


@GROUPS
def test_identity_bx_is_rejected(group):
    pub, _, proof = honest(group)
    assert rejected_by(pub, replace(proof, Bx=group.identity)) == "Bx is the identity"
    other = ED25519 if group is SECP256K1 else SECP256K1
    assert "group" in rejected_by(pub, replace(proof, Bx=other.generator))


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
    pub, _, proof = honest()
    assert rejected_by(pub, replace(proof, **{name: value})) == f"{name} is not a unit modulo its modulus"


BAD_STATEMENT_UNITS = [("C", 0), ("C", P0), ("D", N0**2), ("D", N0), ("Y", 0), ("Y", P1 * 11)]


@pytest.mark.parametrize(("name", "value"), BAD_STATEMENT_UNITS)
def test_non_unit_ciphertexts_in_the_statement_are_rejected(name, value):
    pub, _, proof = honest()
    assert rejected_by(replace(pub, **{name: value}), proof) == f"{name} is not a unit modulo its modulus"


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
    pub, _, proof = honest()
    with pytest.raises(InvalidProof):
        affg.verify(session(), change(pub), proof, LEVEL)


def test_proof_is_bound_to_the_session_and_the_prover_fork():
    pub, _, proof = honest()
    assert rejected_by(pub, proof, session(b"session-B")).endswith("does not hold")
    assert rejected_by(pub, proof, session(prover=2)).endswith("does not hold")


def test_usage_errors_for_mismatched_local_secrets():
    pub, priv, proof = honest()
    with pytest.raises(UsageError):
        affg.prove(session(), pub, replace(priv, key1=paillier_key(3)), SeededRng(10))
    with pytest.raises(UsageError):
        affg.verify(session(), pub, proof, LEVEL, key0=paillier_key(3))
    with pytest.raises(UsageError):
        affg.verify(session(), pub, proof, LEVEL, aux_secret=ring_pedersen(2))


def test_not_a_proof_is_rejected():
    pub, _, _ = honest()
    with pytest.raises(InvalidProof):
        affg.verify(session(), pub, 17, LEVEL)


@GROUPS
def test_seeded_rng_gives_byte_identical_proofs(group):
    pub, priv = statement(3, 4, group)
    a = wire.encode(affg.prove(session(), pub, priv, SeededRng(11)), group)
    b = wire.encode(affg.prove(session(), pub, priv, SeededRng(11)), group)
    c = wire.encode(affg.prove(session(), pub, priv, SeededRng(12)), group)
    assert a == b != c


@GROUPS
def test_wire_round_trip(group):
    pub, _, proof = honest(group)
    decoded = wire.decode(wire.encode(proof, group), affg.Proof, group)
    assert decoded == proof
    check(pub, decoded)


def test_tampered_variants_that_still_encode_still_fail_after_a_round_trip():
    pub, _, proof = honest()
    for _, bad in tampered_variants(proof):
        try:
            data = wire.encode(bad, SECP256K1)
        except UsageError:
            continue  # negative naturals, identity points: not even sendable
        with pytest.raises(InvalidProof):
            check(pub, wire.decode(data, affg.Proof, SECP256K1))


def test_private_repr_is_redacted():
    _, priv = statement(31337, 27182818)
    text = repr(priv)
    assert "31337" not in text and "27182818" not in text and "redacted" in text


_VALID = wire.encode(honest()[2], SECP256K1)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_inputs(_VALID))
def test_decoder_only_raises_encoding_error(data):
    for group in (SECP256K1, ED25519, None):
        decode_strictly(data, affg.Proof, group)
