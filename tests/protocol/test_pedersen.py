"""Ring-Pedersen parameters: s = t^λ, public vs CRT commits, the fixed-base table, validation."""

from __future__ import annotations

import gmpy2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.arith import crt_combine
from protocol.errors import EncodingError, UsageError
from protocol.pedersen import RingPedersenParams, RingPedersenSecret, generate_ring_pedersen
from protocol.rng import SeededRng
from tests.primepool import paillier_key, primes, ring_pedersen

SECRET = ring_pedersen(0)
PARAMS = SECRET.params
N = int(PARAMS.n)
# CGGMP21 exponent sizes at ℓ = 256, ε = 512: x up to 2^(ℓ+ε), y up to 2^(ℓ+ε) * N.
XS = st.integers(min_value=-(2**768), max_value=2**768)
YS = st.integers(min_value=-(2**2816), max_value=2**2816)


def _reference(params: RingPedersenParams, x: int, y: int) -> int:
    n = int(params.n)
    return int(gmpy2.powmod(params.s, x, n) * gmpy2.powmod(params.t, y, n) % n)


def test_s_is_t_to_the_lambda_and_t_is_a_square():
    assert PARAMS.s == gmpy2.powmod(PARAMS.t, SECRET.lam, N)
    assert 0 <= SECRET.lam < SECRET.phi
    assert SECRET.crt.is_qr(PARAMS.t) and SECRET.crt.is_qr(PARAMS.s)


def test_shares_modulus_with_paillier_key_of_same_index():
    assert PARAMS.n == paillier_key(0).n
    assert ring_pedersen(1).params.n != PARAMS.n


@settings(max_examples=40)
@given(XS, YS)
def test_commit_via_crt_equals_public_commit(x, y):
    assert SECRET.commit(x, y) == PARAMS.commit(x, y) == _reference(PARAMS, x, y)


def test_fixed_base_table_matches_powmod_across_growth():
    params = RingPedersenParams(PARAMS.n, PARAMS.s, PARAMS.t)
    rng = SeededRng("table")
    # Exponents grow past the table several times, in every sign combination.
    for bits in (0, 1, 3, 4, 5, 64, 8, 700, 2816, 100, 3000, 4100):
        for sx in (1, -1):
            for sy in (1, -1):
                x = sx * (int.from_bytes(rng.random_bytes(bits // 8 + 1), "big") % (1 << bits))
                y = sy * (int.from_bytes(rng.random_bytes(bits // 8 + 1), "big") % (1 << bits))
                assert params.commit(x, y) == _reference(params, x, y) == SECRET.commit(x, y)
    assert params._cache[1] is not None  # the table was built and used
    assert params == PARAMS and hash(params) == hash(PARAMS)


def test_commit_edge_exponents():
    for x, y in ((0, 0), (1, 0), (0, 1), (-1, 0), (0, -1), (-1, -1)):
        assert PARAMS.commit(x, y) == _reference(PARAMS, x, y) == SECRET.commit(x, y)


def test_commit_of_unit_vectors_and_inverses():
    assert PARAMS.commit(1, 0) == PARAMS.s and PARAMS.commit(0, 1) == PARAMS.t
    assert PARAMS.commit(2, 3) * PARAMS.commit(-2, -3) % N == 1


def test_validate_accepts_generated_params():
    assert PARAMS.validate() is PARAMS
    assert PARAMS.validate(min_bits=2048) is PARAMS


@pytest.mark.parametrize(
    "case, reason",
    [
        ("s_equals_t", "must differ"),
        ("s_one", "±1"),
        ("t_one", "±1"),
        ("s_minus_one", "±1"),
        ("s_multiple_of_p", "not a unit"),
        ("t_zero", "not a unit"),
        ("t_n", "not a unit"),
        ("s_above_n", "not a unit"),
        ("s_jacobi_minus_one", "Jacobi"),
    ],
)
def test_validate_rejects_bad_bases(case, reason):
    s, t = int(PARAMS.s), int(PARAMS.t)
    p, q = primes(0)
    # A unit that is a square mod q but not mod p: Jacobi symbol -1 mod N.
    half_residue = int(crt_combine(p - 1, 1, p, q, pow(q, -1, p)))
    s, t = {
        "s_equals_t": (t, t),
        "s_one": (1, t),
        "t_one": (s, 1),
        "s_minus_one": (N - 1, t),
        "s_multiple_of_p": (p * 7, t),
        "t_zero": (s, 0),
        "t_n": (s, N),
        "s_above_n": (s + N, t),
        "s_jacobi_minus_one": (half_residue * s % N, t),
    }[case]
    with pytest.raises(EncodingError, match=reason):
        RingPedersenParams(N, s, t).validate()


def test_validate_rejects_bad_modulus():
    p, q = primes(1)
    with pytest.raises(EncodingError, match="perfect square"):
        RingPedersenParams(p * p, 4, 9).validate()
    with pytest.raises(EncodingError, match="odd"):
        RingPedersenParams(p * q + 1, 4, 9).validate()
    with pytest.raises(EncodingError, match="below the floor"):
        PARAMS.validate(min_bits=3072)


def test_generation_is_deterministic_and_fresh_per_seed():
    p, q = primes(2)
    a = generate_ring_pedersen(p, q, SeededRng("a"))
    assert a.params == generate_ring_pedersen(p, q, SeededRng("a")).params
    assert a.params != generate_ring_pedersen(p, q, SeededRng("b")).params
    assert a.params.validate() == a.params


def test_secret_constructor_recomputes_s():
    rebuilt = RingPedersenSecret(SECRET.crt.p, SECRET.crt.q, SECRET.lam, PARAMS.t)
    assert rebuilt.params == PARAMS
    with pytest.raises(UsageError):
        RingPedersenSecret(SECRET.crt.p, SECRET.crt.q, 5, SECRET.crt.p)


def test_reprs_redact_secrets():
    text = repr(SECRET) + str(SECRET)
    for secret in (SECRET.lam, SECRET.crt.p, SECRET.crt.q, SECRET.phi):
        assert str(secret) not in text and format(secret, "x") not in text
    assert "redacted" in text
    assert "_cache" not in repr(PARAMS)


def test_params_are_frozen():
    with pytest.raises(AttributeError):
        PARAMS.s = 5
