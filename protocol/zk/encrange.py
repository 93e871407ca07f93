"""The Paillier-encryption-in-range core that Π^enc, Π^log* and Π^dec share.

All three prove knowledge of w and ρ behind a ciphertext K = (1+N0)^w·ρ^N0 mod N0²
under the prover's own key, by the same commitments under the VERIFIER's
ring-Pedersen parameters (N̂, s, t) (CGGMP21, Fig. 14, 25 and 30):

    S = s^w·t^μ,  A = (1+N0)^α·r^N0,  C = s^α·t^γ
    z1 = α + e·w,  z2 = r·ρ^e mod N0,  z3 = γ + e·μ

and the same checks: z1 ∈ ±2^mask_bits, (1+N0)^z1·z2^N0 = A·K^e and
s^z1·t^z3 = C·S^e. Π^log* and Π^dec add a group statement on the same α; each
proof keeps its own names for K, C and the responses so that failures read as in
the paper.

The proofs differ only in their ``Bounds``: an honest witness has |w| ≤
2^witness_bits (the prover checks it before answering, since z1 would leak a
larger one) and the mask α ← ±2^mask_bits, which must exceed the witness by the
challenge's bits plus the statistical slack. The verifier's bound on z1 is the
mask's: what an accepted proof shows is |w| ≤ 2^(mask_bits+1) (an extracted
witness is a difference of two z1 over a difference of challenges), not the
honest bound. Π^enc and Π^log* use (ℓ, ℓ+ε) (``Bounds.of_level``), Π^dec its own.

The ring-Pedersen randomness does not depend on the bounds: μ ← ±2^ℓ·N̂ makes
t^μ statistically uniform in ⟨t⟩ whatever w is, and γ ← ±2^(ℓ+ε)·N̂ hides e·μ in
z3 (|e| ≤ q < 2^ℓ); both are the level's, as in every figure of the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import gmpy2

from protocol.arith import pow_signed
from protocol.errors import UsageError
from protocol.paillier import PaillierPublicKey, PaillierSecretKey
from protocol.params import SecurityLevel
from protocol.pedersen import RingPedersenParams, RingPedersenSecret
from protocol.rng import Rng, rand_unit
from protocol.zk.common import (
    require_equal,
    require_ring_pedersen,
    require_signed_range,
    require_unit,
    require_witness_range,
    sample_signed,
)


@dataclass(frozen=True, slots=True)
class Names:
    """How one proof calls the shared values: its name, the ciphertext, the commitment C and
    the responses z2 (the Paillier nonce's) and z3 (the ring-Pedersen randomness')."""

    proof: str
    ciphertext: str
    commitment: str
    nonce_response: str = "z2"
    randomness_response: str = "z3"


@dataclass(frozen=True, slots=True)
class Bounds:
    """Honest witnesses |w| ≤ 2^witness_bits; masks α ← ±2^mask_bits, the verifier's z1 bound."""

    witness_bits: int
    mask_bits: int

    def __post_init__(self) -> None:
        if not 0 < self.witness_bits < self.mask_bits:
            raise UsageError("the mask must be wider than the witness")

    @classmethod
    def of_level(cls, level: SecurityLevel) -> Bounds:
        """Π^enc's and Π^log*'s: w ∈ ±2^ℓ, α ← ±2^(ℓ+ε)."""
        return cls(level.ell, level.ell + level.epsilon)

    def require_witness(self, w: int, proof: str, name: str) -> None:
        """The prover's own check: out of range, the answers would leak w though the proof fails."""
        require_witness_range(w, self.witness_bits, proof, name)


@dataclass(frozen=True, slots=True, repr=False)
class Nonces:
    """The prover's masks; secret, used for one proof only."""

    alpha: gmpy2.mpz
    mu: gmpy2.mpz
    r: gmpy2.mpz
    gamma: gmpy2.mpz

    def __repr__(self) -> str:
        return "encrange.Nonces(<redacted>)"


def commit(key: PaillierPublicKey, secret_key: PaillierSecretKey | None,
           aux: RingPedersenParams, witness: int, bounds: Bounds, level: SecurityLevel,
           rng: Rng) -> tuple[Nonces, gmpy2.mpz, gmpy2.mpz, gmpy2.mpz]:
    """Fresh masks and the first message (S, A, C); ``secret_key`` (the prover's own) enables CRT."""
    n_hat = aux.n
    nonces = Nonces(
        alpha=sample_signed(rng, bounds.mask_bits),
        mu=sample_signed(rng, level.ell, n_hat),
        r=rand_unit(rng, key.n),
        gamma=sample_signed(rng, level.ell + level.epsilon, n_hat),
    )
    S = aux.commit(witness, nonces.mu)
    A = (secret_key or key).encrypt_with_nonce(nonces.alpha, nonces.r)
    C = aux.commit(nonces.alpha, nonces.gamma)
    return nonces, S, A, C


def respond(nonces: Nonces, witness: int, rho: int, e: int, key: PaillierPublicKey,
            secret_key: PaillierSecretKey | None) -> tuple[gmpy2.mpz, gmpy2.mpz, gmpy2.mpz]:
    """(z1, z2, z3) for challenge e; z1 and z3 are never reduced (that would leak w)."""
    n0 = key.n
    rho_e = secret_key.crt.pow_n(rho, e) if secret_key is not None else pow_signed(rho, e, n0)
    return nonces.alpha + e * witness, nonces.r * rho_e % n0, nonces.gamma + e * nonces.mu


def check_inputs(names: Names, key: PaillierPublicKey, aux: RingPedersenParams,
                 ciphertext: int, S: int, A: int, C: int, z1: int, z2: int,
                 bounds: Bounds) -> None:
    """Membership and range, before any exponentiation.

    Non-units would let a cheating prover make both sides of an equation
    zero-divisors, and inverses are taken for e < 0.
    """
    proof = names.proof
    require_unit(ciphertext, key.n2, proof, names.ciphertext)
    require_unit(A, key.n2, proof, "A")
    require_unit(z2, key.n, proof, names.nonce_response)
    require_unit(S, aux.n, proof, "S")
    require_unit(C, aux.n, proof, names.commitment)
    require_signed_range(z1, bounds.mask_bits, proof, "z1")


def check_equations(names: Names, key: PaillierPublicKey, aux: RingPedersenParams,
                    aux_secret: RingPedersenSecret | None, ciphertext: int, S: int, A: int,
                    C: int, z1: int, z2: int, z3: int, e: int) -> None:
    """The Paillier and the ring-Pedersen equation for challenge e."""
    lhs = key.encrypt_with_nonce(z1, z2)
    rhs = A * pow_signed(ciphertext, e, key.n2) % key.n2
    require_equal(lhs, rhs, names.proof,
                  f"(1+N0)^z1·{names.nonce_response}^N0 = A·{names.ciphertext}^e mod N0²")
    require_ring_pedersen(aux, aux_secret, z1, z3, C, S, e, names.proof,
                          f"s^z1·t^{names.randomness_response} = {names.commitment}·S^e mod N̂")
