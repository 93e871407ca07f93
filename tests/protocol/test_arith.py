"""CRT powers, Jacobi symbols, roots and modulus checks in protocol.arith."""

from __future__ import annotations

import gmpy2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.arith import (
    MAX_MODULUS_BITS,
    CrtModulus,
    FixedBase,
    crt_combine,
    inverse,
    is_perfect_square,
    jacobi,
    pow_signed,
    sqrt_mod_prime,
    validate_modulus,
)
from protocol.errors import EncodingError, UsageError
from protocol.primes import generate_blum_prime
from protocol.rng import SeededRng
from tests.primepool import primes

SMALL_P = int(generate_blum_prime(64, SeededRng("arith-p")))
SMALL_Q = int(generate_blum_prime(64, SeededRng("arith-q")))
SMALL = CrtModulus(SMALL_P, SMALL_Q)
BIG = CrtModulus(*primes(0))
MODULI = st.sampled_from([SMALL, BIG])
EXPONENTS = st.integers(min_value=-(2**4200), max_value=2**4200)


def _base(m: CrtModulus, raw: int, kind: int) -> int:
    """A unit, a multiple of p, or a multiple of p^2, so the non-unit branches run."""
    if kind == 0:
        return raw % m.n2
    if kind == 1:
        return m.p * (raw % m.q2 + 1) % m.n2
    return m.p2 * (raw % m.q + 1) % m.n2


@settings(max_examples=150)
@given(MODULI, st.integers(min_value=0, max_value=2**4200), EXPONENTS, st.integers(0, 2))
def test_crt_pow_equals_plain_powmod(m, raw, exp, kind):
    base = _base(m, raw, kind)
    if exp < 0 and gmpy2.gcd(base, m.n) != 1:
        with pytest.raises(EncodingError):
            m.pow_n(base, exp)
        with pytest.raises(EncodingError):
            m.pow_n2(base, exp)
        return
    assert m.pow_n(base, exp) == pow(base, exp, m.n)
    assert m.pow_n2(base, exp) == pow(base, exp, m.n2)
    assert m.pow_n(base, exp) == pow_signed(base, exp, m.n)


@pytest.mark.parametrize("exp", [0, 1, -1, 2, -2])
def test_crt_pow_small_exponents_and_zero_base(exp):
    for m in (SMALL, BIG):
        for base in (1, m.n - 1, 2, m.n + 5):
            assert m.pow_n(base, exp) == pow(base, exp, m.n)
            assert m.pow_n2(base, exp) == pow(base, exp, m.n2)
        if exp >= 0:
            assert m.pow_n(0, exp) == pow(0, exp, m.n)
            assert m.pow_n2(m.p, exp) == pow(m.p, exp, m.n2)


@given(st.integers(), st.integers())
def test_crt_combine_solves_both_congruences(a, b):
    x = crt_combine(a % SMALL_P, b % SMALL_Q, SMALL_P, SMALL_Q, SMALL.q_inv_p)
    assert 0 <= x < SMALL.n
    assert x % SMALL_P == a % SMALL_P and x % SMALL_Q == b % SMALL_Q


def test_pow_signed_negative_exponent_is_inverse_power():
    assert pow_signed(3, -5, 101) * pow(3, 5, 101) % 101 == 1
    assert pow_signed(3, 0, 101) == 1
    with pytest.raises(EncodingError):
        pow_signed(6, -1, 9)
    with pytest.raises(UsageError):
        pow_signed(2, 3, 0)


def test_inverse_rejects_non_units():
    assert inverse(3, 7) * 3 % 7 == 1
    with pytest.raises(EncodingError):
        inverse(SMALL_P, SMALL.n)


