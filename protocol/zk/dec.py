"""Π^dec: Paillier decryption modulo q, against a group element (CGGMP21, Fig. 30, adapted).

Statement: C = (1 + N0)^y · ρ^N0 mod N0² under the prover's own key N0, with
|y| ≤ 2^B, and X = (y mod q)·g for a base point g. Presigning uses it to identify
a cheater after an aggregate check failed: "δ_i is the decryption of my combined
MtA ciphertext" (g = G, X = δ_i·G) and "S_i = χ_i·Γ with χ_i that decryption"
(g = Γ, X = S_i). The paper's scalar form, x = y mod q, is the case g = G, X = x·G.

Why a range, and why this one. Without one the proof says nothing: y + t·N0
encrypts to the same C for every t, and its residue mod q is anything the prover
likes. With |z1| ≤ 2^(B+ℓ+SLACK+1) checked, the integer y the ring-Pedersen
commitment binds has |y| < N0/4, so it is the centred decryption of C itself, and
X is determined. B must leave that room under N0, so ``max_bits(N0)`` is
|N0| − ℓ − SLACK − 4 (1660 bits for a 2048-bit N0): far above what an honest
party's combined MtA plaintext can reach (about 2^1290 honestly, 2^1545 when a
peer pads its MtA mask to the edge of what Π^aff-g accepts). The mask slack is
SLACK = 128 bits of statistical hiding, the floor ``SecurityLevel`` enforces for
ε − ℓ; the level's full ε would leave no room for such a B under 2048 bits.

Commitments (verifier's ring-Pedersen (N̂, s, t)): S = s^y·t^μ, T = s^α·t^ν,
A = enc_N0(α; r), Y = α·g. Responses: z1 = α + e·y, z2 = ν + e·μ, w = r·ρ^e mod N0.
Checks: enc(z1; w) = A·C^e, z1·g = Y + e·X, s^z1·t^z2 = T·S^e, and the z1 range.
"""

from __future__ import annotations

from dataclasses import dataclass

import gmpy2

from protocol import wire
from protocol.arith import pow_signed
from protocol.errors import InvalidProof, UsageError
from protocol.group import Group, Point
from protocol.paillier import PaillierPublicKey, PaillierSecretKey
from protocol.params import DEFAULT_LEVEL, MAX_MODULUS_BITS, SecurityLevel
from protocol.pedersen import RingPedersenParams, RingPedersenSecret
from protocol.rng import Rng, rand_unit
from protocol.transcript import Transcript
from protocol.zk.common import (
    require_equal,
    require_point,
    require_ring_pedersen,
    require_signed_range,
    require_unit,
    require_witness_range,
    sample_signed,
)

NAME = "dec"
_LABEL = "cggmp21/dec/v1"
SLACK = 128


def max_bits(key: PaillierPublicKey, level: SecurityLevel = DEFAULT_LEVEL) -> int:
    """The largest bound B this proof is sound for under ``key`` (see the module docstring)."""
    return key.n.bit_length() - level.ell - SLACK - 4


@dataclass(frozen=True, slots=True)
class Public:
    """C encrypts y (|y| ≤ 2^bits) under ``key`` (N0, the prover's), X = (y mod q)·g; ``aux`` is the verifier's."""

    group: Group
    key: PaillierPublicKey
    C: int
    g: Point
    X: Point
    aux: RingPedersenParams
    bits: int


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


def _mask_bits(pub: Public, level: SecurityLevel) -> int:
    return pub.bits + level.ell + SLACK


def _require_sound_bound(pub: Public, level: SecurityLevel) -> None:
    if not 0 < pub.bits <= max_bits(pub.key, level):
        raise UsageError(f"Π^dec: a bound of {pub.bits} bits is not sound under a "
                         f"{pub.key.n.bit_length()}-bit N0 (at most {max_bits(pub.key, level)})")


