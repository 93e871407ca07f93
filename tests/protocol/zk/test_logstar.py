"""Π^log*: completeness on both curves with a non-generator base, named checks, binding, codec."""

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
from protocol.zk import logstar
from tests.primepool import paillier_key, primes, ring_pedersen
from tests.protocol.zk.helpers import (
    assert_all_rejected,
    decode_strictly,
    hostile_inputs,
    tampered_variants,
)

LEVEL = DEFAULT_LEVEL
ELL, ELL_EPS = LEVEL.ell, LEVEL.ell + LEVEL.epsilon
GROUPS = pytest.mark.parametrize("group", [SECP256K1, ED25519], ids=lambda g: g.name)

# The prover owns Paillier key 0; the verifier's ring-Pedersen parameters are index 1.
PROVER_KEY = paillier_key(0)
VERIFIER_AUX = ring_pedersen(1)


def session(name: bytes = b"session-A", prover: int = 1) -> Transcript:
    t = Transcript.for_session("tests/zk/logstar", name, [1, 2, 3], LEVEL)
    return t.fork("prover", prover)


def base(group):
    """A base that is not the generator, like presigning's Γ."""
    return group.base_mul(0xC0FFEE)


def statement(x: int, group=SECP256K1, seed: int = 1, g=None):
    g = base(group) if g is None else g
    C, rho = PROVER_KEY.public.encrypt(x, SeededRng(seed))
    pub = logstar.Public(group, g, PROVER_KEY.public, C, g * x, VERIFIER_AUX.params)
    return pub, logstar.Private(x, rho, PROVER_KEY)


def check(pub, proof, t=None, *, fast=True):
    logstar.verify(t or session(), pub, proof, LEVEL, aux_secret=VERIFIER_AUX if fast else None)


@cache
def honest(group=SECP256K1):
    pub, priv = statement(-424242, group)
    return pub, priv, logstar.prove(session(), pub, priv, SeededRng(2), LEVEL)


def rejected_by(pub, proof, t=None) -> str:
    with pytest.raises(InvalidProof) as info:
        check(pub, proof, t)
    assert info.value.proof == "logstar"
    return info.value.check


@GROUPS
def test_honest_proof_verifies_with_and_without_the_trapdoor(group):
    pub, _, proof = honest(group)
    check(pub, proof, fast=True)
    check(pub, proof, fast=False)


@GROUPS
def test_generator_as_base_works_too(group):
    pub, priv = statement(99, group, g=group.generator)
    check(pub, logstar.prove(session(), pub, priv, SeededRng(3)))


def test_crt_prover_and_public_key_prover_give_the_same_proof():
    pub, priv = statement(2024)
    with_crt = logstar.prove(session(), pub, priv, SeededRng(4))
    plain = logstar.prove(session(), pub, logstar.Private(priv.x, priv.rho), SeededRng(4))
    assert with_crt == plain
    check(pub, plain)


@GROUPS
@pytest.mark.parametrize("x", [2**ELL, -(2**ELL)], ids=["+2^l", "-2^l"])
def test_honest_extremes_are_accepted(group, x):
    pub, priv = statement(x, group)
    check(pub, logstar.prove(session(), pub, priv, SeededRng(5)))


@GROUPS
def test_every_tampered_field_is_rejected(group):
    pub, _, proof = honest(group)
    assert assert_all_rejected(lambda p: check(pub, p), proof) >= 7 * 3


@pytest.mark.parametrize("z1", [2**ELL_EPS + 1, -(2**ELL_EPS) - 1])
def test_z1_just_outside_the_range_is_rejected_by_name(z1):
    pub, _, proof = honest()
    assert rejected_by(pub, replace(proof, z1=z1)) == f"z1 outside ±2^{ELL_EPS}"


def test_exponent_far_out_of_range_is_caught_by_the_range_check():
    pub, priv = statement(2**ELL_EPS)
    proof = logstar.prove(session(), pub, priv, SeededRng(6))
    assert rejected_by(pub, proof) == f"z1 outside ±2^{ELL_EPS}"


