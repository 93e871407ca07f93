"""Security parameters, passed in and hashed into every transcript (never globals)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SecurityLevel:
    """CGGMP21's parameters (eprint 2021/060, section 2 and the proofs' ranges).

    ``ell`` bounds the plaintexts the range proofs speak about (the curve order),
    ``ell_prime`` the larger multiplicands of Π^aff-g, ``epsilon`` the slack that
    makes the range proofs zero-knowledge, ``repetitions`` the number of parallel
    repetitions of Π^mod and Π^prm, and ``modulus_bits`` the size of every
    Paillier and ring-Pedersen modulus (2048 is the floor; 3072 may be chosen).

    Each repetition has a one-bit challenge, so after Fiat–Shamir a cheater who
    grinds the hash succeeds after about 2^repetitions attempts: 80 (the paper's
    floor) is 80 bits of work, which is why this 128-bit level uses 128.
    """

    name: str = "cggmp21-128"
    ell: int = 256
    ell_prime: int = 1280
    epsilon: int = 512
    repetitions: int = 128
    modulus_bits: int = 2048

    def __post_init__(self) -> None:
        from protocol.errors import UsageError

        if not MIN_REPETITIONS <= self.repetitions <= MAX_REPETITIONS:
            raise UsageError(
                f"Π^mod and Π^prm need {MIN_REPETITIONS} to {MAX_REPETITIONS} repetitions")
        if self.modulus_bits < MIN_MODULUS_BITS:
            raise UsageError(f"moduli below {MIN_MODULUS_BITS} bits are not allowed")
        # Both curves' orders are below 2^256, and the range proofs bound witnesses by 2^ℓ.
        if not CURVE_ORDER_BITS <= self.ell < self.ell_prime:
            raise UsageError(f"need {CURVE_ORDER_BITS} <= ell < ell_prime")
        # α ← ±2^(ℓ+ε) must hide e·k with |e| ≤ 2^ℓ and |k| ≤ 2^ℓ, with 128 bits to spare.
        if self.epsilon < self.ell + 128:
            raise UsageError("epsilon must be at least ell + 128 for the proofs to hide witnesses")
        # Π^fac shows factors above 2^ℓ only when N0 has at least 4ℓ + 2ε bits.
        if self.modulus_bits < 4 * self.ell + 2 * self.epsilon:
            raise UsageError("modulus_bits must be at least 4*ell + 2*epsilon (Π^fac)")

    def transcript_items(self) -> tuple:
        """The parameters as transcript values, so proofs made under one level never verify under another."""
        return (self.name, self.ell, self.ell_prime, self.epsilon, self.repetitions, self.modulus_bits)


MIN_MODULUS_BITS = 2048
CURVE_ORDER_BITS = 256

# The paper's floor is 80; the upper bound caps the work a peer can make us do.
MIN_REPETITIONS = 80
MAX_REPETITIONS = 256

DEFAULT_LEVEL = SecurityLevel()

# Upper bound on any modulus a peer may send; the codec's size limits derive from it.
MAX_MODULUS_BITS = 4096