def _euler_legendre(a: int, p: int) -> int:
    v = pow(a, (p - 1) // 2, p)
    return -1 if v == p - 1 else v


def _jacobi_by_definition(a: int, n: int) -> int:
    result, d, rest = 1, 3, n
    while rest > 1:
        while rest % d == 0:
            result *= _euler_legendre(a % d, d)
            rest //= d
        d += 2
    return result


@pytest.mark.parametrize("n", [1, 3, 9, 15, 21, 45, 105, 221, 1001, 3 * 3 * 7 * 11])
def test_jacobi_matches_definition_and_gmpy2(n):
    for a in range(-3 * n, 3 * n):
        assert jacobi(a, n) == _jacobi_by_definition(a, n) == gmpy2.jacobi(a % n, n)


def test_jacobi_rejects_even_or_non_positive_modulus():
    for n in (0, -3, 4):
        with pytest.raises(UsageError):
            jacobi(1, n)


def test_is_perfect_square():
    big = BIG.p
    assert is_perfect_square(0) and is_perfect_square(1) and is_perfect_square(big * big)
    assert not is_perfect_square(big * big + 1)
    assert not is_perfect_square(BIG.n)
    assert not is_perfect_square(-4)
    assert [k for k in range(50) if is_perfect_square(k)] == [0, 1, 4, 9, 16, 25, 36, 49]


@pytest.mark.parametrize("p", [7, 11, 19, 23, 43, 10007])
def test_sqrt_mod_prime_roots_and_none_for_non_residues(p):
    squares = {x * x % p for x in range(p)}
    for a in range(p):
        r = sqrt_mod_prime(a, p)
        if a in squares:
            assert r is not None and r * r % p == a
            assert r in squares  # the root is itself a square
        else:
            assert r is None


def test_sqrt_mod_prime_needs_p_3_mod_4():
    with pytest.raises(UsageError):
        sqrt_mod_prime(4, 13)


@settings(max_examples=60)
@given(MODULI, st.integers(min_value=2, max_value=2**2100))
def test_square_and_fourth_roots_of_residues(m, raw):
    x = raw % m.n
    if gmpy2.gcd(x, m.n) != 1:
        return
    a2, a4 = x * x % m.n, pow(x, 4, m.n)
    r = m.sqrt_mod_n(a2)
    assert r is not None and r * r % m.n == a2 and m.is_qr(r)
    f = m.fourth_root_mod_n(a2)
    assert f is not None and pow(f, 4, m.n) == a2
    f = m.fourth_root_mod_n(a4)
    assert f is not None and pow(f, 4, m.n) == a4
    # -a2 has Jacobi symbol 1 mod N but is a non-residue mod p and q (Blum N).
    for bad in (m.n - a2, a2 * _non_residue(m.p, m.q, m) % m.n):
        assert m.sqrt_mod_n(bad) is None
        assert m.fourth_root_mod_n(bad) is None
        assert not m.is_qr(bad)


def _non_residue(p: int, q: int, m: CrtModulus) -> int:
    """A unit that is a square mod q but not mod p."""
    return crt_combine(p - 1, 1, p, q, m.q_inv_p)


def test_roots_need_a_blum_modulus():
    m = CrtModulus(13, SMALL_Q)
    with pytest.raises(UsageError):
        m.sqrt_mod_n(4)
    with pytest.raises(UsageError):
        m.fourth_root_mod_n(16)


@settings(max_examples=20)
@given(MODULI, st.integers(min_value=2, max_value=2**2100))
def test_nth_root_mod_n(m, raw):
    a = raw % m.n
    if gmpy2.gcd(a, m.n) != 1:
        return
    assert pow(m.nth_root_mod_n(a), m.n, m.n) == a


def test_crt_modulus_rejects_bad_factors_and_redacts():
    for p, q in ((5, 5), (4, 7), (1, 7)):
        with pytest.raises(UsageError):
            CrtModulus(p, q)
    text = repr(BIG)
    assert str(BIG.p) not in text and format(BIG.p, "x") not in text


def test_validate_modulus_accepts_product_of_pool_primes():
    assert validate_modulus(int(BIG.n), 2048) == BIG.n


@pytest.mark.parametrize(
    "bad",
    [
        "even",
        "square",
        "small",
        "small_factor",
        "huge",
        "negative",
        "not_int",
        "bool",
    ],
)
def test_validate_modulus_rejects(bad):
    p = int(BIG.p)
    n = {
        "even": int(BIG.n) + 1,
        "square": p * p,
        "small": SMALL.n,
        "small_factor": 65521 * (int(BIG.n) >> 15 | 1),
        "huge": (1 << MAX_MODULUS_BITS) + 1,
        "negative": -int(BIG.n),
        "not_int": float(SMALL.n),
        "bool": True,
    }[bad]
    with pytest.raises(EncodingError):
        validate_modulus(n, 2048 if bad != "bool" else 1)


@settings(max_examples=60)
@given(MODULI, st.integers(min_value=0, max_value=2**4200))
def test_pow_n_mod_n2_matches_plain_power(crt, base):
    assert crt.pow_n_mod_n2(base) == gmpy2.powmod(base, crt.n, crt.n2)


@pytest.mark.parametrize("crt", [SMALL, BIG])
def test_pow_n_mod_n2_on_non_units_matches_plain_power(crt):
    for base in (0, crt.p, crt.q, 3 * crt.p, crt.n, crt.n2 - crt.q):
        assert crt.pow_n_mod_n2(base) == gmpy2.powmod(base, crt.n, crt.n2)


def test_fixed_base_matches_powmod_while_its_table_grows():
    table = FixedBase(BIG.n - 5, BIG.n)
    # Small exponents first, then larger ones, so the table is extended in place.
    for exp in (0, 1, 15, 16, 2**64 + 3, 2**2047 + 12345, BIG.n - 1, 2**4000 + 1, 7):
        assert table.pow(gmpy2.mpz(exp)) == gmpy2.powmod(BIG.n - 5, exp, BIG.n)


def test_crt_fixed_base_matches_powmod_for_any_exponent():
    base = BIG.n - 7
    table = BIG.fixed_base(base)
    for exp in (0, 1, BIG.p - 1, BIG.q, BIG.phi, BIG.phi + 5, 2**2047 + 99, 2**4000 + 1, 3):
        assert table.pow(exp) == gmpy2.powmod(base, exp, BIG.n)


def test_crt_fixed_base_refuses_non_units_and_negative_exponents():
    with pytest.raises(UsageError):
        BIG.fixed_base(3 * BIG.p)
    with pytest.raises(UsageError):
        BIG.fixed_base(5).pow(-1)
    assert "redacted" in repr(BIG.fixed_base(5)) and str(int(BIG.p)) not in repr(BIG.fixed_base(5))
