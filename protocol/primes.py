"""Primality testing, safe and Blum prime generation, and the test prime pool.

Safe-prime search is the slow step of every Paillier and ring-Pedersen key, so the
search sieves a whole window of candidates ``q`` at once against small primes,
striking both ``q ≡ 0`` and ``2q + 1 ≡ 0`` (mod s), before any modular
exponentiation. Only survivors pay for a Fermat test, then for the full test.

Nothing here reads files: ``parse_prime_pool`` takes the pool's text, and the
caller (tests, scripts) does the reading.
"""

from __future__ import annotations

from collections.abc import Iterable

import gmpy2

from protocol.errors import EncodingError, UsageError
from protocol.rng import Rng, randbits

SAFE_PRIME_TEST_BITS = 1024

# Bases of the extra Miller–Rabin rounds on top of BPSW; fixed so results are
# reproducible, and BPSW has no known counterexample, so they are a belt over braces.
_MR_BASES = (3, 5, 7, 11, 13, 17, 19, 23)

# Sieve parameters, tuned by measurement at 1024 bits (see scripts/gen_prime_pool.py):
# primes below the bound strike candidates, a window is scanned per random start.
_SIEVE_BOUND = 1 << 17
_WINDOW = 1 << 16
_MIN_BITS = 16


def _small_primes(bound: int) -> tuple[int, ...]:
    flags = bytearray([1]) * bound
    flags[0:2] = b"\x00\x00"
    for i in range(2, int(bound**0.5) + 1):
        if flags[i]:
            flags[i * i :: i] = bytes(len(range(i * i, bound, i)))
    return tuple(i for i in range(bound) if flags[i])


_SMALL_PRIMES = _small_primes(_SIEVE_BOUND)


def is_probable_prime(n: int) -> bool:
    """BPSW plus Miller–Rabin to fixed bases; exact for every n below 2^64."""
    n = gmpy2.mpz(n)
    if n < 2:
        return False
    for s in _MR_BASES + (2,):
        if n % s == 0:
            return n == s
    if not gmpy2.is_bpsw_prp(n):
        return False
    return all(gmpy2.is_strong_prp(n, a) for a in _MR_BASES)


