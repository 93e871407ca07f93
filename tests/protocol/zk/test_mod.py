"""Π^mod (Paillier–Blum modulus): the challenges, named soundness checks, malformed moduli,
repetition counts (the rest: test_all_proofs.py, test_decoders.py)."""

from __future__ import annotations

import dataclasses

import gmpy2
import pytest

from protocol import wire
from protocol.arith import jacobi
from protocol.errors import UsageError
from protocol.params import DEFAULT_LEVEL, SecurityLevel
from protocol.rng import SeededRng
from protocol.zk import mod
from tests.primepool import paillier_key
from tests.protocol.zk import cases
from tests.protocol.zk.helpers import replace_at

M = DEFAULT_LEVEL.repetitions
ROOTS = mod.nth_root_count(DEFAULT_LEVEL)
MOD = cases.case("mod")
KEY = cases.PROVER_KEY
session = MOD.session
reject = MOD.reject
pub_fixture, proof_fixture = cases.honest_fixtures(MOD)


# -- completeness and the challenges --------------------------------------


def test_honest_proof_has_one_entry_per_repetition(proof):
    assert len(proof.x) == len(proof.a) == len(proof.b) == M
    assert len(proof.z) == ROOTS


@pytest.mark.parametrize("repetitions, roots", [(80, 5), (128, 8), (129, 9), (256, 16)])
def test_nth_roots_carry_16_bits_each_so_few_give_the_level(repetitions, roots):
    # Every prime factor of N is at least 2^16 once verify has trial-divided it,
    # so each N-th root a cheater answers costs it 16 bits.
    assert mod.nth_root_count(SecurityLevel(repetitions=repetitions)) == roots
    assert roots * 16 >= repetitions > (roots - 1) * 16


def test_challenges_are_pairwise_distinct(pub, proof):
    ys = mod._challenges(session(), pub.n, proof.w, DEFAULT_LEVEL)
    assert len(set(ys)) == M
    # z_i^N = y_i: the N-th roots answer the first challenges.
    assert [gmpy2.powmod(z, pub.n, pub.n) for z in proof.z] == ys[:ROOTS]


def test_w_has_jacobi_minus_one_and_bits_vary(pub, proof):
    assert jacobi(proof.w, pub.n) == -1
    # With independent y_i all four (a, b) combinations turn up among 80 repetitions.
    assert len(set(zip(proof.a, proof.b, strict=True))) == 4


def test_prover_refuses_a_witness_for_another_modulus():
    with pytest.raises(UsageError):
        mod.prove(session(), mod.Public(paillier_key(1).n), mod.Private(KEY.p, KEY.q), SeededRng(1))


# -- altered fields (each one at the first, a middle and the last repetition,
# ±1, 0, negated, a flipped bit: test_all_proofs.py) -------------------------


def test_swapping_two_repetitions_is_rejected(pub, proof):
    swapped = replace_at(proof, "x", 0, proof.x[1])
    swapped = replace_at(swapped, "x", 1, proof.x[0])
    reject(pub, swapped)


@pytest.mark.parametrize("name", ["x", "z"])
@pytest.mark.parametrize("bad", ["zero", "n", "factor"])
def test_non_units_are_rejected_by_name(pub, proof, name, bad):
    value = {"zero": 0, "n": pub.n, "factor": KEY.p}[bad]
    index = len(getattr(proof, name)) // 2
    err = reject(pub, replace_at(proof, name, index, value))
    assert err.check == f"{name}[{index}] is not a unit modulo its modulus"


def test_w_must_be_a_unit(pub, proof):
    assert reject(pub, dataclasses.replace(proof, w=KEY.q)).check.startswith("w is not a unit")


def test_w_must_have_jacobi_minus_one(pub, proof):
    w = proof.w * proof.w % pub.n
    assert jacobi(w, pub.n) == 1
    assert reject(pub, dataclasses.replace(proof, w=w)).check == "Jacobi(w, N) is not -1"


def test_bits_must_be_bits(pub, proof):
    err = reject(pub, replace_at(proof, "a", 3, 2))
    assert err.check == "a[3] or b[3] is not a bit"


# -- the statement and the number of repetitions ---------------------------


def test_another_modulus_is_rejected(proof):
    reject(mod.Public(paillier_key(1).n), proof)


@pytest.mark.parametrize(
    "n, check",
    [
        (0, "N is not an odd integer above 1"),
        (1, "N is not an odd integer above 1"),
        (2 * 3 * 5 * 7, "N is not an odd integer above 1"),
        (gmpy2.next_prime(gmpy2.mpz(1) << 2047), "N is prime"),
        (gmpy2.next_prime(gmpy2.mpz(1) << 1023) ** 2, "N is a perfect square"),
        (gmpy2.mpz(1) << 4097 | 1, "N exceeds 4096 bits"),
    ],
)
def test_malformed_moduli_are_rejected_before_anything_else(proof, n, check):
    assert reject(mod.Public(n), proof).check == check


def test_one_repetition_short_is_rejected(pub, proof):
    short = dataclasses.replace(
        proof, x=proof.x[:-1], a=proof.a[:-1], b=proof.b[:-1], z=proof.z[:-1]
    )
    assert reject(pub, short).check == f"x has {M - 1} entries, not {M}"


def test_fewer_than_80_repetitions_can_be_neither_configured_nor_sent(proof):
    with pytest.raises(UsageError):
        SecurityLevel(repetitions=79)
    short = dataclasses.replace(proof, x=proof.x[:79], a=proof.a[:79], b=proof.b[:79],
                                z=proof.z[:79])
    with pytest.raises(UsageError):
        wire.encode(short)


def test_one_short_sequence_is_rejected(pub, proof):
    assert reject(pub, dataclasses.replace(proof, z=proof.z[:-1])).check == f"z has {ROOTS - 1} entries, not {ROOTS}"
    longer = dataclasses.replace(proof, z=proof.z + proof.z[:1])
    assert reject(pub, longer).check == f"z has {ROOTS + 1} entries, not {ROOTS}"


def test_more_repetitions_than_the_level_asks_are_rejected(pub):
    level = SecurityLevel(repetitions=M + 1)
    longer = mod.prove(session(), pub, mod.Private(KEY.p, KEY.q), SeededRng(3), level)
    MOD.verify(pub, longer, level=level)
    reject(pub, longer)
