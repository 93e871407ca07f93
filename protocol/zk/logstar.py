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
from protocol.errors import InvalidProof, UsageError
from protocol.group import Group, Point
from protocol.paillier import PaillierPublicKey, PaillierSecretKey
from protocol.params import DEFAULT_LEVEL, MAX_MODULUS_BITS, SecurityLevel
from protocol.pedersen import RingPedersenParams, RingPedersenSecret
from protocol.rng import Rng
from protocol.transcript import Transcript
from protocol.zk import encrange
from protocol.zk.common import require_point

NAME = "logstar"
_LABEL = "cggmp21/logstar/v1"
_NAMES = encrange.Names(proof=NAME, ciphertext="C", commitment="D")


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
    encrange.Bounds.of_level(level).require_witness(priv.x, NAME, "x")
    return _prove(t, pub, priv, rng, level)


def _prove(t: Transcript, pub: Public, priv: Private, rng: Rng,
           level: SecurityLevel) -> Proof:
    # Without witness checks: tests use it directly as a cheating prover.
    if priv.key is not None and priv.key.public != pub.key:
        raise UsageError("Π^log*: the secret key is not the statement's N0")
    bounds = encrange.Bounds.of_level(level)
    nonces, S, A, D = encrange.commit(pub.key, priv.key, pub.aux, priv.x, bounds, level, rng)
    Y = nonces.alpha * pub.g      # the group commitment, on the same α as A and D
    e = _challenge(t, pub, level, S, A, Y, D)
    z1, z2, z3 = encrange.respond(nonces, priv.x, priv.rho, e, pub.key, priv.key)
    return Proof(S=S, A=A, Y=Y, D=D, z1=z1, z2=z2, z3=z3)


def verify(t: Transcript, pub: Public, proof: Proof, level: SecurityLevel = DEFAULT_LEVEL,
           *, aux_secret: RingPedersenSecret | None = None) -> None:
    """Return None or raise InvalidProof naming the failed check.

    ``aux_secret`` is the verifier's own trapdoor of ``pub.aux`` (the CRT fast path).
    """
    if not isinstance(proof, Proof):
        raise InvalidProof(NAME, "not a Π^log* proof")
    group = pub.group
    # A base of the identity would make the group equation say nothing about x.
    require_point(pub.g, group, NAME, "g", allow_identity=False)
    require_point(pub.X, group, NAME, "X", allow_identity=True)
    require_point(proof.Y, group, NAME, "Y", allow_identity=False)
    encrange.check_inputs(_NAMES, pub.key, pub.aux, pub.C, proof.S, proof.A, proof.D,
                          proof.z1, proof.z2, encrange.Bounds.of_level(level))
    e = _challenge(t, pub, level, proof.S, proof.A, proof.Y, proof.D)
    # The group equation first: it costs microseconds, the others milliseconds.
    if proof.z1 * pub.g != proof.Y + e * pub.X:
        raise InvalidProof(NAME, "z1·g = Y + e·X")
    encrange.check_equations(_NAMES, pub.key, pub.aux, aux_secret, pub.C, proof.S, proof.A,
                             proof.D, proof.z1, proof.z2, proof.z3, e)