def _sieve_search(rng: Rng, bits: int, step: int, residue: int, strike_half: bool) -> gmpy2.mpz:
    """First survivor-and-prime candidate ``c`` with exactly ``bits`` bits, top two set.

    Candidates are ``c ≡ residue (mod step)``. With ``strike_half`` the sieve also
    strikes ``2c + 1 ≡ 0 (mod s)``, and ``c`` is accepted only if ``2c + 1`` is
    prime too. Returns ``c`` (the caller forms ``2c + 1`` if wanted).
    """
    low = gmpy2.mpz(3) << (bits - 2)
    high = gmpy2.mpz(1) << bits
    # A sieve prime must be below every candidate, or it would strike a prime itself.
    # Primes dividing the step are already excluded by the residue class.
    table = [(s, pow(step, -1, s)) for s in _SMALL_PRIMES if step % s and s < (1 << (bits - 3))]
    two = gmpy2.mpz(2)
    while True:
        start = low + randbits(rng, bits - 2)
        start += (residue - start) % step
        window = min(_WINDOW, int((high - 1 - start) // step) + 1)
        if window <= 0:
            continue
        dead = bytearray(window)
        start_int = int(start)
        for s, inv in table:
            # Offset k hits s when start + k*step ≡ target (mod s).
            r = start_int % s
            k = ((-r) * inv) % s
            dead[k::s] = b"\x01" * len(range(k, window, s))
            if strike_half:
                k = (((s - 1) // 2 - r) * inv) % s
                dead[k::s] = b"\x01" * len(range(k, window, s))
        k = dead.find(0)
        while k != -1:
            c = start + k * step
            if strike_half:
                # Fermat on p = 2c+1 first: given c prime, 2^(p-1) ≡ 1 (mod p) proves p
                # prime (Pocklington with factor c > sqrt(p)), so it filters the most.
                p = 2 * c + 1
                if (
                    gmpy2.powmod(two, p - 1, p) == 1
                    and gmpy2.powmod(two, c - 1, c) == 1
                    and is_probable_prime(c)
                    and is_probable_prime(p)
                ):
                    return c
            elif gmpy2.powmod(two, c - 1, c) == 1 and is_probable_prime(c):
                return c
            k = dead.find(0, k + 1)


def _check_bits(bits: int) -> None:
    if not isinstance(bits, int) or bits < _MIN_BITS:
        raise UsageError(f"prime size must be an int of at least {_MIN_BITS} bits")


def generate_safe_prime(bits: int, rng: Rng) -> gmpy2.mpz:
    """A safe prime p = 2q + 1 (q prime) of exactly ``bits`` bits, top two bits set.

    The top two bits make the product of two such primes exactly ``2 * bits`` long.
    Every safe prime above 7 is ≡ 11 (mod 12), so q ≡ 5 (mod 6) is searched.
    """
    _check_bits(bits)
    q = _sieve_search(rng, bits - 1, 6, 5, strike_half=True)
    return 2 * q + 1


def generate_blum_prime(bits: int, rng: Rng) -> gmpy2.mpz:
    """A prime p ≡ 3 (mod 4) of exactly ``bits`` bits, top two bits set."""
    _check_bits(bits)
    return _sieve_search(rng, bits, 4, 3, strike_half=False)


def is_safe_prime(p: int) -> bool:
    """Whether p = 2q + 1 with q prime.

    Given q prime, 2^(p-1) ≡ 1 (mod p) with gcd(2^2 - 1, p) = 1 proves p prime
    (Pocklington, as q > sqrt(p)), so only q needs the probabilistic test.
    """
    p = gmpy2.mpz(p)
    if p <= 7 or p % 2 == 0 or p % 3 == 0:
        return p in (5, 7)
    return gmpy2.powmod(2, p - 1, p) == 1 and is_probable_prime((p - 1) // 2)


def parse_prime_pool(text: str, bits: int = SAFE_PRIME_TEST_BITS) -> list[int]:
    """Parse a pool file (one hex safe prime a line, ``#`` comments) and check every entry.

    Each entry must be a safe prime of exactly ``bits`` bits with the top two bits
    set, and appear once; anything else raises ``EncodingError`` naming the line.
    """
    primes: list[int] = []
    seen: set[int] = set()
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            p = int(line, 16)
        except ValueError:
            raise EncodingError(f"prime pool line {lineno}: not a hex integer") from None
        if p.bit_length() != bits or not (p >> (bits - 2)) == 3:
            raise EncodingError(f"prime pool line {lineno}: not {bits} bits with top bits set")
        if p in seen:
            raise EncodingError(f"prime pool line {lineno}: duplicate prime")
        if not is_safe_prime(p):
            raise EncodingError(f"prime pool line {lineno}: not a safe prime")
        seen.add(p)
        primes.append(p)
    return primes


class PrimePool:
    """Hands out primes from a fixed list, never the same one twice per instance.

    Tests use it as a ``prime_source`` so keygen skips the search; two keys built
    from one pool therefore never share a factor.
    """

    __slots__ = ("_primes", "_next")

    def __init__(self, primes: Iterable[int]) -> None:
        unique: list[gmpy2.mpz] = []
        seen: set[int] = set()
        for p in primes:
            if int(p) not in seen:
                seen.add(int(p))
                unique.append(gmpy2.mpz(p))
        self._primes = tuple(unique)
        self._next = 0

    def __len__(self) -> int:
        return len(self._primes) - self._next

    def take(self) -> gmpy2.mpz:
        if self._next >= len(self._primes):
            raise UsageError("prime pool exhausted")
        p = self._primes[self._next]
        self._next += 1
        return p

    def take_pair(self) -> tuple[gmpy2.mpz, gmpy2.mpz]:
        if len(self) < 2:
            raise UsageError("prime pool exhausted")
        return self.take(), self.take()

    def __repr__(self) -> str:
        return f"PrimePool(remaining={len(self)})"
