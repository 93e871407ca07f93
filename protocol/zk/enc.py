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
from protocol.arith import pow_signed
from protocol.errors import InvalidProof, UsageError
from protocol.group import Group
from protocol.paillier import PaillierPublicKey, PaillierSecretKey
from protocol.params import DEFAULT_LEVEL, MAX_MODULUS_BITS, SecurityLevel
from protocol.pedersen import RingPedersenParams, RingPedersenSecret
from protocol.rng import Rng, rand_unit
from protocol.transcript import Transcript
from protocol.zk.common import (
    require_equal,
    require_ring_pedersen,
    require_signed_range,
    require_unit,
    require_witness_range,
    sample_signed,
)

NAME = "enc"
_LABEL = "cggmp21/enc/v1"


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
    require_witness_range(priv.k, level.ell, NAME, "k")
    return _prove(t, pub, priv, rng, level)


def _prove(t: Transcript, pub: Public, priv: Private, rng: Rng,
           level: SecurityLevel) -> Proof:
    # Without witness checks: tests use it directly as a cheating prover.
    if priv.key is not None and priv.key.public != pub.key:
        raise UsageError("Π^enc: the secret key is not the statement's N0")
    n0, n_hat, aux = pub.key.n, pub.aux.n, pub.aux
    alpha = sample_signed(rng, level.ell + level.epsilon)
    mu = sample_signed(rng, level.ell, n_hat)
    r = rand_unit(rng, n0)
    gamma = sample_signed(rng, level.ell + level.epsilon, n_hat)

    S = aux.commit(priv.k, mu)
    A = (priv.key or pub.key).encrypt_with_nonce(alpha, r)
    C = aux.commit(alpha, gamma)
    e = _challenge(t, pub, level, S, A, C)

    rho_e = (priv.key.crt.pow_n(priv.rho, e) if priv.key is not None
             else pow_signed(priv.rho, e, n0))
    return Proof(S=S, A=A, C=C, z1=alpha + e * priv.k, z2=r * rho_e % n0, z3=gamma + e * mu)


def verify(t: Transcript, pub: Public, proof: Proof, level: SecurityLevel = DEFAULT_LEVEL,
           *, aux_secret: RingPedersenSecret | None = None) -> None:
    """Return None or raise InvalidProof naming the failed check.

    ``aux_secret`` is the verifier's own trapdoor of ``pub.aux``; with it the
    ring-Pedersen equation costs a CRT power instead of three full ones.
    """
    if not isinstance(proof, Proof):
        raise InvalidProof(NAME, "not a Π^enc proof")
    n0, n0_sq, n_hat = pub.key.n, pub.key.n2, pub.aux.n

    # Every value is checked before it enters a power: non-units would let a cheating
    # prover make both sides zero-divisors, and inverses are taken for e < 0.
    require_unit(pub.K, n0_sq, NAME, "K")
    require_unit(proof.A, n0_sq, NAME, "A")
    require_unit(proof.z2, n0, NAME, "z2")
    require_unit(proof.S, n_hat, NAME, "S")
    require_unit(proof.C, n_hat, NAME, "C")
    require_signed_range(proof.z1, level.ell + level.epsilon, NAME, "z1")

    e = _challenge(t, pub, level, proof.S, proof.A, proof.C)

    lhs = pub.key.encrypt_with_nonce(proof.z1, proof.z2)
    rhs = proof.A * pow_signed(pub.K, e, n0_sq) % n0_sq
    require_equal(lhs, rhs, NAME, "(1+N0)^z1·z2^N0 = A·K^e mod N0²")

    require_ring_pedersen(pub.aux, aux_secret, proof.z1, proof.z3, proof.C, proof.S, e,
                          NAME, "s^z1·t^z3 = C·S^e mod N̂")
