"""Π^aff-g: Paillier affine operation with group commitment in range (CGGMP21, Fig. 15).

Statement, with N0 the VERIFIER's Paillier key and N1 the prover's:

    D = C^x · (1 + N0)^y · ρ^N0   mod N0²     (the affine map applied to C)
    Y = (1 + N1)^y · ρ_y^N1        mod N1²     (y under the prover's own key)
    X = x·g

with x ∈ ±2^ℓ and y ∈ ±2^ℓ'. The verifier checks z1 against ℓ+ε and z2 against
ℓ'+ε, each against its own bound: checking z1 against the wider ℓ'+ε (as one
published implementation did) lets x grow far beyond 2^ℓ, which breaks the MtA
security argument of presigning.

Speed: the prover knows N1's factors (B_y and ρ_y^e via CRT when ``Private.key1``
is given) but not N0's, so its N0 powers are plain. The verifier owns N0 and
(N̂, s, t): given their trapdoors, its N0 and ring-Pedersen equations use CRT.
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

NAME = "affg"
_LABEL = "cggmp21/affg/v1"


@dataclass(frozen=True, slots=True)
class Public:
    """D = x⊙C ⊕ enc_N0(y), Y = enc_N1(y), X = x·G; ``aux`` is the verifier's (N̂, s, t)."""

    group: Group
    key0: PaillierPublicKey  # N0: the verifier's key, under which C and D are
    key1: PaillierPublicKey  # N1: the prover's key, under which Y is
    C: int
    D: int
    Y: int
    X: Point
    aux: RingPedersenParams


@dataclass(frozen=True, slots=True, repr=False)
class Private:
    """x, y, ρ (mod N0) and ρ_y (mod N1); ``key1``, the prover's own secret key, enables CRT."""

    x: int
    y: int
    rho: int
    rho_y: int
    key1: PaillierSecretKey | None = None

    def __repr__(self) -> str:
        return "affg.Private(<redacted>)"


@wire.message(0x0103)
@dataclass(frozen=True, slots=True)
class Proof:
    S: int = wire.field(wire.Nat(MAX_MODULUS_BITS))
    T: int = wire.field(wire.Nat(MAX_MODULUS_BITS))
    A: int = wire.field(wire.Nat(2 * MAX_MODULUS_BITS))
    Bx: Point = wire.field(wire.PointField())
    By: int = wire.field(wire.Nat(2 * MAX_MODULUS_BITS))
    E: int = wire.field(wire.Nat(MAX_MODULUS_BITS))
    F: int = wire.field(wire.Nat(MAX_MODULUS_BITS))
    # Codec bounds are looser than the paper's ranges so the range checks name failures.
    z1: int = wire.field(wire.Int(MAX_MODULUS_BITS))
    z2: int = wire.field(wire.Int(MAX_MODULUS_BITS))
    z3: int = wire.field(wire.Int(2 * MAX_MODULUS_BITS))
    z4: int = wire.field(wire.Int(2 * MAX_MODULUS_BITS))
    w: int = wire.field(wire.Nat(MAX_MODULUS_BITS))
    wy: int = wire.field(wire.Nat(MAX_MODULUS_BITS))


def _challenge(t: Transcript, pub: Public, level: SecurityLevel, first: tuple) -> gmpy2.mpz:
    t = t.copy()
    t.append("proof", _LABEL)
    t.append("security-level", list(level.transcript_items()))
    t.append("group", pub.group.name)
    t.append("g", pub.group.generator)
    t.append("N0", pub.key0.n)
    t.append("N1", pub.key1.n)
    t.append("C", pub.C)
    t.append("D", pub.D)
    t.append("Y", pub.Y)
    t.append("X", pub.X)
    t.append("aux", [pub.aux.n, pub.aux.s, pub.aux.t])
    for label, value in zip(("S", "T", "A", "Bx", "By", "E", "F"), first, strict=True):
        t.append(label, value)
    return t.challenge_signed("e", pub.group.order)


def prove(t: Transcript, pub: Public, priv: Private, rng: Rng,
          level: SecurityLevel = DEFAULT_LEVEL) -> Proof:
    """The non-interactive proof (Fiat–Shamir over a copy of ``t``).

    The witness is checked first: out of range, the answers would leak it even
    though the verifier rejects the proof.
    """
    require_witness_range(priv.x, level.ell, NAME, "x")
    require_witness_range(priv.y, level.ell_prime, NAME, "y")
    return _prove(t, pub, priv, rng, level)


