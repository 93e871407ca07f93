"""Π^prm: ring-Pedersen parameters are well formed (CGGMP21, eprint 2021/060, Figure 17).

The prover knows λ with s = t^λ mod N, and φ(N). Per repetition it commits to
A_i = t^a_i for a fresh a_i ← Z_φ(N), receives a bit e_i and answers
z_i = a_i + e_i·λ mod φ(N); the verifier checks t^z_i = A_i·s^e_i. A prover that
answers both bits for one A_i knows a discrete log of s to the base t, so s lies
in the group t generates and a commitment s^x t^y hides x. A cheater survives a
repetition with probability 1/2; m = level.repetitions of them are run.

z_i is a residue mod φ(N) < N, so the verifier can demand 0 ≤ z_i < N: no honest
answer is ever larger, and the bound keeps each exponentiation at |N| bits.

Figure numbers follow the 2021 revisions of the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import gmpy2

from protocol import wire
from protocol.arith import CrtModulus, FixedBase
from protocol.errors import InvalidProof, UsageError
from protocol.params import (
    DEFAULT_LEVEL,
    MAX_MODULUS_BITS,
    MAX_REPETITIONS,
    MIN_REPETITIONS,
    SecurityLevel,
)
from protocol.pedersen import RingPedersenParams, RingPedersenSecret
from protocol.rng import Rng, randbelow
from protocol.transcript import Transcript
from protocol.zk.common import require_unit

mpz = gmpy2.mpz

PROOF = "prm"
_DOMAIN = "cggmp21/pi-prm/v1"

# Codec bounds on the repeated fields; verify demands exactly level.repetitions.


def _elements():
    return wire.field(
        wire.Seq(wire.Nat(MAX_MODULUS_BITS), min_len=MIN_REPETITIONS, max_len=MAX_REPETITIONS)
    )


@dataclass(frozen=True, slots=True)
class Public:
    """The statement: s ∈ ⟨t⟩ in Z_N^*."""

    n: gmpy2.mpz
    s: gmpy2.mpz
    t: gmpy2.mpz

    def __post_init__(self) -> None:
        for name in ("n", "s", "t"):
            object.__setattr__(self, name, mpz(getattr(self, name)))

    @classmethod
    def from_params(cls, params: RingPedersenParams) -> Public:
        return cls(params.n, params.s, params.t)


@dataclass(frozen=True, slots=True, repr=False)
class Private:
    """The witness: λ with s = t^λ, and the factors p, q of N (for φ(N) and CRT)."""

    p: gmpy2.mpz
    q: gmpy2.mpz
    lam: gmpy2.mpz

    @classmethod
    def from_secret(cls, secret: RingPedersenSecret) -> Private:
        return cls(secret.crt.p, secret.crt.q, secret.lam)

    def __repr__(self) -> str:
        return "prm.Private(<redacted>)"


@wire.message(0x0106)
@dataclass(frozen=True, slots=True)
class Proof:
    """The commitments A_i and the answers z_i (Figure 17)."""

    A: tuple[gmpy2.mpz, ...] = _elements()
    z: tuple[gmpy2.mpz, ...] = _elements()


def _challenges(t: Transcript, pub: Public, commitments, level: SecurityLevel) -> list[int]:
    """The bits e_i, squeezed after the statement and every A_i are absorbed."""
    t = t.copy()
    t.append("proof", _DOMAIN)
    t.append("level", list(level.transcript_items()))
    t.append("N", pub.n)
    t.append("s", pub.s)
    t.append("t", pub.t)
    t.append("A", list(commitments))
    return t.challenge_bits("e", level.repetitions)


def prove(
    t: Transcript, pub: Public, priv: Private, rng: Rng, level: SecurityLevel = DEFAULT_LEVEL
) -> Proof:
    crt = CrtModulus(priv.p, priv.q)
    if crt.n != pub.n:
        raise UsageError("Π^prm: p·q is not the public N")
    lam = mpz(priv.lam) % crt.phi
    if crt.pow_n(pub.t, lam) != pub.s:
        raise UsageError("Π^prm: s is not t^λ mod N")
    secrets = [randbelow(rng, crt.phi) for _ in range(level.repetitions)]
    t_power = crt.fixed_base(pub.t)   # every repetition raises the same t
    commitments = tuple(t_power.pow(a) for a in secrets)
    bits = _challenges(t, pub, commitments, level)
    answers = tuple((a + e * lam) % crt.phi for a, e in zip(secrets, bits, strict=True))
    return Proof(A=commitments, z=answers)


def _check_statement(pub: Public) -> None:
    n = pub.n
    if n < 3 or n.bit_length() > MAX_MODULUS_BITS:
        raise InvalidProof(PROOF, f"N is not in [3, 2^{MAX_MODULUS_BITS})")
    require_unit(pub.s, n, PROOF, "s")
    require_unit(pub.t, n, PROOF, "t")
    # s = t would be proved by λ = 1 and t = 1 (so s = 1) by anything: both make
    # commitments that hide nothing, though Figure 17 alone would accept them.
    if pub.t == 1 or pub.s == 1:
        raise InvalidProof(PROOF, "s or t is 1")
    if pub.s == pub.t:
        raise InvalidProof(PROOF, "s equals t")


def verify(
    t: Transcript, pub: Public, proof: Proof, level: SecurityLevel = DEFAULT_LEVEL
) -> None:
    if not isinstance(proof, Proof):
        raise InvalidProof(PROOF, "not a Π^prm proof")
    _check_statement(pub)
    n, m = pub.n, level.repetitions
    if len(proof.A) != m or len(proof.z) != m:
        raise InvalidProof(PROOF, f"A and z need exactly {m} entries each")
    for i in range(m):
        require_unit(proof.A[i], n, PROOF, f"A[{i}]")
        if not 0 <= proof.z[i] < n:
            raise InvalidProof(PROOF, f"z[{i}] is not in [0, N)")
    bits = _challenges(t, pub, proof.A, level)
    # Every repetition raises the same t: one fixed-base table serves all of them.
    t_power = FixedBase(pub.t, n)
    for i, e in enumerate(bits):
        expected = proof.A[i] * pub.s % n if e else proof.A[i]
        if t_power.pow(proof.z[i]) != expected:
            raise InvalidProof(PROOF, f"t^z[{i}] != A[{i}] s^e[{i}]")
