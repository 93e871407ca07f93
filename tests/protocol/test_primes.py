"""Primality, safe/Blum prime generation, the pool parser and PrimePool."""

from __future__ import annotations

import gmpy2
import pytest

from protocol.errors import EncodingError, UsageError
from protocol.primes import (
    SAFE_PRIME_TEST_BITS,
    PrimePool,
    generate_blum_prime,
    generate_safe_prime,
    is_probable_prime,
    is_safe_prime,
    parse_prime_pool,
)
from protocol.rng import SeededRng
from tests.primepool import POOL_FILE, pool_primes


def test_is_probable_prime_matches_gmpy2_below_100000():
    assert [n for n in range(-5, 100_000) if is_probable_prime(n)] == [
        n for n in range(2, 100_000) if gmpy2.is_prime(n)
    ]


@pytest.mark.parametrize(
    "composite",
    [
        561,  # Carmichael
        2047,  # strong pseudoprime to base 2
        3215031751,  # strong pseudoprime to bases 2, 3, 5, 7
        3825123056546413051,  # strong pseudoprime to the first nine prime bases
        (2**61 - 1) * (2**89 - 1),
    ],
)
def test_is_probable_prime_rejects_pseudoprimes(composite):
    assert not is_probable_prime(composite)


def test_is_probable_prime_accepts_large_primes():
    assert is_probable_prime(2**127 - 1)
    assert is_probable_prime(2**521 - 1)
    assert not is_probable_prime(2**128 + 1)


def test_is_safe_prime_small_values():
    expected = [p for p in range(10_000) if gmpy2.is_prime(p) and gmpy2.is_prime((p - 1) // 2)]
    assert [p for p in range(10_000) if is_safe_prime(p)] == expected


@pytest.mark.parametrize("bits", [16, 17, 64, 128, 256])
def test_generate_safe_prime_exact_size(bits):
    for i in range(3):
        p = generate_safe_prime(bits, SeededRng(f"safe-{bits}-{i}"))
        assert p.bit_length() == bits
        assert p >> (bits - 2) == 3  # top two bits set
        assert gmpy2.is_prime(p) and gmpy2.is_prime((p - 1) // 2)
        assert p % 4 == 3


def test_product_of_two_safe_primes_has_double_size():
    rng = SeededRng("product")
    p, q = generate_safe_prime(128, rng), generate_safe_prime(128, rng)
    assert p != q and (p * q).bit_length() == 256


def test_generate_safe_prime_is_deterministic_for_a_seed():
    assert generate_safe_prime(128, SeededRng(7)) == generate_safe_prime(128, SeededRng(7))
    assert generate_safe_prime(128, SeededRng(7)) != generate_safe_prime(128, SeededRng(8))


@pytest.mark.parametrize("bits", [16, 64, 512])
def test_generate_blum_prime(bits):
    for i in range(3):
        p = generate_blum_prime(bits, SeededRng(f"blum-{bits}-{i}"))
        assert p.bit_length() == bits and p >> (bits - 2) == 3
        assert p % 4 == 3 and gmpy2.is_prime(p)


@pytest.mark.parametrize("bits", [0, 8, 15, -1])
def test_generation_rejects_tiny_sizes(bits):
    with pytest.raises(UsageError):
        generate_safe_prime(bits, SeededRng(0))
    with pytest.raises(UsageError):
        generate_blum_prime(bits, SeededRng(0))


def test_every_pool_entry_is_a_1024_bit_safe_prime():
    pool = pool_primes()
    assert len(pool) == 64 and len(set(pool)) == 64
    for p in pool:
        # Checked independently of parse_prime_pool, with gmpy2's own test.
        assert p.bit_length() == SAFE_PRIME_TEST_BITS and p >> 1022 == 3
        assert gmpy2.is_prime(p) and gmpy2.is_prime((p - 1) // 2)


def test_pool_file_has_a_provenance_header():
    assert "gen_prime_pool.py" in POOL_FILE.read_text().splitlines()[2]


SMALL_SAFE = [int(generate_safe_prime(64, SeededRng(f"pool-{i}"))) for i in range(3)]


def test_parse_prime_pool_accepts_comments_and_blank_lines():
    text = "# header\n\n" + "\n".join(f"{p:x}  # entry" for p in SMALL_SAFE) + "\n\n"
    assert parse_prime_pool(text, 64) == SMALL_SAFE


@pytest.mark.parametrize(
    "line",
    [
        "zz",  # not hex
        f"{3 * (2**62 + 1):x}",  # composite, right size
        f"{SMALL_SAFE[0] * 2:x}",  # wrong size
        f"{int(generate_blum_prime(64, SeededRng('b'))):x}",  # prime but not safe
        f"{int(generate_safe_prime(64, SeededRng('s')) >> 1):x}",  # 63 bits
        f"{SMALL_SAFE[0]:x}",  # duplicate of line 1
    ],
)
def test_parse_prime_pool_rejects_bad_entries(line):
    text = f"{SMALL_SAFE[0]:x}\n{line}\n"
    with pytest.raises(EncodingError, match="line 2"):
        parse_prime_pool(text, 64)


def test_parse_prime_pool_rejects_top_bits_clear():
    p = int(generate_safe_prime(64, SeededRng("top")))
    # A 64-bit safe prime with only the top bit set is the wrong shape for the pool.
    q = next(x for x in range(2**63 + 3, 2**63 + 2**40, 4) if is_safe_prime(x))
    assert parse_prime_pool(f"{p:x}", 64) == [p]
    with pytest.raises(EncodingError, match="top bits"):
        parse_prime_pool(f"{q:x}", 64)


def test_prime_pool_never_repeats():
    pool = PrimePool([5, 7, 11, 23, 47, 7, 5])
    assert len(pool) == 5
    taken = [pool.take(), *pool.take_pair(), *pool.take_pair()]
    assert len(set(taken)) == 5
    assert len(pool) == 0
    with pytest.raises(UsageError):
        pool.take()


def test_prime_pool_pair_is_distinct_and_refuses_half_pairs():
    pool = PrimePool([11, 23, 47])
    p, q = pool.take_pair()
    assert p != q
    with pytest.raises(UsageError):
        pool.take_pair()
    assert pool.take() == 47


def test_separate_pool_instances_are_independent():
    a, b = PrimePool([11, 23]), PrimePool([11, 23])
    assert a.take() == b.take() == 11
    assert "remaining=1" in repr(a)