def _challenge(t: Transcript, pub: Public, level: SecurityLevel, first: tuple) -> gmpy2.mpz:
    t = t.copy()
    t.append("proof", _LABEL)
    t.append("security-level", list(level.transcript_items()))
    t.append("group", pub.group.name)
    t.append("g", pub.g)
    t.append("N0", pub.key.n)
    t.append("C", pub.C)
    t.append("X", pub.X)
    t.append("aux", [pub.aux.n, pub.aux.s, pub.aux.t])
    t.append("bits", pub.bits)
    for label, value in zip(("S", "T", "A", "Y"), first, strict=True):
        t.append(label, value)
    return t.challenge_signed("e", pub.group.order)


def prove(t: Transcript, pub: Public, priv: Private, rng: Rng,
          level: SecurityLevel = DEFAULT_LEVEL) -> Proof:
    """The non-interactive proof (Fiat–Shamir over a copy of ``t``); the witness is checked first."""
    _require_sound_bound(pub, level)
    require_witness_range(priv.y, pub.bits, NAME, "y")
    return _prove(t, pub, priv, rng, level)


def _prove(t: Transcript, pub: Public, priv: Private, rng: Rng,
           level: SecurityLevel) -> Proof:
    # Without witness checks: tests use it directly as a cheating prover.
    if priv.key is not None and priv.key.public != pub.key:
        raise UsageError("Π^dec: the secret key is not the statement's N0")
    n0, n_hat = pub.key.n, pub.aux.n
    alpha = sample_signed(rng, _mask_bits(pub, level))
    mu = sample_signed(rng, level.ell, n_hat)
    nu = sample_signed(rng, level.ell + level.epsilon, n_hat)
    r = rand_unit(rng, n0)
    S = pub.aux.commit(priv.y, mu)
    T = pub.aux.commit(alpha, nu)
    A = (priv.key or pub.key).encrypt_with_nonce(alpha, r)
    Y = alpha * pub.g
    e = _challenge(t, pub, level, (S, T, A, Y))
    rho_e = priv.key.crt.pow_n(priv.rho, e) if priv.key is not None else pow_signed(priv.rho, e, n0)
    return Proof(S=S, T=T, A=A, Y=Y, z1=alpha + e * priv.y, z2=nu + e * mu, w=r * rho_e % n0)


def verify(t: Transcript, pub: Public, proof: Proof, level: SecurityLevel = DEFAULT_LEVEL,
           *, aux_secret: RingPedersenSecret | None = None) -> None:
    """Return None or raise InvalidProof naming the failed check.

    ``aux_secret`` is the verifier's own trapdoor of ``pub.aux`` (the CRT fast path).
    """
    if not isinstance(proof, Proof):
        raise InvalidProof(NAME, "not a Π^dec proof")
    _require_sound_bound(pub, level)
    group, key = pub.group, pub.key
    require_point(pub.g, group, NAME, "g", allow_identity=False)
    require_point(pub.X, group, NAME, "X", allow_identity=True)
    require_point(proof.Y, group, NAME, "Y", allow_identity=False)
    for name, value, modulus in (("C", pub.C, key.n2), ("A", proof.A, key.n2), ("w", proof.w, key.n),
                                 ("S", proof.S, pub.aux.n), ("T", proof.T, pub.aux.n)):
        require_unit(value, modulus, NAME, name)
    # One bit above the mask's range keeps honest proofs complete; the bound still
    # leaves |y| < N0/4 for the extracted witness.
    require_signed_range(proof.z1, _mask_bits(pub, level) + 1, NAME, "z1")
    e = _challenge(t, pub, level, (proof.S, proof.T, proof.A, proof.Y))
    if proof.z1 * pub.g != proof.Y + e * pub.X:
        raise InvalidProof(NAME, "z1·g = Y + e·X")
    lhs = key.encrypt_with_nonce(proof.z1, proof.w)
    require_equal(lhs, proof.A * pow_signed(pub.C, e, key.n2) % key.n2, NAME,
                  "(1+N0)^z1·w^N0 = A·C^e mod N0²")
    require_ring_pedersen(pub.aux, aux_secret, proof.z1, proof.z2, proof.T, proof.S, e, NAME,
                          "s^z1·t^z2 = T·S^e mod N̂")
