"""Paillier (g = N + 1): correctness, homomorphisms, CRT paths and input validation."""

from __future__ import annotations

import gmpy2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import EncodingError, UsageError
from protocol.paillier import (
    MIN_MODULUS_BITS,
    PaillierPublicKey,
    PaillierSecretKey,
    generate_paillier_key,
)
from protocol.primes import PrimePool, generate_safe_prime
from protocol.rng import SeededRng
from tests.primepool import paillier_key, primes

SK = paillier_key(0)
PK = SK.public
N = int(PK.n)
MESSAGES = st.integers(min_value=-(2**2100), max_value=2**2100)


def _textbook_decrypt(sk: PaillierSecretKey, c: int) -> int:
    """m = L(c^phi mod N^2) * phi^-1 mod N, with L(x) = (x - 1) / N (g = N + 1)."""
    n = int(sk.n)
    u = int(gmpy2.powmod(c, sk.phi, n * n))
    return (u - 1) // n * pow(int(sk.phi), -1, n) % n


def test_key_has_2048_bits_from_pool_primes():
    assert N.bit_length() == MIN_MODULUS_BITS == 2048
    assert PK.n2 == N * N


EDGE = {
    "0": 0,
    "1": 1,
    "2": 2,
    "N-1": N - 1,
    "N//2": N // 2,
    "N//2+1": N // 2 + 1,
    "-1": -1,
    "-N//2": -(N // 2),
    "N": N,
    "2N+3": 2 * N + 3,
}


@pytest.mark.parametrize("m", EDGE.values(), ids=EDGE.keys())
def test_decrypt_encrypt_edge_cases(m):
    c, rho = PK.encrypt(m, SeededRng(f"edge-{m}"))
    assert 0 < rho < N
    assert SK.decrypt(c) == m % N
    signed = SK.decrypt_signed(c)
    assert -N < 2 * signed <= N and signed % N == m % N


@pytest.mark.parametrize("m", [-1, -5, -(N // 2)], ids=["-1", "-5", "-N//2"])
def test_negative_messages_decrypt_signed(m):
    c, _ = PK.encrypt(m, SeededRng(m))
    assert SK.decrypt_signed(c) == m


@settings(max_examples=15)
@given(MESSAGES, st.integers(min_value=1, max_value=2**2048))
def test_secret_key_encryption_equals_public_and_crt_decrypt_equals_textbook(m, raw_rho):
    rho = raw_rho % N
    if gmpy2.gcd(rho, N) != 1:
        return
    c = PK.encrypt_with_nonce(m, rho)
    assert SK.encrypt_with_nonce(m, rho) == c
    assert c == gmpy2.powmod(1 + N, m % N, N * N) * gmpy2.powmod(rho, N, N * N) % (N * N)
    assert SK.decrypt(c) == _textbook_decrypt(SK, int(c)) == m % N


@settings(max_examples=20)
@given(MESSAGES, MESSAGES, st.integers(min_value=-(2**300), max_value=2**300))
def test_homomorphic_add_and_scalar_mul(m1, m2, k):
    rng = SeededRng(f"{m1}/{m2}/{k}")
    c1, _ = PK.encrypt(m1, rng)
    c2, _ = SK.encrypt(m2, rng)
    assert SK.decrypt(PK.add(c1, c2)) == (m1 + m2) % N
    assert SK.decrypt(PK.mul(c1, k)) == k * m1 % N
    assert (
        SK.decrypt_signed(PK.mul(PK.encrypt_with_nonce(3, 7), k)) == (3 * k + N // 2) % N - N // 2
    )


def test_mul_by_negative_scalar_gives_signed_product():
    c, _ = PK.encrypt(12345, SeededRng(1))
    assert SK.decrypt_signed(PK.mul(c, -7)) == -86415
    assert SK.decrypt(PK.mul(c, 0)) == 0


def test_encrypt_is_randomised_and_deterministic_per_seed():
    a, _ = PK.encrypt(5, SeededRng("x"))
    b, _ = PK.encrypt(5, SeededRng("y"))
    assert a != b
    assert PK.encrypt(5, SeededRng("x")) == SK.encrypt(5, SeededRng("x"))


@pytest.mark.parametrize(
    "c",
    [0, N * N, N * N + 1, -1, "p", "q", "p*k", "N", True, 1.0],
    ids=["0", "N^2", "N^2+1", "-1", "p", "q", "p*k", "N", "True", "float"],
)
def test_validate_ciphertext_rejects(c):
    c = {"p": SK.p, "q": SK.q, "p*k": SK.p * 12345, "N": N}.get(c, c) if isinstance(c, str) else c
    with pytest.raises(EncodingError):
        PK.validate_ciphertext(c)
    with pytest.raises(EncodingError):
        SK.decrypt(c)


def test_validate_ciphertext_accepts_units():
    assert PK.validate_ciphertext(1) == 1
    assert PK.validate_ciphertext(N * N - 1) == N * N - 1


def test_nonce_must_be_a_unit():
    for rho in (0, N, SK.p, 2 * SK.q):
        with pytest.raises(EncodingError):
            PK.encrypt_with_nonce(1, rho)
        with pytest.raises(EncodingError):
            SK.encrypt_with_nonce(1, rho)


def test_mul_non_unit_by_negative_scalar_raises():
    with pytest.raises(EncodingError):
        PK.mul(SK.p, -1)


def test_validate_accepts_pool_modulus():
    assert PaillierPublicKey.validate(N) == PK
    assert PaillierPublicKey.validate(gmpy2.mpz(N)) == PK


@pytest.mark.parametrize(
    "case, reason",
    [
        ("even", "odd"),
        ("square", "perfect square"),
        ("short", "below the floor"),
        ("small_factor", "prime factor below"),
        ("zero", "odd and positive"),
        ("str", "not an integer"),
    ],
)
def test_validate_rejects_bad_moduli(case, reason):
    p, q = primes(1)
    n = {
        "even": lambda: p * q + 1,
        "square": lambda: p * p,
        "short": lambda: p * int(generate_safe_prime(1000, SeededRng("short"))),
        "small_factor": lambda: 3 * 5 * 65521 * (p * q >> 20 | 1),
        "zero": lambda: 0,
        "str": lambda: str(p * q),
    }[case]()
    with pytest.raises(EncodingError, match=reason):
        PaillierPublicKey.validate(n)


def test_validate_honours_a_higher_floor():
    with pytest.raises(EncodingError, match="below the floor of 3072"):
        PaillierPublicKey.validate(N, min_bits=3072)


def test_public_key_equality_and_hash_use_n_only():
    other = PaillierPublicKey(N)
    assert other == PK and hash(other) == hash(PK) and other.n2 == PK.n2
    assert paillier_key(1).public != PK
    with pytest.raises(AttributeError):
        PK.n = 5


def test_secret_key_repr_redacts_factors():
    text = repr(SK) + str(SK)
    for secret in (SK.p, SK.q, SK.phi):
        assert str(secret) not in text and format(secret, "x") not in text
    assert "redacted" in text


def test_secret_key_rejects_equal_or_even_factors():
    p, _ = primes(2)
    with pytest.raises(UsageError):
        PaillierSecretKey(p, p)
    with pytest.raises(UsageError):
        PaillierSecretKey(p, 2)


def test_generate_with_prime_source_takes_distinct_pairs():
    pool = PrimePool(primes(3) + primes(4))
    k1 = generate_paillier_key(SeededRng(0), prime_source=pool)
    k2 = generate_paillier_key(SeededRng(0), prime_source=pool)
    assert k1.n.bit_length() == k2.n.bit_length() == 2048
    assert gmpy2.gcd(k1.n, k2.n) == 1
    with pytest.raises(UsageError):
        generate_paillier_key(SeededRng(0), prime_source=pool)


def test_generate_rejects_small_keys_and_wrong_size_primes():
    with pytest.raises(UsageError):
        generate_paillier_key(SeededRng(0), bits=1024)
    with pytest.raises(UsageError):
        generate_paillier_key(SeededRng(0), bits=2049)
    small = PrimePool([generate_safe_prime(64, SeededRng(i)) for i in range(2)])
    with pytest.raises(UsageError, match="128-bit"):
        generate_paillier_key(SeededRng(0), prime_source=small)


@pytest.mark.slow
def test_generate_fresh_key_uses_safe_primes():
    key = generate_paillier_key(SeededRng("fresh"))
    assert key.n.bit_length() == 2048
    for p in (key.p, key.q):
        assert gmpy2.is_prime(p) and gmpy2.is_prime((p - 1) // 2)
    c, _ = key.public.encrypt(-42, SeededRng(1))
    assert key.decrypt_signed(c) == -42