def _prove(t: Transcript, pub: Public, priv: Private, rng: Rng,
           level: SecurityLevel) -> Proof:
    # Without witness checks: tests use it directly as a cheating prover.
    if priv.key1 is not None and priv.key1.public != pub.key1:
        raise UsageError("Π^aff-g: the secret key is not the statement's N1")
    n0, n0_sq, n1 = pub.key0.n, pub.key0.n2, pub.key1.n
    aux, n_hat = pub.aux, pub.aux.n
    ell_eps = level.ell + level.epsilon
    alpha = sample_signed(rng, ell_eps)
    beta = sample_signed(rng, level.ell_prime + level.epsilon)
    r = rand_unit(rng, n0)
    r_y = rand_unit(rng, n1)
    gamma = sample_signed(rng, ell_eps, n_hat)
    m = sample_signed(rng, level.ell, n_hat)
    delta = sample_signed(rng, ell_eps, n_hat)
    mu = sample_signed(rng, level.ell, n_hat)

    # A = C^α · (1 + N0)^β · r^N0: N0 is the verifier's, so no CRT here.
    A = pow_signed(pub.C, alpha, n0_sq) * pub.key0.encrypt_with_nonce(beta, r) % n0_sq
    Bx = pub.group.base_mul(alpha)
    By = (priv.key1 or pub.key1).encrypt_with_nonce(beta, r_y)
    E = aux.commit(alpha, gamma)
    S = aux.commit(priv.x, m)
    F = aux.commit(beta, delta)
    T = aux.commit(priv.y, mu)
    e = _challenge(t, pub, level, (S, T, A, Bx, By, E, F))

    rho_y_e = (priv.key1.crt.pow_n(priv.rho_y, e) if priv.key1 is not None
               else pow_signed(priv.rho_y, e, n1))
    return Proof(
        S=S, T=T, A=A, Bx=Bx, By=By, E=E, F=F,
        z1=alpha + e * priv.x, z2=beta + e * priv.y, z3=gamma + e * m, z4=delta + e * mu,
        w=r * pow_signed(priv.rho, e, n0) % n0, wy=r_y * rho_y_e % n1,
    )


def _validate(pub: Public, proof: Proof, level: SecurityLevel) -> None:
    """Membership and range checks, all before any exponentiation."""
    n0_sq, n1_sq, n_hat = pub.key0.n2, pub.key1.n2, pub.aux.n
    require_point(pub.X, pub.group, NAME, "X", allow_identity=True)
    require_point(proof.Bx, pub.group, NAME, "Bx", allow_identity=False)
    for name, value, modulus in (
        ("C", pub.C, n0_sq), ("D", pub.D, n0_sq), ("Y", pub.Y, n1_sq),
        ("A", proof.A, n0_sq), ("By", proof.By, n1_sq),
        ("w", proof.w, pub.key0.n), ("wy", proof.wy, pub.key1.n),
        ("S", proof.S, n_hat), ("T", proof.T, n_hat),
        ("E", proof.E, n_hat), ("F", proof.F, n_hat),
    ):
        require_unit(value, modulus, NAME, name)
    require_signed_range(proof.z1, level.ell + level.epsilon, NAME, "z1")
    require_signed_range(proof.z2, level.ell_prime + level.epsilon, NAME, "z2")


def verify(t: Transcript, pub: Public, proof: Proof, level: SecurityLevel = DEFAULT_LEVEL,
           *, aux_secret: RingPedersenSecret | None = None,
           key0: PaillierSecretKey | None = None) -> None:
    """Return None or raise InvalidProof naming the failed check.

    ``aux_secret`` and ``key0`` are the verifier's own trapdoors of ``pub.aux`` and
    ``pub.key0``; each one given moves its equations onto CRT.
    """
    if not isinstance(proof, Proof):
        raise InvalidProof(NAME, "not a Π^aff-g proof")
    if key0 is not None and key0.public != pub.key0:
        raise UsageError("Π^aff-g: key0 is not the statement's N0")
    _validate(pub, proof, level)
    e = _challenge(t, pub, level, (proof.S, proof.T, proof.A, proof.Bx, proof.By,
                                   proof.E, proof.F))
    n0_sq, n1_sq = pub.key0.n2, pub.key1.n2

    # C^z1 · (1 + N0)^z2 · w^N0 = A · D^e mod N0²
    if key0 is not None:
        lhs = key0.crt.pow_n2(pub.C, proof.z1) * key0.encrypt_with_nonce(proof.z2, proof.w)
        d_e = key0.crt.pow_n2(pub.D, e)
    else:
        lhs = pow_signed(pub.C, proof.z1, n0_sq) * pub.key0.encrypt_with_nonce(proof.z2, proof.w)
        d_e = pow_signed(pub.D, e, n0_sq)
    require_equal(lhs % n0_sq, proof.A * d_e % n0_sq, NAME, "C^z1·(1+N0)^z2·w^N0 = A·D^e mod N0²")

    if pub.group.base_mul(proof.z1) != proof.Bx + e * pub.X:
        raise InvalidProof(NAME, "z1·G = Bx + e·X")

    lhs = pub.key1.encrypt_with_nonce(proof.z2, proof.wy)
    require_equal(lhs, proof.By * pow_signed(pub.Y, e, n1_sq) % n1_sq, NAME,
                  "(1+N1)^z2·wy^N1 = By·Y^e mod N1²")

    require_ring_pedersen(pub.aux, aux_secret, proof.z1, proof.z3, proof.E, proof.S, e,
                          NAME, "s^z1·t^z3 = E·S^e mod N̂")
    require_ring_pedersen(pub.aux, aux_secret, proof.z2, proof.z4, proof.F, proof.T, e,
                          NAME, "s^z2·t^z4 = F·T^e mod N̂")
