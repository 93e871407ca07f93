"""Π^fac: N0 = p·q has no small factor (CGGMP21, eprint 2021/060, Figure 28).

The prover commits to its factors in the verifier's ring-Pedersen parameters
(N̂, s, t), P = s^p t^μ and Q = s^q t^ν, and shows with masked answers
z1 = α + e·p, z2 = β + e·q that both factors are at most about √N0·2^(ℓ+ε).
Since their product is N0, each is then at least about √N0 / 2^(ℓ+ε), which is
2^ℓ for a modulus of 4ℓ + 2ε = 2048 bits. T and R tie the two commitments to
N0 itself: Q^p = s^N0 t^(νp), and σ̂ = σ − νp moves νp out of the exponent.

Choices the figure leaves open:

* The challenge: the figure draws e ← ±q with q the order of the signing group.
  Every suite here has q ≤ 2^ℓ, and soundness needs only |e| ≤ 2^ℓ, so e is
  drawn uniformly from [−2^ℓ, 2^ℓ] and the proof does not depend on the curve.
* The range ±√N0·2^(ℓ+ε): √N0 is irrational, so the verifier tests
  z^2 ≤ N0·2^(2(ℓ+ε)), which is that bound exactly, and the prover draws α, β
  from ±⌊√N0·2^(ℓ+ε)⌋. An honest z still leaves the range with probability
  about 2^(−ε): the completeness error the paper accepts.
* N0 must have level.modulus_bits bits: below that the range says nothing.
* The verifier owns (N̂, s, t). It may pass its ``RingPedersenSecret`` as
  ``aux_secret`` to exponentiate by CRT, as in the other proofs.

Figure numbers follow the 2021 revisions of the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import gmpy2

from protocol import wire
from protocol.arith import pow_signed
from protocol.errors import InvalidProof, UsageError
from protocol.params import DEFAULT_LEVEL, MAX_MODULUS_BITS, SecurityLevel
from protocol.pedersen import RingPedersenParams, RingPedersenSecret
from protocol.rng import Rng, randbelow
from protocol.transcript import Transcript
from protocol.zk.common import (
    Factorization,
    require_equal,
    require_ring_pedersen,
    require_unit,
    ring_pedersen_arithmetic,
    sample_signed,
)

mpz = gmpy2.mpz

PROOF = "fac"
_DOMAIN = "cggmp21/pi-fac/v1"

# Room for ℓ + ε (768 at the default level) in the codec bounds of the signed
# answers; the real ranges are checked against the level in verify.
_SLACK_BITS = 2048
_M = MAX_MODULUS_BITS


@dataclass(frozen=True, slots=True)
class Public:
    """The statement: N0 has no prime factor below about 2^ℓ; aux is the verifier's (N̂, s, t)."""

    n0: gmpy2.mpz
    aux: RingPedersenParams

    def __post_init__(self) -> None:
        object.__setattr__(self, "n0", mpz(self.n0))
        if not isinstance(self.aux, RingPedersenParams):
            raise UsageError("Π^fac: aux must be ring-Pedersen parameters")


# The witness: the factors p, q of N0.
Private = Factorization


