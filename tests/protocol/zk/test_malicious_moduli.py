"""The verifier's side of aux-info against malicious Paillier moduli.

Three layers look at a peer's N: ``PaillierPublicKey.validate`` (odd, not a
square, 2048 to 4096 bits, no prime factor below 2^16), Π^mod (N = pq with
p ≡ q ≡ 3 mod 4, square-free) and Π^fac (both factors above about 2^ℓ). Each
test builds one malicious N, lets a prover who knows the factorization do its
best, and states which layers reject it. No layer alone suffices; together they
reject every case:

    modulus                                validate  Π^mod    Π^fac
    16 primes < 2^16 · big prime (BitForge) rejects   rejects  rejects
    16 primes > 2^16 · big prime            passes    rejects  rejects
    16 primes > 2^16 · two ~900-bit primes  passes    rejects  passes
    ~200-bit prime · big prime              passes    passes   rejects
    below 2048 bits                         rejects   passes   rejects
    even                                    rejects   rejects  passes
    p^2                                     rejects   rejects  passes
    p·q·r                                   passes    rejects  passes
    p ≡ 1 (mod 4)                           passes    rejects  passes
    prime                                   passes    rejects  rejects
    honest N, w with Jacobi +1 or 0         -         rejects  -

The cheating Π^mod prover tries all four (a, b) for each y_i and takes roots
prime by prime, so it fails only where no answer exists; the cheating Π^fac
prover runs the honest algorithm on the most balanced split of N it can find.
"""

from __future__ import annotations

from functools import cache
from math import prod

import gmpy2
import pytest

from protocol.arith import jacobi
from protocol.errors import EncodingError, InvalidProof, UsageError
from protocol.paillier import PaillierPublicKey
from protocol.params import DEFAULT_LEVEL
from protocol.primes import generate_blum_prime
from protocol.rng import SeededRng, randbelow, randbits
from protocol.transcript import Transcript
from protocol.zk import fac, mod
from tests.primepool import paillier_key, ring_pedersen

mpz = gmpy2.mpz
M = DEFAULT_LEVEL.repetitions


def session() -> Transcript:
    return Transcript.for_session("tests/zk/malicious", b"aux-info", [1, 2], DEFAULT_LEVEL)


# -- building malicious moduli -----------------------------------------------


def prime_in(low: int, high: int, rng, residue: int, modulus: int) -> gmpy2.mpz:
    """A prime in [low, high) congruent to residue mod modulus, from a random start."""
    while True:
        p = gmpy2.next_prime(low + randbelow(rng, high - low))
        while p < high and p % modulus != residue:
            p = gmpy2.next_prime(p)
        if p < high:
            return p


def small_primes(low: int, count: int, seed: str) -> list[gmpy2.mpz]:
    """Distinct Blum primes in [low, 2·low), none dividing another one's p − 1."""
    rng, out = SeededRng(seed), []
    while len(out) < count:
        p = prime_in(low, 2 * low, rng, 3, 4)
        if p not in out and all((p - 1) % r and (r - 1) % p for r in out):
            out.append(p)
    return out


def blum_prime_coprime(bits: int, avoid: gmpy2.mpz, seed: str) -> gmpy2.mpz:
    rng = SeededRng(seed)
    while True:
        p = generate_blum_prime(bits, rng)
        if gmpy2.gcd(p - 1, avoid) == 1:
            return p


@cache
def bitforge(low: int) -> tuple[gmpy2.mpz, ...]:
    """Sixteen small primes and one large Blum prime, N ≥ 2048 bits (Fireblocks, 2023)."""
    small = small_primes(low, 16, f"bitforge/{low}")
    s = prod(small)
    big = blum_prime_coprime(2049 - s.bit_length(), s, f"bitforge/{low}/big")
    return (*small, big)


@cache
def bitforge_balanced() -> tuple[gmpy2.mpz, ...]:
    """Sixteen primes above 2^16 and two ~900-bit primes: N splits into two large halves."""
    small = small_primes(1 << 16, 16, "bitforge-balanced")
    s = prod(small)
    bits = (2049 - s.bit_length()) // 2 + 1
    first = blum_prime_coprime(bits, s, "bitforge-balanced/1")
    return (*small, first, blum_prime_coprime(bits, s * first, "bitforge-balanced/2"))


# -- the cheating Π^mod prover -------------------------------------------------


def crt(residues, moduli) -> gmpy2.mpz:
    x, m = mpz(0), mpz(1)
    for r, p in zip(residues, moduli, strict=True):
        x += m * ((r - x) * gmpy2.invert(m, p) % p)
        m *= p
    return x


