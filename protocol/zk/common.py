"""Checks, samplers and witnesses shared by the proofs, so every proof states them the same way."""

from __future__ import annotations

from dataclasses import dataclass

import gmpy2

from protocol.arith import pow_signed
from protocol.errors import InvalidProof, UsageError
from protocol.group import Point
from protocol.pedersen import RingPedersenParams, RingPedersenSecret
from protocol.rng import Rng, rand_interval, randbelow


@dataclass(frozen=True, slots=True, repr=False)
class Factorization:
    """The witness of Π^mod and Π^fac: the prime factors p, q of the prover's modulus."""

    p: gmpy2.mpz
    q: gmpy2.mpz

    def __repr__(self) -> str:
        return "Factorization(<redacted>)"


def in_signed_range(value: int, bits: int) -> bool:
    """True when value ∈ [-2^bits, 2^bits] (the paper's ±2^bits)."""
    return -(gmpy2.mpz(1) << bits) <= value <= (gmpy2.mpz(1) << bits)


def require_signed_range(value: int, bits: int, proof: str, name: str) -> None:
    if not in_signed_range(value, bits):
        raise InvalidProof(proof, f"{name} outside ±2^{bits}")


def require_witness_range(value: int, bits: int, proof: str, name: str) -> None:
    """A prover's own input check: a witness outside ±2^bits would leak through z = α + e·w."""
    if not in_signed_range(value, bits):
        raise UsageError(f"Π^{proof}: witness {name} outside ±2^{bits}")


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



def require_point(point: object, group, proof: str, name: str, *, allow_identity: bool) -> None:
    """A point of the statement's group; the identity only where the paper allows it."""
    if not isinstance(point, Point) or point.group is not group:
        raise InvalidProof(proof, f"{name} is not a point of the statement's group")
    if not allow_identity and point.is_identity():
        raise InvalidProof(proof, f"{name} is the identity")


def ring_pedersen_arithmetic(aux: RingPedersenParams, aux_secret: RingPedersenSecret | None,
                             proof: str):
    """The verifier's (commit, power) modulo N̂.

    ``aux_secret`` is the verifier's own trapdoor of ``aux`` (the verifier owns the
    ring-Pedersen parameters in every proof that uses them); with it both cost CRT
    powers instead of full ones.
    """
    if aux_secret is None:
        return aux.commit, lambda base, exp: pow_signed(base, exp, aux.n)
    if aux_secret.params != aux:
        raise UsageError(f"Π^{proof}: aux_secret does not belong to the statement's (N̂, s, t)")
    return aux_secret.commit, aux_secret.crt.pow_n


def require_ring_pedersen(aux: RingPedersenParams, aux_secret: RingPedersenSecret | None,
                          x: int, y: int, commitment: int, base: int, e: int,
                          proof: str, check: str) -> None:
    """s^x·t^y ≡ commitment·base^e (mod N̂)."""
    commit, power = ring_pedersen_arithmetic(aux, aux_secret, proof)
    require_equal(commit(x, y), commitment * power(base, e) % aux.n, proof, check)
