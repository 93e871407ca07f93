"""Π^dec: Paillier decryption modulo q, against a group element (CGGMP21, Fig. 30, adapted).

What an accepting proof shows. The prover knows an integer y and a nonce ρ with
C = (1 + N0)^y · ρ^N0 mod N0² under its own key N0 and |y| ≤ 2^(mask_bits+1) <
N0/4; so y is THE centred decryption of C (the one representative in (−N0/2,
N0/2)), and X = (y mod q)·g for a base point g. It does NOT show |y| ≤ 2^B for the
statement's ``hidden_bits`` B: B is the size of witness the proof hides (the mask
is α ← ±2^(B+ℓ+SLACK)), which an honest prover checks before answering; a
cheating prover with B < log|y| < about B+ℓ+SLACK−|q| is still accepted, and what
it proved is the same fact about C's centred decryption, so X is fixed either way.

Presigning uses it to identify a cheater after an aggregate check failed: "δ_i is
the decryption of my combined MtA ciphertext" (g = G, X = δ_i·G) and "S_i = χ_i·Γ
with χ_i that decryption" (g = Γ, X = S_i). The paper's scalar form, x = y mod q,
is the case g = G, X = x·G.

Why a range, and why this one. Without one the proof says nothing: y + t·N0
encrypts to the same C for every t, and its residue mod q is anything the prover
likes. The z1 bound leaves the extracted y below N0/4 only if B+ℓ+SLACK+1 ≤
|N0| − 3, so ``max_bits(N0)`` is |N0| − ℓ − SLACK − 4 (1660 bits for a 2048-bit
N0): far above what an honest party's combined MtA plaintext can reach (about
2^1290 honestly, 2^1545 when a peer pads its MtA mask to the edge of what Π^aff-g
accepts). The mask slack is SLACK = 128 bits of statistical hiding, the floor
``SecurityLevel`` enforces for ε − ℓ; the level's full ε would leave no room for
such a B under 2048 bits.

The proof is Π^log* (``protocol.zk.logstar``, its ``Form``) with the bounds
(B, B+ℓ+SLACK) instead of (ℓ, ℓ+ε) and B bound into the transcript, under the
paper's names: commitments (verifier's ring-Pedersen (N̂, s, t)) S = s^y·t^μ,
T = s^α·t^ν, A = enc_N0(α; r), Y = α·g; responses z1 = α + e·y, z2 = ν + e·μ,
w = r·ρ^e mod N0; checks enc(z1; w) = A·C^e, z1·g = Y + e·X, s^z1·t^z2 = T·S^e,
and z1 ∈ ±2^(B+ℓ+SLACK).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import wire
from protocol.errors import UsageError
from protocol.group import Point
from protocol.paillier import PaillierPublicKey, PaillierSecretKey
from protocol.params import DEFAULT_LEVEL, MAX_MODULUS_BITS, SecurityLevel
from protocol.zk import encrange, logstar

NAME = "dec"
SLACK = 128


def max_bits(key: PaillierPublicKey, level: SecurityLevel = DEFAULT_LEVEL) -> int:
    """The largest ``hidden_bits`` this proof is sound for under ``key`` (see the module docstring)."""
    return key.n.bit_length() - level.ell - SLACK - 4


@dataclass(frozen=True, slots=True)
class Public(logstar.Public):
    """C under ``key`` (N0, the prover's) decrypts, centred, to y with X = (y mod q)·g.

    ``aux`` is the verifier's ring-Pedersen parameters. ``hidden_bits`` sizes the
    mask: the proof hides any |y| ≤ 2^hidden_bits; it is not a proven bound on y
    (see the module docstring).
    """

    hidden_bits: int

    def bounds(self, level: SecurityLevel) -> encrange.Bounds:
        """(B, B+ℓ+SLACK), once B is one the modulus can support."""
        if not 0 < self.hidden_bits <= max_bits(self.key, level):
            raise UsageError(f"Π^dec: a bound of {self.hidden_bits} bits is not sound under a "
                             f"{self.key.n.bit_length()}-bit N0 (at most {max_bits(self.key, level)})")
        return encrange.Bounds(self.hidden_bits, self.hidden_bits + level.ell + SLACK)

    def statement_items(self) -> tuple[tuple[str, object], ...]:
        return (("hidden-bits", self.hidden_bits),)


@dataclass(frozen=True, slots=True, repr=False)
class Private:
    """y and ρ with C = enc_N0(y; ρ); ``key``, the prover's own secret key, enables CRT."""

    y: int
    rho: int
    key: PaillierSecretKey | None = None

    def __repr__(self) -> str:
        return "dec.Private(<redacted>)"


@wire.message(0x0109)
@dataclass(frozen=True, slots=True)
class Proof:
    S: int = wire.field(wire.Nat(MAX_MODULUS_BITS))
    T: int = wire.field(wire.Nat(MAX_MODULUS_BITS))
    A: int = wire.field(wire.Nat(2 * MAX_MODULUS_BITS))
    Y: Point = wire.field(wire.PointField())
    # Codec bounds are looser than the range check, so that the check names the failure.
    z1: int = wire.field(wire.Int(2 * MAX_MODULUS_BITS))
    z2: int = wire.field(wire.Int(2 * MAX_MODULUS_BITS))
    w: int = wire.field(wire.Nat(MAX_MODULUS_BITS))


FORM = logstar.Form(title="Π^dec", label="cggmp21/dec/v2",
                    names=encrange.Names(proof=NAME, ciphertext="C", commitment="T",
                                         nonce_response="w", randomness_response="z2"),
                    proof=Proof, witness="y")
prove = FORM.prove
_prove = FORM.prove_unchecked
verify = FORM.verify
