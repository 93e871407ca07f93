"""Pre-generated 1024-bit safe primes for tests: 2048-bit keys without a search.

    from tests.primepool import paillier_key, ring_pedersen
    sk = paillier_key(0)           # N = p0 * p1
    rp = ring_pedersen(0)          # same N as paillier_key(0), as CGGMP21 aux info
    other = paillier_key(1)        # N = p2 * p3: never shares a factor with index 0

Index i uses pool entries 2i and 2i + 1, so distinct indices give keys with no
common factor; there are ``len(pool_primes()) // 2`` indices. Everything is
deterministic. ``prime_pool()`` returns a fresh ``PrimePool`` over the whole list
for ``generate_paillier_key(prime_source=...)``; its pairs coincide with the
indexed ones, in order.

The file is made by ``scripts/gen_prime_pool.py`` and checked on load.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from protocol.paillier import PaillierSecretKey
from protocol.pedersen import RingPedersenSecret, generate_ring_pedersen
from protocol.primes import PrimePool, parse_prime_pool
from protocol.rng import SeededRng

POOL_FILE = Path(__file__).resolve().parent / "data" / "safe_primes_1024.txt"


@cache
def pool_primes() -> tuple[int, ...]:
    return tuple(parse_prime_pool(POOL_FILE.read_text()))


def pair_count() -> int:
    return len(pool_primes()) // 2


def primes(index: int) -> tuple[int, int]:
    """The distinct safe primes (p, q) of pair ``index``."""
    pool = pool_primes()
    if not 0 <= index < len(pool) // 2:
        raise IndexError(f"prime pool has {len(pool) // 2} pairs, asked for {index}")
    return pool[2 * index], pool[2 * index + 1]


@cache
def paillier_key(index: int) -> PaillierSecretKey:
    return PaillierSecretKey(*primes(index))


@cache
def ring_pedersen(index: int) -> RingPedersenSecret:
    p, q = primes(index)
    return generate_ring_pedersen(p, q, SeededRng(f"tests/primepool/ring-pedersen/{index}"))


def prime_pool() -> PrimePool:
    return PrimePool(pool_primes())
