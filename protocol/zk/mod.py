"""Π^mod: N is a Paillier–Blum modulus (CGGMP21, eprint 2021/060, Figure 16).

The prover knows p, q ≡ 3 (mod 4) with N = pq. It publishes w with Jacobi
symbol −1; for each of m challenges y_i it answers with a fourth root x_i of
(−1)^a_i · w^b_i · y_i and the N-th root z_i of y_i. If every y has such an
x, then Z_N^* has at most four classes modulo fourth powers, so N has at most
two prime factors; if every y has an N-th root, gcd(N, φ(N)) = 1 and N is
square-free. A cheater survives each fourth-root repetition with probability at
most 1/2, so there are ``level.repetitions`` of those.

The N-th roots need far fewer (Goldberg, Reyzin, Sagga, Baldimtsi, "Efficient
noninteractive certification of RSA moduli and beyond", ACNS 2019): if a prime p
divides both N and φ(N), the map z ↦ z^N is at least p-to-1 on Z_N^*, so a random
y has an N-th root with probability at most 1/p. The verifier first refuses any N
with a prime factor below 2^16 (one gcd), after which each N-th-root challenge
costs a cheater 16 bits, and ⌈repetitions / 16⌉ of them (8 at the 128-bit level)
give the same soundness as the fourth roots. They are the first y_i. Each costs
the verifier a full exponentiation, so this is most of Π^mod's verification time.

Two checks the figure states only in passing are where implementations went
wrong. Verifiers that skipped Jacobi(w, N) = −1 (or gcd(w, N) = 1) let a prover
take w ≡ 0 modulo the small factors of a BitForge-style N: x_i ≡ 0 there makes
x_i^4 ≡ w·y_i hold, and the modulus later leaks signing shares (the 2025
advisories; tests/protocol/zk/test_malicious_moduli.py builds that forgery).
And the y_i must be independent: a published implementation derived all m from
one hash state, so a single lucky guess passed every repetition.

Figure numbers follow the 2021 revisions of the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import gmpy2

from protocol import wire
from protocol.arith import (
    SMALL_FACTOR_BITS,
    CrtModulus,
    has_small_factor,
    is_perfect_square,
    jacobi,
)
from protocol.errors import Bug, InvalidProof, UsageError
from protocol.params import (
    DEFAULT_LEVEL,
    MAX_MODULUS_BITS,
    MAX_REPETITIONS,
    MIN_REPETITIONS,
    SecurityLevel,
)
from protocol.primes import is_probable_prime
from protocol.rng import Rng, randbelow
from protocol.transcript import Transcript
from protocol.zk.common import Factorization, require_unit

mpz = gmpy2.mpz

PROOF = "mod"
_DOMAIN = "cggmp21/pi-mod/v2"

# Codec bounds on the repeated fields; verify demands exactly level.repetitions
# fourth roots and nth_root_count(level) N-th roots.

_ELEMENT = wire.Nat(MAX_MODULUS_BITS)


def nth_root_count(level: SecurityLevel) -> int:
    """How many N-th roots a proof carries: SMALL_FACTOR_BITS bits of soundness each."""
    return -(-level.repetitions // SMALL_FACTOR_BITS)


def _elements(min_len: int = MIN_REPETITIONS, max_len: int = MAX_REPETITIONS):
    return wire.field(wire.Seq(_ELEMENT, min_len=min_len, max_len=max_len))


def _bits():
    return wire.field(wire.Seq(wire.Bool(), min_len=MIN_REPETITIONS, max_len=MAX_REPETITIONS))


@dataclass(frozen=True, slots=True)
class Public:
    """The statement: N is a product of two primes ≡ 3 (mod 4) with gcd(N, φ(N)) = 1."""

    n: gmpy2.mpz

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", mpz(self.n))


# The witness: the factors p, q of N.
Private = Factorization


@wire.message(0x0105)
@dataclass(frozen=True, slots=True)
class Proof:
    """w, then per repetition i: x_i and the bits a_i and b_i (Figure 16, step 3), and the
    N-th roots z_i of the first ``nth_root_count`` challenges."""

    w: gmpy2.mpz = wire.field(_ELEMENT)
    x: tuple[gmpy2.mpz, ...] = _elements()
    a: tuple[bool, ...] = _bits()
    b: tuple[bool, ...] = _bits()
    z: tuple[gmpy2.mpz, ...] = _elements(
        nth_root_count(SecurityLevel(repetitions=MIN_REPETITIONS)),
        nth_root_count(SecurityLevel(repetitions=MAX_REPETITIONS)))


def _challenges(t: Transcript, n: gmpy2.mpz, w: gmpy2.mpz, level: SecurityLevel) -> list:
    """The y_i ∈ Z_N, each squeezed under its own label after N and w are absorbed."""
    t = t.copy()
    t.append("proof", _DOMAIN)
    t.append("level", list(level.transcript_items()))
    t.append("N", n)
    t.append("w", w)
    return t.challenge_ints("y", n, level.repetitions)


def _sample_w(crt: CrtModulus, rng: Rng) -> gmpy2.mpz:
    """A uniform w ∈ Z_N^* with Jacobi symbol −1: a square modulo exactly one of p, q."""
    while True:
        w = randbelow(rng, crt.n)
        if jacobi(w, crt.n) == -1:
            return w


def prove(
    t: Transcript, pub: Public, priv: Private, rng: Rng, level: SecurityLevel = DEFAULT_LEVEL
) -> Proof:
    crt = CrtModulus(priv.p, priv.q)
    if crt.n != pub.n:
        raise UsageError("Π^mod: p·q is not the public N")
    if priv.p % 4 != 3 or priv.q % 4 != 3:
        raise UsageError("Π^mod: p and q must be ≡ 3 (mod 4)")
    w = _sample_w(crt, rng)
    p, q = crt.p, crt.q
    w_p = jacobi(w, p)
    xs, a_bits, b_bits = [], [], []
    ys = _challenges(t, pub.n, w, level)
    for y in ys:
        y_p, y_q = jacobi(y, p), jacobi(y, q)
        # −1 is a non-square modulo both Blum primes and w modulo exactly one, so
        # exactly one b makes the two Legendre symbols agree and a fixes the sign.
        b = y_p != y_q
        a = (y_p * (w_p if b else 1)) != 1
        y_prime = y * (w if b else 1) * (-1 if a else 1) % crt.n
        x = crt.fourth_root_mod_n(y_prime)
        if x is None:
            raise Bug("Π^mod: (-1)^a w^b y is not a square for the chosen a, b")
        xs.append(x)
        a_bits.append(a)
        b_bits.append(b)
    zs = tuple(crt.nth_root_mod_n(y) for y in ys[:nth_root_count(level)])
    return Proof(w=w, x=tuple(xs), a=tuple(a_bits), b=tuple(b_bits), z=zs)


def _check_modulus(n: gmpy2.mpz) -> None:
    # Figure 16 asks for an odd composite. Squares are refused outright (p = q would
    # leave the N-th roots as the only guard), and so are small factors, which the
    # short run of N-th roots relies on (see the module docstring).
    if n < 3 or n % 2 == 0:
        raise InvalidProof(PROOF, "N is not an odd integer above 1")
    if n.bit_length() > MAX_MODULUS_BITS:
        raise InvalidProof(PROOF, f"N exceeds {MAX_MODULUS_BITS} bits")
    if is_perfect_square(n):
        raise InvalidProof(PROOF, "N is a perfect square")
    if is_probable_prime(n):
        raise InvalidProof(PROOF, "N is prime")
    if has_small_factor(n):
        raise InvalidProof(PROOF, f"N has a prime factor below 2^{SMALL_FACTOR_BITS}")


def verify(
    t: Transcript, pub: Public, proof: Proof, level: SecurityLevel = DEFAULT_LEVEL
) -> None:
    if not isinstance(proof, Proof):
        raise InvalidProof(PROOF, "not a Π^mod proof")
    n = pub.n
    _check_modulus(n)
    m = level.repetitions
    expected = {"x": m, "a": m, "b": m, "z": nth_root_count(level)}
    for name, count in expected.items():
        if len(getattr(proof, name)) != count:
            raise InvalidProof(PROOF, f"{name} has {len(getattr(proof, name))} entries, not {count}")
    require_unit(proof.w, n, PROOF, "w")
    if jacobi(proof.w, n) != -1:
        raise InvalidProof(PROOF, "Jacobi(w, N) is not -1")
    for i in range(m):
        if proof.a[i] not in (0, 1) or proof.b[i] not in (0, 1):
            raise InvalidProof(PROOF, f"a[{i}] or b[{i}] is not a bit")
        require_unit(proof.x[i], n, PROOF, f"x[{i}]")
    for i, z in enumerate(proof.z):
        require_unit(z, n, PROOF, f"z[{i}]")
    ys = _challenges(t, n, proof.w, level)
    w, minus_w = proof.w, n - proof.w
    # The fourth-root equations cost two squarings each: check them all before
    # the N-th-root ones, which cost a full exponentiation each.
    for i, y in enumerate(ys):
        factor = (minus_w if proof.a[i] else w) if proof.b[i] else (n - 1 if proof.a[i] else 1)
        if gmpy2.powmod(proof.x[i], 4, n) != factor * y % n:
            raise InvalidProof(PROOF, f"x[{i}]^4 != (-1)^a w^b y")
    for i, (z, y) in enumerate(zip(proof.z, ys[:len(proof.z)], strict=True)):
        if gmpy2.powmod(z, n, n) != y:
            raise InvalidProof(PROOF, f"z[{i}]^N != y")
