"""Ring-Pedersen commitments (CGGMP21 §1.2 / Fig. 6): parameters (N, s, t), s = t^λ.

t = τ^2 is a random square mod N and s = t^λ for a secret λ ← Z_φ(N); a commitment
is s^x t^y mod N with x, y any integers. Every party commits to the same peer's
(s, t) many times per session, so public commits use a fixed-base table
(``arith.FixedBase``) that grows with the exponent sizes seen: about three times
faster than powmod at 2048 bits, and building it costs about one powmod. It is
built from the second commit on, so single-use parameters pay nothing for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gmpy2

from protocol.arith import CrtModulus, FixedBase, inverse, pow_signed, validate_modulus
from protocol.errors import EncodingError, UsageError
from protocol.params import MIN_MODULUS_BITS
from protocol.rng import Rng, rand_unit, randbelow

mpz = gmpy2.mpz

# One power of the base per exponent bit: ~0.7 MB per base for 2800-bit exponents at N = 2048.
# Commits served by powmod before a table is built (the build costs about one commit).
_TABLE_AFTER = 1


@dataclass(frozen=True, slots=True)
class RingPedersenParams:
    """Public ring-Pedersen parameters. Equality and hashing use (n, s, t) only."""

    n: gmpy2.mpz
    s: gmpy2.mpz
    t: gmpy2.mpz
    _cache: list = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        for name in ("n", "s", "t"):
            object.__setattr__(self, name, mpz(getattr(self, name)))
        # [commit count, table for s, table for t]: mutable state kept out of eq/hash.
        object.__setattr__(self, "_cache", [0, None, None])

    def validate(self, min_bits: int = MIN_MODULUS_BITS) -> RingPedersenParams:
        """Return self if the parameters are well formed; raise EncodingError otherwise.

        N passes the same checks as a Paillier modulus; s and t are units other than
        ±1 (which would make a commitment not hiding) with Jacobi symbol 1, and
        differ. That s lies in <t> is what Π^prm proves.
        """
        validate_modulus(self.n, min_bits, "ring-Pedersen modulus")
        for name, v in (("s", self.s), ("t", self.t)):
            if not 0 < v < self.n or gmpy2.gcd(v, self.n) != 1:
                raise EncodingError(f"ring-Pedersen {name}: not a unit mod N")
            if v == 1 or v == self.n - 1:
                raise EncodingError(f"ring-Pedersen {name}: must not be ±1")
            # Squares have Jacobi symbol 1; a cheap public filter before Π^prm.
            if gmpy2.jacobi(v, self.n) != 1:
                raise EncodingError(f"ring-Pedersen {name}: Jacobi symbol is not 1")
        if self.s == self.t:
            raise EncodingError("ring-Pedersen s and t must differ")
        return self

    def _powmod_commit(self, x: gmpy2.mpz, y: gmpy2.mpz) -> gmpy2.mpz:
        return pow_signed(self.s, x, self.n) * pow_signed(self.t, y, self.n) % self.n

    def commit(self, x: int, y: int) -> gmpy2.mpz:
        """s^x * t^y mod N; x and y may be negative."""
        x, y = mpz(x), mpz(y)
        cache = self._cache
        if cache[1] is None:
            cache[0] += 1
            if cache[0] <= _TABLE_AFTER:
                return self._powmod_commit(x, y)
            cache[1], cache[2] = FixedBase(self.s, self.n), FixedBase(self.t, self.n)
        a = cache[1].pow(abs(x))
        b = cache[2].pow(abs(y))
        # One inversion of the product instead of a table for s^-1 and t^-1.
        if x < 0 and y < 0:
            return inverse(a * b % self.n, self.n)
        if x < 0:
            a = inverse(a, self.n)
        elif y < 0:
            b = inverse(b, self.n)
        return a * b % self.n

    def __repr__(self) -> str:
        return f"RingPedersenParams(bits={self.n.bit_length()}, n=0x{int(self.n):x})"


class RingPedersenSecret:
    """The trapdoor of ring-Pedersen parameters: p, q (so φ(N)) and λ with s = t^λ.

    Commits via t^(λx + y) over CRT. Redacted when printed.
    """

    __slots__ = ("crt", "lam", "params", "_t_power")

    def __init__(self, p: int, q: int, lam: int, t: int) -> None:
        self.crt = CrtModulus(p, q)
        t = mpz(t) % self.crt.n
        if gmpy2.gcd(t, self.crt.n) != 1:
            raise UsageError("ring-Pedersen t must be a unit mod N")
        self.lam = mpz(lam) % self.crt.phi
        self.params = RingPedersenParams(self.crt.n, self.crt.pow_n(t, self.lam), t)
        self._t_power = None   # fixed-base tables for t, made at the first commit
    @property
    def phi(self) -> gmpy2.mpz:
        return self.crt.phi

    def commit(self, x: int, y: int) -> gmpy2.mpz:
        """Equals params.commit(x, y): s^x t^y = t^(λx + y), exponent reduced mod φ(N)."""
        if self._t_power is None:
            self._t_power = self.crt.fixed_base(self.params.t)
        return self._t_power.pow((self.lam * mpz(x) + mpz(y)) % self.crt.phi)

    def __repr__(self) -> str:
        return f"RingPedersenSecret(<redacted>, bits={self.crt.n.bit_length()})"


def generate_ring_pedersen(p: int, q: int, rng: Rng) -> RingPedersenSecret:
    """Fresh parameters over N = p*q: τ ← Z_N^*, t = τ^2, λ ← Z_φ(N), s = t^λ.

    Resamples in the negligible cases that would fail ``validate`` (t or s = ±1, s = t).
    """
    crt = CrtModulus(p, q)
    while True:
        tau = rand_unit(rng, crt.n)
        t = tau * tau % crt.n
        lam = randbelow(rng, crt.phi)
        secret = RingPedersenSecret(p, q, lam, t)
        s, n = secret.params.s, crt.n
        if len({s, t, 1, n - 1}) == 4:
            return secret