def fourth_root_mod_prime(a, p) -> gmpy2.mpz | None:
    """A fourth root of a mod p, or None; for p = 2, p ≡ 3 (mod 4) and p ≡ 5 (mod 8)."""
    a = mpz(a) % p
    if a == 0 or p == 2:
        return a
    assert p % 8 != 1, "the test primes avoid p ≡ 1 (mod 8)"
    odd = p - 1
    while odd % 2 == 0:
        odd //= 2
    # A fourth power has a^odd = 1 here, so a^(4^-1 mod odd) is a fourth root.
    r = gmpy2.powmod(a, gmpy2.invert(4, odd), p)
    return r if gmpy2.powmod(r, 4, p) == a else None


def fourth_root(a, p, pk) -> gmpy2.mpz | None:
    """A fourth root of a modulo the prime power pk = p^k: a root mod p, Hensel-lifted."""
    a = mpz(a) % pk
    if a % p == 0:
        return mpz(0) if a == 0 else None
    r = fourth_root_mod_prime(a, p)
    while r is not None and gmpy2.powmod(r, 4, pk) != a:
        r = (r - (r**4 - a) * gmpy2.invert(4 * r**3, pk)) % pk
    return r


def nth_root(y, n, p, pk) -> gmpy2.mpz | None:
    """The N-th root of y modulo pk when x -> x^N is a bijection there, else None."""
    if p == 2:
        return mpz(y) % 2
    order = pk // p * (p - 1)
    if gmpy2.gcd(n, order) != 1:
        return None
    return gmpy2.powmod(y, gmpy2.invert(n % order, order), pk)


def answer(y, n, w, parts):
    """(x, a, b) for one challenge y, or None when no (a, b) has a fourth root."""
    for a in (False, True):
        for b in (False, True):
            target = (-1 if a else 1) * (w if b else 1) * y % n
            roots = [fourth_root(target, p, pk) for p, pk in parts]
            if all(r is not None for r in roots):
                return crt(roots, [pk for _, pk in parts]), a, b
    return None


def default_w(n, rng) -> gmpy2.mpz:
    while True:
        w = randbelow(rng, n)
        if n % 2 == 0:
            if gmpy2.gcd(w, n) == 1:
                return w
        elif jacobi(w, n) == -1:
            return w


def forge_mod(n, primes, w=None, seed="forge"):
    """Π^mod from the factorization of N (a repeated prime means a power).

    Returns the proof and the number of repetitions it could answer; where no
    answer exists it sends x_i = 1 (or z_i = 1) and hopes.
    """
    n = mpz(n)
    parts = [(p, p ** primes.count(p)) for p in sorted(set(primes))]
    moduli = [pk for _, pk in parts]
    w = default_w(n, SeededRng(seed)) if w is None else mpz(w)
    rows, answered = [], 0
    # The forger squeezes the challenges exactly as the verifier will.
    ys = mod._challenges(session(), n, w, DEFAULT_LEVEL)
    for y in ys:
        found = answer(y, n, w, parts)
        answered += found is not None
        rows.append(found or (mpz(1), False, False))
    x, a, b = (tuple(column) for column in zip(*rows, strict=True))
    z = []
    for y in ys[:mod.nth_root_count(DEFAULT_LEVEL)]:
        roots = [nth_root(y, n, p, pk) for p, pk in parts]
        z.append(crt(roots, moduli) if None not in roots else mpz(1))
    return mod.Proof(w=w, x=x, a=a, b=b, z=tuple(z)), answered


def equations_hold(n, proof) -> bool:
    """Whether every x_i^4 and z_i^N equation of Figure 16 holds (ignoring all other checks)."""
    ys = mod._challenges(session(), n, proof.w, DEFAULT_LEVEL)
    for x, a, b, y in zip(proof.x, proof.a, proof.b, ys, strict=True):
        target = (-1 if a else 1) * (proof.w if b else 1) * y % n
        if gmpy2.powmod(x, 4, n) != target:
            return False
    return all(gmpy2.powmod(z, n, n) == y for z, y in zip(proof.z, ys[:len(proof.z)], strict=True))


# -- the layers ------------------------------------------------------------------


def validation_rejects(n, reason: str) -> None:
    with pytest.raises(EncodingError, match=reason):
        PaillierPublicKey.validate(n)


def mod_rejects(n, proof, check: str) -> None:
    with pytest.raises(InvalidProof) as info:
        mod.verify(session(), mod.Public(n), proof)
    assert info.value.check.startswith(check), info.value.check


def fac_outcome(p, q) -> str | None:
    """Run the honest Π^fac algorithm on the split N0 = p·q; the failed check, or None."""
    pub = fac.Public(mpz(p) * q, ring_pedersen(3).params)
    proof = fac.prove(session(), pub, fac.Private(p, q), SeededRng("fac"))
    try:
        fac.verify(session(), pub, proof)
    except InvalidProof as exc:
        return exc.check
    return None


