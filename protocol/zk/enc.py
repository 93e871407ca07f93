"""Π^enc: Paillier encryption in range (CGGMP21, Fig. 14).

Statement: K = (1 + N0)^k · ρ^N0 mod N0² under the prover's own key N0, with
k ∈ ±2^ℓ. The range comes from ring-Pedersen commitments under the VERIFIER's
parameters (N̂, s, t), whose trapdoor the prover does not know; the verifier only
checks z1 ∈ ±2^(ℓ+ε), the slack ε being what keeps k hidden.

Speed: the prover knows N0's factors, so r^N0 mod N0² and ρ^e mod N0 go through
CRT when ``Private.key`` is given; a verifier that passes its own ring-Pedersen
trapdoor checks s^z1·t^z3 as one CRT power of t. (1 + N0)^m is always 1 + m·N0.
"""

from __future__ import annotations

from dataclasses import dataclass

import gmpy2

from protocol import wire
from protocol.errors import InvalidProof, UsageError
from protocol.group import Group
from protocol.paillier import PaillierPublicKey, PaillierSecretKey
from protocol.params import DEFAULT_LEVEL, MAX_MODULUS_BITS, SecurityLevel
from protocol.pedersen import RingPedersenParams, RingPedersenSecret
from protocol.rng import Rng
from protocol.transcript import Transcript
from protocol.zk import encrange

NAME = "enc"
_LABEL = "cggmp21/enc/v1"
_NAMES = encrange.Names(proof=NAME, ciphertext="K", commitment="C")


@dataclass(frozen=True, slots=True)
class Public:
    """K encrypts k ∈ ±2^ℓ under ``key`` (N0, the prover's); ``aux`` is the verifier's (N̂, s, t).

    ``group`` supplies only q, the challenge range e ∈ ±q.
    """

    group: Group
    key: PaillierPublicKey
    K: int
    aux: RingPedersenParams


@dataclass(frozen=True, slots=True, repr=False)
class Private:
    """k and ρ with K = enc_N0(k; ρ); ``key``, the prover's own secret key, enables CRT."""

    k: int
    rho: int
    key: PaillierSecretKey | None = None

    def __repr__(self) -> str:
        return "enc.Private(<redacted>)"


@wire.message(0x0102)
@dataclass(frozen=True, slots=True)
class Proof:
    S: int = wire.field(wire.Nat(MAX_MODULUS_BITS))
    A: int = wire.field(wire.Nat(2 * MAX_MODULUS_BITS))
    C: int = wire.field(wire.Nat(MAX_MODULUS_BITS))
    # z1 ∈ ±2^(ℓ+ε) and z3 ∈ ±2^(ℓ+ε+1)·N̂ honestly; the codec bounds are looser so
    # that the range check, not the decoder, names an out-of-range value.
    z1: int = wire.field(wire.Int(MAX_MODULUS_BITS))
    z2: int = wire.field(wire.Nat(MAX_MODULUS_BITS))
    z3: int = wire.field(wire.Int(2 * MAX_MODULUS_BITS))


def _challenge(t: Transcript, pub: Public, level: SecurityLevel,
               S: int, A: int, C: int) -> gmpy2.mpz:
    t = t.copy()
    t.append("proof", _LABEL)
    t.append("security-level", list(level.transcript_items()))
    t.append("group", pub.group.name)
    t.append("N0", pub.key.n)
    t.append("K", pub.K)
    t.append("aux", [pub.aux.n, pub.aux.s, pub.aux.t])
    t.append("S", S)
    t.append("A", A)
    t.append("C", C)
    return t.challenge_signed("e", pub.group.order)


def prove(t: Transcript, pub: Public, priv: Private, rng: Rng,
          level: SecurityLevel = DEFAULT_LEVEL) -> Proof:
    """The non-interactive proof (Fiat–Shamir over a copy of ``t``).

    The witness is checked first: out of range, the answers would leak it even
    though the verifier rejects the proof.
    """
    encrange.Bounds.of_level(level).require_witness(priv.k, NAME, "k")
    return _prove(t, pub, priv, rng, level)


def _prove(t: Transcript, pub: Public, priv: Private, rng: Rng,
           level: SecurityLevel) -> Proof:
    # Without witness checks: tests use it directly as a cheating prover.
    if priv.key is not None and priv.key.public != pub.key:
        raise UsageError("Π^enc: the secret key is not the statement's N0")
    bounds = encrange.Bounds.of_level(level)
    nonces, S, A, C = encrange.commit(pub.key, priv.key, pub.aux, priv.k, bounds, level, rng)
    e = _challenge(t, pub, level, S, A, C)
    z1, z2, z3 = encrange.respond(nonces, priv.k, priv.rho, e, pub.key, priv.key)
    return Proof(S=S, A=A, C=C, z1=z1, z2=z2, z3=z3)


def verify(t: Transcript, pub: Public, proof: Proof, level: SecurityLevel = DEFAULT_LEVEL,
           *, aux_secret: RingPedersenSecret | None = None) -> None:
    """Return None or raise InvalidProof naming the failed check.

    ``aux_secret`` is the verifier's own trapdoor of ``pub.aux``; with it the
    ring-Pedersen equation costs a CRT power instead of three full ones.
    """
    if not isinstance(proof, Proof):
        raise InvalidProof(NAME, "not a Π^enc proof")
    encrange.check_inputs(_NAMES, pub.key, pub.aux, pub.K, proof.S, proof.A, proof.C,
                          proof.z1, proof.z2, encrange.Bounds.of_level(level))
    e = _challenge(t, pub, level, proof.S, proof.A, proof.C)
    encrange.check_equations(_NAMES, pub.key, pub.aux, aux_secret, pub.K, proof.S, proof.A,
                             proof.C, proof.z1, proof.z2, proof.z3, e)