def test_group_equation_is_checked():
    # A proof for X' = x'·g with a Paillier part for x: only the group equation can fail.
    pub, priv, _ = honest()
    lying = replace(pub, X=pub.g * (priv.x + 1))
    proof = logstar.prove(session(), lying, priv, SeededRng(7))
    assert rejected_by(lying, proof) == "z1·g = Y + e·X"


@GROUPS
def test_identity_base_and_commitment_are_rejected(group):
    pub, _, proof = honest(group)
    assert rejected_by(replace(pub, g=group.identity), proof) == "g is the identity"
    assert rejected_by(pub, replace(proof, Y=group.identity)) == "Y is the identity"


def test_points_of_another_group_are_rejected_not_crashing():
    pub, _, proof = honest(SECP256K1)
    _, _, ed_proof = honest(ED25519)
    check_name = rejected_by(pub, replace(proof, Y=ed_proof.Y))
    assert check_name == "Y is not a point of the statement's group"
    assert "group" in rejected_by(replace(pub, X=ED25519.generator), proof)


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
    pub, _, proof = honest()
    assert rejected_by(pub, replace(proof, **{name: value})) == f"{name} is not a unit modulo its modulus"


@pytest.mark.parametrize("value", [0, N0_SQ, P0, -1])
def test_non_unit_ciphertext_in_the_statement_is_rejected(value):
    pub, _, proof = honest()
    assert rejected_by(replace(pub, C=value), proof) == "C is not a unit modulo its modulus"


OTHER_STATEMENTS = {
    "another C": lambda pub: replace(pub, C=statement(5)[0].C),
    "another X": lambda pub: replace(pub, X=pub.X + pub.g),
    "another g": lambda pub: replace(pub, g=pub.g + pub.g),
    "another N0": lambda pub: replace(pub, key=paillier_key(2).public),
    "another verifier aux": lambda pub: replace(pub, aux=ring_pedersen(2).params),
}


@pytest.mark.parametrize("change", OTHER_STATEMENTS.values(), ids=OTHER_STATEMENTS.keys())
def test_other_statements_are_rejected(change):
    pub, _, proof = honest()
    with pytest.raises(InvalidProof):
        logstar.verify(session(), change(pub), proof, LEVEL)


def test_proof_is_bound_to_the_session_and_the_prover_fork():
    pub, _, proof = honest()
    assert rejected_by(pub, proof, session(b"session-B")).endswith("does not hold")
    assert rejected_by(pub, proof, session(prover=2)).endswith("does not hold")


def test_usage_errors_for_mismatched_local_secrets():
    pub, priv, proof = honest()
    with pytest.raises(UsageError):
        logstar.prove(session(), pub, replace(priv, key=paillier_key(3)), SeededRng(8))
    with pytest.raises(UsageError):
        logstar.verify(session(), pub, proof, LEVEL, aux_secret=ring_pedersen(2))


def test_not_a_proof_is_rejected():
    pub, _, _ = honest()
    with pytest.raises(InvalidProof):
        logstar.verify(session(), pub, None, LEVEL)


@GROUPS
def test_seeded_rng_gives_byte_identical_proofs(group):
    pub, priv = statement(42, group)
    a = wire.encode(logstar.prove(session(), pub, priv, SeededRng(9)), group)
    b = wire.encode(logstar.prove(session(), pub, priv, SeededRng(9)), group)
    c = wire.encode(logstar.prove(session(), pub, priv, SeededRng(10)), group)
    assert a == b != c


@GROUPS
def test_wire_round_trip(group):
    pub, _, proof = honest(group)
    decoded = wire.decode(wire.encode(proof, group), logstar.Proof, group)
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
            check(pub, wire.decode(data, logstar.Proof, SECP256K1))


def test_private_repr_is_redacted():
    _, priv = statement(31337)
    assert "31337" not in repr(priv) and "redacted" in repr(priv)


_VALID = wire.encode(honest()[2], SECP256K1)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_inputs(_VALID))
def test_decoder_only_raises_encoding_error(data):
    for group in (SECP256K1, ED25519, None):
        decode_strictly(data, logstar.Proof, group)
