"""Π^enc: completeness, named range and unit checks, statement and transcript binding, codec."""

from dataclasses import replace
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings

from protocol import wire
from protocol.errors import InvalidProof, UsageError
from protocol.group import ED25519, SECP256K1
from protocol.params import DEFAULT_LEVEL, SecurityLevel
from protocol.rng import SeededRng
from protocol.transcript import Transcript
from protocol.zk import enc
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
    t = Transcript.for_session("tests/zk/enc", name, [1, 2, 3], LEVEL)
    return t.fork("prover", prover)


def statement(k: int, group=SECP256K1, seed: int = 1):
    K, rho = PROVER_KEY.public.encrypt(k, SeededRng(seed))
    pub = enc.Public(group, PROVER_KEY.public, K, VERIFIER_AUX.params)
    return pub, enc.Private(k, rho, PROVER_KEY)


def check(pub, proof, t=None, *, fast=True):
    enc.verify(t or session(), pub, proof, LEVEL, aux_secret=VERIFIER_AUX if fast else None)


@cache
def honest(group=SECP256K1):
    pub, priv = statement(123456789, group)
    return pub, priv, enc.prove(session(), pub, priv, SeededRng(2), LEVEL)


def rejected_by(pub, proof, t=None) -> str:
    with pytest.raises(InvalidProof) as info:
        check(pub, proof, t)
    assert info.value.proof == "enc"
    return info.value.check


@GROUPS
def test_honest_proof_verifies_with_and_without_the_trapdoor(group):
    pub, _, proof = honest(group)
    check(pub, proof, fast=True)
    check(pub, proof, fast=False)


def test_crt_prover_and_public_key_prover_give_the_same_proof():
    pub, priv = statement(-987654321)
    with_crt = enc.prove(session(), pub, priv, SeededRng(3))
    plain = enc.prove(session(), pub, enc.Private(priv.k, priv.rho), SeededRng(3))
    assert with_crt == plain
    check(pub, plain)


@pytest.mark.parametrize("k", [2**ELL, -(2**ELL), 0], ids=["+2^l", "-2^l", "zero"])
def test_honest_extremes_are_accepted(k):
    pub, priv = statement(k)
    check(pub, enc.prove(session(), pub, priv, SeededRng(4)))


def test_every_tampered_field_is_rejected():
    pub, _, proof = honest()
    assert assert_all_rejected(lambda p: check(pub, p), proof) >= 6 * 4


@pytest.mark.parametrize("z1", [2**ELL_EPS + 1, -(2**ELL_EPS) - 1, 2**(ELL_EPS + 200)])
def test_z1_just_outside_the_range_is_rejected_by_name(z1):
    pub, _, proof = honest()
    assert rejected_by(pub, replace(proof, z1=z1)) == f"z1 outside ±2^{ELL_EPS}"


@pytest.mark.parametrize("z1", [2**ELL_EPS, -(2**ELL_EPS)])
def test_z1_on_the_bound_passes_the_range_check(z1):
    pub, _, proof = honest()
    assert "outside" not in rejected_by(pub, replace(proof, z1=z1))


def test_plaintext_far_out_of_range_is_caught_by_the_range_check():
    # The honest algorithm run on k = 2^(ℓ+ε): every equation holds, only z1's range fails.
    pub, priv = statement(2**ELL_EPS)
    proof = enc.prove(session(), pub, priv, SeededRng(5))
    assert rejected_by(pub, proof) == f"z1 outside ±2^{ELL_EPS}"


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
    pub, _, proof = honest()
    bad = replace(proof, **{name: value})
    assert rejected_by(pub, bad) == f"{name} is not a unit modulo its modulus"


@pytest.mark.parametrize("value", [0, N0_SQ, P0, N0 * 7, -3])
def test_non_unit_ciphertext_in_the_statement_is_rejected(value):
    pub, _, proof = honest()
    bad = enc.Public(pub.group, pub.key, value, pub.aux)
    assert rejected_by(bad, proof) == "K is not a unit modulo its modulus"


OTHER_STATEMENTS = {
    "another K": lambda pub: statement(5)[0],
    "another N0": lambda pub: enc.Public(pub.group, paillier_key(2).public, pub.K, pub.aux),
    "another verifier aux": lambda pub: enc.Public(pub.group, pub.key, pub.K,
                                                   ring_pedersen(2).params),
    "another group": lambda pub: enc.Public(ED25519, pub.key, pub.K, pub.aux),
}


@pytest.mark.parametrize("change", OTHER_STATEMENTS.values(), ids=OTHER_STATEMENTS.keys())
def test_other_statements_are_rejected(change):
    pub, _, proof = honest()
    with pytest.raises(InvalidProof):
        enc.verify(session(), change(pub), proof, LEVEL)


def test_proof_is_bound_to_the_session_and_the_prover_fork():
    pub, _, proof = honest()
    assert rejected_by(pub, proof, session(b"session-B")).endswith("does not hold")
    assert rejected_by(pub, proof, session(prover=2)).endswith("does not hold")


def test_proof_is_bound_to_the_security_level():
    pub, _, proof = honest()
    other = SecurityLevel(name="other", ell=256, ell_prime=1280, epsilon=600)
    with pytest.raises(InvalidProof):
        enc.verify(session(), pub, proof, other)


def test_callers_transcript_is_unchanged():
    pub, priv = statement(77)
    t = session()
    before = t.copy().challenge_bytes("probe", 32)
    check(pub, enc.prove(t, pub, priv, SeededRng(6)), t)
    assert t.copy().challenge_bytes("probe", 32) == before


def test_usage_errors_for_mismatched_local_secrets():
    pub, priv = statement(1)
    with pytest.raises(UsageError):
        enc.prove(session(), pub, enc.Private(priv.k, priv.rho, paillier_key(3)), SeededRng(7))
    pub, _, proof = honest()
    with pytest.raises(UsageError):
        enc.verify(session(), pub, proof, LEVEL, aux_secret=ring_pedersen(2))


def test_not_a_proof_is_rejected():
    pub, _, _ = honest()
    with pytest.raises(InvalidProof):
        enc.verify(session(), pub, "proof", LEVEL)


def test_seeded_rng_gives_byte_identical_proofs():
    pub, priv = statement(42)
    a = wire.encode(enc.prove(session(), pub, priv, SeededRng(8)))
    b = wire.encode(enc.prove(session(), pub, priv, SeededRng(8)))
    c = wire.encode(enc.prove(session(), pub, priv, SeededRng(9)))
    assert a == b != c


def test_wire_round_trip():
    pub, _, proof = honest()
    decoded = wire.decode(wire.encode(proof), enc.Proof)
    assert decoded == proof
    check(pub, decoded)


def test_tampered_variants_that_still_encode_still_fail_after_a_round_trip():
    pub, _, proof = honest()
    for _, bad in tampered_variants(proof):
        try:
            data = wire.encode(bad)
        except UsageError:
            continue  # negative naturals and the like cannot even be sent
        with pytest.raises(InvalidProof):
            check(pub, wire.decode(data, enc.Proof))


def test_private_repr_is_redacted():
    _, priv = statement(31337)
    assert "31337" not in repr(priv) and "redacted" in repr(priv)


_VALID = wire.encode(honest()[2])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_inputs(_VALID))
def test_decoder_only_raises_encoding_error(data):
    decode_strictly(data, enc.Proof)
