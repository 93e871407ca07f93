"""Π^log*: knowledge of exponent vs Paillier encryption (CGGMP21, Fig. 25).

Statement: C = (1 + N0)^x · ρ^N0 mod N0² under the prover's own key N0 and
X = x·g for a base point g, with x ∈ ±2^ℓ. The base is part of the statement
because presigning proves Δ_i = k_i·Γ with Γ, not the group generator. The range
rests on ring-Pedersen commitments under the VERIFIER's (N̂, s, t).

Speed: as in Π^enc, the prover's r^N0 mod N0² and ρ^e mod N0 go through CRT when
``Private.key`` is given, and a verifier with its own ring-Pedersen trapdoor checks
s^z1·t^z3 as one CRT power.
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

NAME = "logstar"
_LABEL = "cggmp21/logstar/v1"


@dataclass(frozen=True, slots=True)
class Public:
    """C encrypts x under ``key`` (N0, the prover's) and X = x·g; ``aux`` is the verifier's."""

    group: Group
    g: Point
    key: PaillierPublicKey
    C: int
    X: Point
    aux: RingPedersenParams


@dataclass(frozen=True, slots=True, repr=False)
class Private:
    """x and ρ with C = enc_N0(x; ρ); ``key``, the prover's own secret key, enables CRT."""

    x: int
    rho: int
    key: PaillierSecretKey | None = None

    def __repr__(self) -> str:
        return "logstar.Private(<redacted>)"


@wire.message(0x0104)
@dataclass(frozen=True, slots=True)
class Proof:
    S: int = wire.field(wire.Nat(MAX_MODULUS_BITS))
    A: int = wire.field(wire.Nat(2 * MAX_MODULUS_BITS))
    Y: Point = wire.field(wire.PointField())
    D: int = wire.field(wire.Nat(MAX_MODULUS_BITS))
    # Codec bounds are looser than the paper's ranges so the range check names the failure.
    z1: int = wire.field(wire.Int(MAX_MODULUS_BITS))
    z2: int = wire.field(wire.Nat(MAX_MODULUS_BITS))
    z3: int = wire.field(wire.Int(2 * MAX_MODULUS_BITS))


def _challenge(t: Transcript, pub: Public, level: SecurityLevel,
               S: int, A: int, Y: Point, D: int) -> gmpy2.mpz:
    t = t.copy()
    t.append("proof", _LABEL)
    t.append("security-level", list(level.transcript_items()))
    t.append("group", pub.group.name)
    t.append("g", pub.g)
    t.append("N0", pub.key.n)
    t.append("C", pub.C)
    t.append("X", pub.X)
    t.append("aux", [pub.aux.n, pub.aux.s, pub.aux.t])
    t.append("S", S)
    t.append("A", A)
    t.append("Y", Y)
    t.append("D", D)
    return t.challenge_signed("e", pub.group.order)


def prove(t: Transcript, pub: Public, priv: Private, rng: Rng,
          level: SecurityLevel = DEFAULT_LEVEL) -> Proof:
    """The non-interactive proof (Fiat–Shamir over a copy of ``t``).

    The witness is checked first: out of range, the answers would leak it even
    though the verifier rejects the proof.
    """
    require_witness_range(priv.x, level.ell, NAME, "x")
    return _prove(t, pub, priv, rng, level)


def _prove(t: Transcript, pub: Public, priv: Private, rng: Rng,
           level: SecurityLevel) -> Proof:
    # Without witness checks: tests use it directly as a cheating prover.
    if priv.key is not None and priv.key.public != pub.key:
        raise UsageError("Π^log*: the secret key is not the statement's N0")
    n0, n_hat, aux = pub.key.n, pub.aux.n, pub.aux
    alpha = sample_signed(rng, level.ell + level.epsilon)
    mu = sample_signed(rng, level.ell, n_hat)
    r = rand_unit(rng, n0)
    gamma = sample_signed(rng, level.ell + level.epsilon, n_hat)

    S = aux.commit(priv.x, mu)
    A = (priv.key or pub.key).encrypt_with_nonce(alpha, r)
    Y = alpha * pub.g
    D = aux.commit(alpha, gamma)
    e = _challenge(t, pub, level, S, A, Y, D)

    rho_e = (priv.key.crt.pow_n(priv.rho, e) if priv.key is not None
             else pow_signed(priv.rho, e, n0))
    return Proof(S=S, A=A, Y=Y, D=D, z1=alpha + e * priv.x, z2=r * rho_e % n0,
                 z3=gamma + e * mu)


def verify(t: Transcript, pub: Public, proof: Proof, level: SecurityLevel = DEFAULT_LEVEL,
           *, aux_secret: RingPedersenSecret | None = None) -> None:
    """Return None or raise InvalidProof naming the failed check.

    ``aux_secret`` is the verifier's own trapdoor of ``pub.aux`` (the CRT fast path).
    """
    if not isinstance(proof, Proof):
        raise InvalidProof(NAME, "not a Π^log* proof")
    group = pub.group
    n0, n0_sq, n_hat = pub.key.n, pub.key.n2, pub.aux.n

    # A base of the identity would make the group equation say nothing about x.
    require_point(pub.g, group, NAME, "g", allow_identity=False)
    require_point(pub.X, group, NAME, "X", allow_identity=True)
    require_point(proof.Y, group, NAME, "Y", allow_identity=False)
    require_unit(pub.C, n0_sq, NAME, "C")
    require_unit(proof.A, n0_sq, NAME, "A")
    require_unit(proof.z2, n0, NAME, "z2")
    require_unit(proof.S, n_hat, NAME, "S")
    require_unit(proof.D, n_hat, NAME, "D")
    require_signed_range(proof.z1, level.ell + level.epsilon, NAME, "z1")

    e = _challenge(t, pub, level, proof.S, proof.A, proof.Y, proof.D)

    lhs = pub.key.encrypt_with_nonce(proof.z1, proof.z2)
    rhs = proof.A * pow_signed(pub.C, e, n0_sq) % n0_sq
    require_equal(lhs, rhs, NAME, "(1+N0)^z1·z2^N0 = A·C^e mod N0²")

    if proof.z1 * pub.g != proof.Y + e * pub.X:
        raise InvalidProof(NAME, "z1·g = Y + e·X")

    require_ring_pedersen(pub.aux, aux_secret, proof.z1, proof.z3, proof.D, proof.S, e,
                          NAME, "s^z1·t^z3 = D·S^e mod N̂")
