"""Checks and samplers shared by the proofs, so every proof states a range the same way."""

from __future__ import annotations

import gmpy2

from protocol.errors import InvalidProof
from protocol.rng import Rng, rand_interval, randbelow


def in_signed_range(value: int, bits: int) -> bool:
    """True when value ∈ [-2^bits, 2^bits] (the paper's ±2^bits)."""
    return -(gmpy2.mpz(1) << bits) <= value <= (gmpy2.mpz(1) << bits)


def require_signed_range(value: int, bits: int, proof: str, name: str) -> None:
    if not in_signed_range(value, bits):
        raise InvalidProof(proof, f"{name} outside ±2^{bits}")


def require_unit(value: int, modulus: int, proof: str, name: str) -> None:
    """value ∈ Z_modulus^* (strictly between 0 and modulus, coprime to it)."""
    if not 0 < value < modulus or gmpy2.gcd(value, modulus) != 1:
        raise InvalidProof(proof, f"{name} is not a unit modulo its modulus")


def require_equal(left: int, right: int, proof: str, name: str) -> None:
    if left != right:
        raise InvalidProof(proof, f"{name} equation does not hold")


def sample_signed(rng: Rng, bits: int, scale: int = 1) -> gmpy2.mpz:
    """Uniform in ±2^bits · scale (for example the paper's μ ← ±2^ℓ·N̂)."""
    if scale == 1:
        return rand_interval(rng, bits)
    bound = (gmpy2.mpz(1) << bits) * scale
    return randbelow(rng, 2 * bound + 1) - bound