def test_the_cheating_prover_is_complete_on_an_honest_modulus():
    # Calibration: given a real Paillier–Blum factorization the cheating prover's
    # proof verifies, so each rejection below is the modulus's doing, not the forger's.
    key = paillier_key(6)
    proof, answered = forge_mod(key.n, [key.p, key.q])
    assert answered == M
    mod.verify(session(), mod.Public(key.n), proof)


# -- BitForge ----------------------------------------------------------------


@pytest.mark.parametrize("low", [1 << 15, 1 << 16], ids=["primes-below-2^16", "primes-above-2^16"])
def test_bitforge_modulus(low):
    primes = bitforge(low)
    n = prod(primes)
    assert n.bit_length() >= 2048
    # Validation's trial division reaches 2^16: it catches the first set only.
    if low < 1 << 16:
        validation_rejects(n, "prime factor below 2")
    else:
        PaillierPublicKey.validate(n)
    # Π^mod: trial division stops the first set; with 17 prime factors almost no
    # y_i has an answer anyway.
    proof, answered = forge_mod(n, primes)
    assert answered < M // 4
    mod_rejects(n, proof, "N has a prime factor below 2^16" if low < 1 << 16 else "x[")
    # Π^fac: no split of N is balanced; the best puts the small primes together.
    assert fac_outcome(prod(primes[:-1]), primes[-1]) == "z2 outside ±sqrt(N0)·2^(ℓ+ε)"


@pytest.mark.parametrize("low", [1 << 15, 1 << 16], ids=["primes-below-2^16", "primes-above-2^16"])
def test_bitforge_with_w_zero_mod_the_small_primes(low):
    # The 2025 advisories: w ≡ 0 modulo the small primes and x_i ≡ 0 there make
    # every x_i^4 = ±w·y_i hold, so only the unit and Jacobi checks on w stop it.
    primes = bitforge(low)
    n, s, big = prod(primes), prod(primes[:-1]), primes[-1]
    non_residue = next(v for v in range(2, 100) if jacobi(v, big) == -1)
    w = crt([0, non_residue], [s, big])
    proof, answered = forge_mod(n, primes, w=w)
    assert answered == M
    assert all(b for b in proof.b)
    assert all(gmpy2.gcd(x, n) != 1 for x in proof.x)
    assert equations_hold(n, proof)
    assert jacobi(w, n) == 0
    mod_rejects(n, proof, "N has a prime factor below 2^16" if low < 1 << 16 else "w is not a unit")


def test_bitforge_with_a_balanced_split_is_stopped_by_mod_alone():
    primes = bitforge_balanced()
    n = prod(primes)
    PaillierPublicKey.validate(n)
    proof, answered = forge_mod(n, primes)
    assert answered < M // 4
    mod_rejects(n, proof, "x[")
    # Π^fac speaks only of sizes, and N = (small primes · P1) · P2 is balanced.
    assert fac_outcome(prod(primes[:-1]), primes[-1]) is None


# -- one small factor ----------------------------------------------------------


@cache
def small_factor_modulus() -> tuple[gmpy2.mpz, gmpy2.mpz]:
    rng = SeededRng("small-factor")
    return generate_blum_prime(200, rng), generate_blum_prime(1848, rng)


def test_one_prime_factor_below_2_256():
    small, big = small_factor_modulus()
    n = small * big
    assert n.bit_length() == 2048
    PaillierPublicKey.validate(n)
    # Two Blum primes: Π^mod is honestly provable and says nothing about sizes.
    honest = mod.prove(session(), mod.Public(n), mod.Private(small, big), SeededRng(1))
    mod.verify(session(), mod.Public(n), honest)
    # Π^fac rejects the honest algorithm in either order of the factors.
    assert fac_outcome(small, big) == "z2 outside ±sqrt(N0)·2^(ℓ+ε)"
    assert fac_outcome(big, small) == "z1 outside ±sqrt(N0)·2^(ℓ+ε)"


def test_one_prime_factor_below_2_16_is_refused_before_the_roots():
    small = next(p for p in range((1 << 16) - 1, 3, -2)
                 if p % 4 == 3 and gmpy2.is_prime(p))
    big = small_factor_modulus()[1]
    n = small * big
    # Honestly provable (two Blum primes), but the short run of N-th roots is sound
    # only for moduli whose factors are all at least 2^16.
    honest = mod.prove(session(), mod.Public(n), mod.Private(small, big), SeededRng(4))
    assert equations_hold(n, honest)
    mod_rejects(n, honest, "N has a prime factor below 2^16")