@wire.message(0x0107)
@dataclass(frozen=True, slots=True)
class Proof:
    """The commitments P, Q, A, B, T and σ, then the answers (Figure 28, steps 1 and 3)."""

    P: gmpy2.mpz = wire.field(wire.Nat(_M))
    Q: gmpy2.mpz = wire.field(wire.Nat(_M))
    A: gmpy2.mpz = wire.field(wire.Nat(_M))
    B: gmpy2.mpz = wire.field(wire.Nat(_M))
    T: gmpy2.mpz = wire.field(wire.Nat(_M))
    sigma: gmpy2.mpz = wire.field(wire.Int(2 * _M + _SLACK_BITS))
    z1: gmpy2.mpz = wire.field(wire.Int(_M // 2 + _SLACK_BITS))
    z2: gmpy2.mpz = wire.field(wire.Int(_M // 2 + _SLACK_BITS))
    w1: gmpy2.mpz = wire.field(wire.Int(_M + _SLACK_BITS))
    w2: gmpy2.mpz = wire.field(wire.Int(_M + _SLACK_BITS))
    v: gmpy2.mpz = wire.field(wire.Int(2 * _M + _SLACK_BITS))


def _challenge(t: Transcript, pub: Public, proof_head: tuple, level: SecurityLevel) -> gmpy2.mpz:
    """e ∈ [−2^ℓ, 2^ℓ], squeezed after the statement, P, Q, A, B, T and σ are absorbed."""
    params = pub.aux
    t = t.copy()
    t.append("proof", _DOMAIN)
    t.append("level", list(level.transcript_items()))
    t.append("N0", pub.n0)
    t.append("aux", [params.n, params.s, params.t])
    t.append("commitments", list(proof_head))
    return t.challenge_signed("e", mpz(1) << level.ell)


def _root_bound(n0: gmpy2.mpz, level: SecurityLevel) -> gmpy2.mpz:
    """⌊√N0 · 2^(ℓ+ε)⌋, exactly."""
    return gmpy2.isqrt(n0 << (2 * (level.ell + level.epsilon)))


def prove(
    t: Transcript, pub: Public, priv: Private, rng: Rng, level: SecurityLevel = DEFAULT_LEVEL
) -> Proof:
    p, q = mpz(priv.p), mpz(priv.q)
    if p * q != pub.n0:
        raise UsageError("Π^fac: p·q is not the public N0")
    aux = pub.aux
    n_hat, n0, ell, eps = aux.n, pub.n0, level.ell, level.epsilon
    # Figure 28, step 1: the masks, each wide enough to hide what it covers.
    root = _root_bound(n0, level)
    alpha = randbelow(rng, 2 * root + 1) - root
    beta = randbelow(rng, 2 * root + 1) - root
    mu = sample_signed(rng, ell, n_hat)
    nu = sample_signed(rng, ell, n_hat)
    sigma = sample_signed(rng, ell, n0 * n_hat)
    r = sample_signed(rng, ell + eps, n0 * n_hat)
    x = sample_signed(rng, ell + eps, n_hat)
    y = sample_signed(rng, ell + eps, n_hat)
    big_p = aux.commit(p, mu)
    big_q = aux.commit(q, nu)
    big_a = aux.commit(alpha, x)
    big_b = aux.commit(beta, y)
    big_t = pow_signed(big_q, alpha, n_hat) * pow_signed(aux.t, r, n_hat) % n_hat
    head = (big_p, big_q, big_a, big_b, big_t, sigma)
    # Step 2 by Fiat–Shamir; step 3 with σ̂ = σ − νp.
    e = _challenge(t, pub, head, level)
    sigma_hat = sigma - nu * p
    return Proof(
        P=big_p, Q=big_q, A=big_a, B=big_b, T=big_t, sigma=sigma,
        z1=alpha + e * p, z2=beta + e * q, w1=x + e * mu, w2=y + e * nu, v=r + e * sigma_hat,
    )


def _check_statement(pub: Public, level: SecurityLevel) -> None:
    n0, aux = pub.n0, pub.aux
    if not level.modulus_bits <= n0.bit_length() <= MAX_MODULUS_BITS:
        raise InvalidProof(PROOF, f"N0 is not {level.modulus_bits} to {MAX_MODULUS_BITS} bits")
    if aux.n < 3 or aux.n.bit_length() > MAX_MODULUS_BITS:
        raise InvalidProof(PROOF, "N-hat is out of range")
    require_unit(aux.s, aux.n, PROOF, "s")
    require_unit(aux.t, aux.n, PROOF, "t")


def verify(
    t: Transcript, pub: Public, proof: Proof, level: SecurityLevel = DEFAULT_LEVEL,
    *, aux_secret: RingPedersenSecret | None = None,
) -> None:
    """Return None or raise InvalidProof naming the failed check.

    ``aux_secret`` is the verifier's own trapdoor of ``pub.aux`` (the CRT fast path).
    """
    if not isinstance(proof, Proof):
        raise InvalidProof(PROOF, "not a Π^fac proof")
    _check_statement(pub, level)
    n_hat, n0 = pub.aux.n, pub.n0
    # Not in the figure: the checks below raise these to negative powers.
    for name in ("P", "Q", "A", "B", "T"):
        require_unit(getattr(proof, name), n_hat, PROOF, name)
    # The range check, exact: |z| ≤ √N0·2^(ℓ+ε) ⇔ z^2 ≤ N0·2^(2(ℓ+ε)).
    limit = n0 << (2 * (level.ell + level.epsilon))
    for name in ("z1", "z2"):
        if mpz(getattr(proof, name)) ** 2 > limit:
            raise InvalidProof(PROOF, f"{name} outside ±sqrt(N0)·2^(ℓ+ε)")
    head = (proof.P, proof.Q, proof.A, proof.B, proof.T, proof.sigma)
    e = _challenge(t, pub, head, level)
    commit, power = ring_pedersen_arithmetic(pub.aux, aux_secret, PROOF)
    require_ring_pedersen(pub.aux, aux_secret, proof.z1, proof.w1, proof.A, proof.P, e,
                          PROOF, "s^z1·t^w1 = A·P^e mod N̂")
    require_ring_pedersen(pub.aux, aux_secret, proof.z2, proof.w2, proof.B, proof.Q, e,
                          PROOF, "s^z2·t^w2 = B·Q^e mod N̂")
    big_r = commit(n0, proof.sigma)
    left = power(proof.Q, proof.z1) * power(pub.aux.t, proof.v) % n_hat
    require_equal(left, proof.T * power(big_r, e) % n_hat, PROOF, "Q^z1·t^v = T·R^e mod N̂")
