"""Security parameters, passed in and hashed into every transcript (never globals)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SecurityLevel:
    """CGGMP21's parameters (eprint 2021/060, section 2 and the proofs' ranges).

    ``ell`` bounds the plaintexts the range proofs speak about (the curve order),
    ``ell_prime`` the larger multiplicands of Π^aff-g, ``epsilon`` the slack that
    makes the range proofs zero-knowledge, ``repetitions`` the number of parallel
    repetitions of Π^mod and Π^prm (soundness error 2^-repetitions), and
    ``modulus_bits`` the size of every Paillier and ring-Pedersen modulus (2048 is
    the floor; 3072 may be chosen).
    """

    name: str = "cggmp21-128"
    ell: int = 256
    ell_prime: int = 1280
    epsilon: int = 512
    repetitions: int = 80
    modulus_bits: int = 2048

    def __post_init__(self) -> None:
        from protocol.errors import UsageError

        if not MIN_REPETITIONS <= self.repetitions <= MAX_REPETITIONS:
            raise UsageError(
                f"Π^mod and Π^prm need {MIN_REPETITIONS} to {MAX_REPETITIONS} repetitions")
        if self.modulus_bits < MIN_MODULUS_BITS:
            raise UsageError(f"moduli below {MIN_MODULUS_BITS} bits are not allowed")
        if not (0 < self.ell < self.ell_prime) or self.epsilon <= 0:
            raise UsageError("need 0 < ell < ell_prime and epsilon > 0")

    def transcript_items(self) -> tuple:
        """The parameters as transcript values, so proofs made under one level never verify under another."""
        return (self.name, self.ell, self.ell_prime, self.epsilon, self.repetitions, self.modulus_bits)


MIN_MODULUS_BITS = 2048

# Statistical soundness 2^-80 at least; the upper bound caps what a peer can make us check.
MIN_REPETITIONS = 80
MAX_REPETITIONS = 256

DEFAULT_LEVEL = SecurityLevel()

# Upper bound on any modulus a peer may send; the codec's size limits derive from it.
MAX_MODULUS_BITS = 4096