def test_square_factor_is_caught_by_the_nth_roots():
    # N = p^2·q: fourth roots lift from p to p^2, so every x_i answers, but
    # p divides both N and φ(N) and a random y has an N-th root with probability 1/p.
    key = paillier_key(5)
    n = key.p * key.p * key.q
    # Jacobi(w, N) = Jacobi(w, q) here: w must be a square modulo p^2 as well.
    non_residue = next(v for v in range(2, 100) if jacobi(v, key.q) == -1)
    w = crt([1, non_residue], [key.p * key.p, key.q])
    proof, answered = forge_mod(n, [key.p, key.p, key.q], w=w)
    assert answered == M
    mod_rejects(n, proof, "z[0]^N != y")


# -- structural failures ---------------------------------------------------------


def test_modulus_below_the_floor():
    rng = SeededRng("small-n")
    p, q = generate_blum_prime(512, rng), generate_blum_prime(512, rng)
    n = p * q
    validation_rejects(n, "below the floor")
    honest = mod.prove(session(), mod.Public(n), mod.Private(p, q), SeededRng(2))
    mod.verify(session(), mod.Public(n), honest)
    assert fac_outcome(p, q) == "N0 is not 2048 to 4096 bits"


def test_even_modulus():
    key = paillier_key(4)
    n = 2 * key.n
    validation_rejects(n, "odd")
    proof, _ = forge_mod(n, [mpz(2), key.p, key.q])
    mod_rejects(n, proof, "N is not an odd integer")
    # The best split (2p, q) is balanced, so Π^fac alone would not notice.
    assert fac_outcome(2 * key.p, key.q) is None


def test_perfect_square_modulus():
    p = paillier_key(5).p
    n = p * p
    validation_rejects(n, "perfect square")
    # Fourth roots lift from p to p^2, but x -> x^N is not onto modulo p^2.
    proof, answered = forge_mod(n, [p, p], w=2)
    assert answered == M and not equations_hold(n, proof)
    mod_rejects(n, proof, "N is a perfect square")
    assert fac_outcome(p, p) is None


def test_three_prime_modulus():
    rng = SeededRng("three-primes")
    primes = [generate_blum_prime(683, rng) for _ in range(3)]
    n = prod(primes)
    assert n.bit_length() >= 2048
    PaillierPublicKey.validate(n)
    # Eight square classes, four answers: about half the y_i can be answered.
    proof, answered = forge_mod(n, primes)
    assert M // 4 < answered < 3 * M // 4
    mod_rejects(n, proof, "x[")
    assert fac_outcome(primes[0], primes[1] * primes[2]) is None


@pytest.mark.parametrize("kind", ["one-non-blum", "both-non-blum"])
def test_non_blum_primes(kind):
    rng = SeededRng(f"non-blum/{kind}")
    low, high = 3 << 1022, 1 << 1024
    p = prime_in(low, high, rng, 5, 8)
    q = prime_in(low, high, rng, *((5, 8) if kind == "both-non-blum" else (3, 4)))
    n = p * q
    PaillierPublicKey.validate(n)
    with pytest.raises(UsageError):
        mod.prove(session(), mod.Public(n), mod.Private(p, q), SeededRng(3))
    # Modulo p ≡ 5 (mod 8) squares are not all fourth powers: many y_i fail.
    proof, answered = forge_mod(n, [p, q])
    assert 0 < answered < 3 * M // 4
    mod_rejects(n, proof, "x[")
    assert fac_outcome(p, q) is None


def test_prime_modulus():
    n = generate_blum_prime(2048, SeededRng("prime-n"))
    PaillierPublicKey.validate(n)
    # For a Blum prime every y_i has an answer: only the primality check stops it.
    proof, answered = forge_mod(n, [n])
    assert answered == M
    assert equations_hold(n, proof)
    mod_rejects(n, proof, "N is prime")
    assert fac_outcome(1, n) == "z2 outside ±sqrt(N0)·2^(ℓ+ε)"


# -- a wrong w on an honest modulus ----------------------------------------------


@pytest.mark.parametrize("kind", ["square", "minus-square", "non-unit"])
def test_w_without_jacobi_minus_one(kind):
    key = paillier_key(6)
    n = key.n
    r = randbits(SeededRng(kind), 2000)
    w = {"square": r * r % n, "minus-square": n - r * r % n, "non-unit": key.p * r % n}[kind]
    proof, answered = forge_mod(n, [key.p, key.q], w=w)
    if kind == "non-unit":
        assert jacobi(w, n) == 0
        mod_rejects(n, proof, "w is not a unit")
    else:
        # {±1, ±w} now covers two of the four square classes: half the y_i fail.
        assert jacobi(w, n) == 1
        assert M // 4 < answered < 3 * M // 4
        mod_rejects(n, proof, "Jacobi(w, N) is not -1")
