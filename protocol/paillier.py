"""Paillier encryption with g = N + 1, as CGGMP21 uses it.

Plaintexts are integers taken mod N (negative ones included, which is how CGGMP21
encrypts signed shares and masks); ``decrypt_signed`` maps back to (-N/2, N/2].
The secret key decrypts and encrypts over p^2 and q^2 (CRT), about four times
faster than the textbook formulas.

Moduli come from safe primes (Paillier–Blum with safe primes, as CGGMP21 requires
for Π^mod and Π^fac); ``MIN_MODULUS_BITS`` is the production floor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gmpy2

from protocol.arith import CrtModulus, crt_combine, pow_signed, validate_modulus
from protocol.errors import EncodingError, UsageError
from protocol.params import MIN_MODULUS_BITS
from protocol.primes import PrimePool, generate_safe_prime
from protocol.rng import Rng, rand_unit

mpz = gmpy2.mpz


@dataclass(frozen=True, slots=True)
class PaillierPublicKey:
    """A public key N. ``n2`` (N^2) is derived once and takes no part in equality."""

    n: gmpy2.mpz
    n2: gmpy2.mpz = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = mpz(self.n)
        if n < 3 or n % 2 == 0:
            raise UsageError("Paillier modulus must be odd and at least 3")
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "n2", n * n)

    @classmethod
    def validate(cls, n: int, min_bits: int = MIN_MODULUS_BITS) -> PaillierPublicKey:
        """A key from a peer's N, after the cheap structural checks (EncodingError if not)."""
        return cls(validate_modulus(n, min_bits, "Paillier modulus"))

    def validate_ciphertext(self, c: int) -> gmpy2.mpz:
        """Return c if it is a unit in (0, N^2); raise EncodingError otherwise."""
        if isinstance(c, bool) or not isinstance(c, int | type(mpz(0))):
            raise EncodingError("Paillier ciphertext: not an integer")
        c = mpz(c)
        if not 0 < c < self.n2:
            raise EncodingError("Paillier ciphertext: out of range (0, N^2)")
        if gmpy2.gcd(c, self.n) != 1:
            raise EncodingError("Paillier ciphertext: not a unit mod N")
        return c

    def _nonce(self, rho: int) -> gmpy2.mpz:
        rho = mpz(rho) % self.n
        if gmpy2.gcd(rho, self.n) != 1:
            raise EncodingError("Paillier nonce: not a unit mod N")
        return rho

    def _plain(self, m: int) -> gmpy2.mpz:
        # (1 + N)^m = 1 + m*N (mod N^2): no exponentiation needed for the message.
        return 1 + (mpz(m) % self.n) * self.n

    def encrypt_with_nonce(self, m: int, rho: int) -> gmpy2.mpz:
        """(1 + N)^m * rho^N mod N^2; rho must be a unit mod N (EncodingError if not)."""
        return self._plain(m) * gmpy2.powmod(self._nonce(rho), self.n, self.n2) % self.n2

    def encrypt(self, m: int, rng: Rng) -> tuple[gmpy2.mpz, gmpy2.mpz]:
        """Encrypt m under a fresh nonce; returns (ciphertext, nonce)."""
        rho = rand_unit(rng, self.n)
        return self.encrypt_with_nonce(m, rho), rho

    def add(self, c1: int, c2: int) -> gmpy2.mpz:
        """A ciphertext of m1 + m2."""
        return mpz(c1) * mpz(c2) % self.n2

    def mul(self, c: int, k: int) -> gmpy2.mpz:
        """A ciphertext of k * m; k may be negative (c must then be a unit)."""
        return pow_signed(c, k, self.n2)

    def __repr__(self) -> str:
        return f"PaillierPublicKey(bits={self.n.bit_length()}, n=0x{int(self.n):x})"


class PaillierSecretKey:
    """The factors p, q of N, with CRT decryption. Redacted when printed."""

    __slots__ = ("p", "q", "crt", "public", "phi", "_h_p", "_h_q")

    def __init__(self, p: int, q: int) -> None:
        self.crt = CrtModulus(p, q)
        self.p, self.q = self.crt.p, self.crt.q
        self.phi = self.crt.phi
        self.public = PaillierPublicKey(self.crt.n)
        self._h_p = self._h(self.p, self.crt.p2)
        self._h_q = self._h(self.q, self.crt.q2)

    def _h(self, prime: gmpy2.mpz, square: gmpy2.mpz) -> gmpy2.mpz:
        # h = L(g^(prime-1) mod prime^2)^-1 mod prime, with L(x) = (x - 1) / prime.
        g = (self.crt.n + 1) % square
        ell = (gmpy2.powmod(g, prime - 1, square) - 1) // prime
        try:
            return gmpy2.invert(ell, prime)
        except ZeroDivisionError:
            raise UsageError("Paillier factors are not distinct primes") from None

    @property
    def n(self) -> gmpy2.mpz:
        return self.crt.n

    def decrypt(self, c: int) -> gmpy2.mpz:
        """The plaintext in [0, N); EncodingError if c is not a valid ciphertext."""
        c = self.public.validate_ciphertext(c)
        m_p = self._half(c, self.p, self.crt.p2, self._h_p)
        m_q = self._half(c, self.q, self.crt.q2, self._h_q)
        return crt_combine(m_p, m_q, self.p, self.q, self.crt.q_inv_p)

    @staticmethod
    def _half(c: gmpy2.mpz, prime, square, h) -> gmpy2.mpz:
        u = gmpy2.powmod(c % square, prime - 1, square)
        return (u - 1) // prime * h % prime

    def decrypt_signed(self, c: int) -> gmpy2.mpz:
        """The plaintext in (-N/2, N/2]."""
        m = self.decrypt(c)
        return m - self.n if m > self.n // 2 else m

    def encrypt_with_nonce(self, m: int, rho: int) -> gmpy2.mpz:
        """Same ciphertext as the public key computes, with rho^N taken via CRT."""
        pub = self.public
        return pub._plain(m) * self.crt.pow_n_mod_n2(pub._nonce(rho)) % pub.n2

    def encrypt(self, m: int, rng: Rng) -> tuple[gmpy2.mpz, gmpy2.mpz]:
        rho = rand_unit(rng, self.n)
        return self.encrypt_with_nonce(m, rho), rho

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PaillierSecretKey):
            return NotImplemented
        return {self.p, self.q} == {other.p, other.q}

    __hash__ = None  # secrets are never dict keys

    def __repr__(self) -> str:
        return f"PaillierSecretKey(<redacted>, bits={self.n.bit_length()})"


def generate_paillier_key(
    rng: Rng, bits: int = MIN_MODULUS_BITS, prime_source: PrimePool | None = None
) -> PaillierSecretKey:
    """A key with N = p*q, p and q distinct safe primes of bits/2 each (N exactly ``bits``).

    ``prime_source`` (tests only) hands out pre-generated safe primes instead.
    """
    if not isinstance(bits, int) or bits < MIN_MODULUS_BITS or bits % 2:
        raise UsageError(f"Paillier modulus size must be even and at least {MIN_MODULUS_BITS}")
    if prime_source is not None:
        p, q = prime_source.take_pair()
    else:
        p = generate_safe_prime(bits // 2, rng)
        q = generate_safe_prime(bits // 2, rng)
        while q == p:
            q = generate_safe_prime(bits // 2, rng)
    key = PaillierSecretKey(p, q)
    if key.n.bit_length() != bits:
        raise UsageError(f"prime source gave a {key.n.bit_length()}-bit modulus, not {bits}")
    return key
