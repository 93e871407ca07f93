"""Π^log*: knowledge of exponent vs Paillier encryption (CGGMP21, Fig. 25).

Statement: C = (1 + N0)^x · ρ^N0 mod N0² under the prover's own key N0 and
X = x·g for a base point g, with x ∈ ±2^ℓ. The base is part of the statement
because presigning proves Δ_i = k_i·Γ with Γ, not the group generator. The range
rests on ring-Pedersen commitments under the VERIFIER's (N̂, s, t).

The same proof with other bounds is Π^dec (``protocol.zk.dec``): a ``Form`` says
what tells the two apart (label, names and wire type of the proof), the statement
says its ``bounds`` and any further ``statement_items``, and one implementation
proves and verifies both. The first message (S, A, Y and the commitment) goes
into the transcript in the proof's wire order.

Speed: as in Π^enc, the prover's r^N0 mod N0² and ρ^e mod N0 go through CRT when
``Private.key`` is given, and a verifier with its own ring-Pedersen trapdoor checks
s^z1·t^z3 as one CRT power.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

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


@dataclass(frozen=True, slots=True)
class Public:
    """C encrypts x under ``key`` (N0, the prover's) and X = x·g; ``aux`` is the verifier's."""

    group: Group
    g: Point
    key: PaillierPublicKey
    C: int
    X: Point
    aux: RingPedersenParams

    def bounds(self, level: SecurityLevel) -> encrange.Bounds:
        """x ∈ ±2^ℓ, masks α ← ±2^(ℓ+ε)."""
        return encrange.Bounds.of_level(level)

    def statement_items(self) -> tuple[tuple[str, object], ...]:
        """What else the statement binds into the transcript, after (N0, C, X, aux)."""
        return ()


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


@dataclass(frozen=True, slots=True)
class Form:
    """One proof of this shape: its title and transcript label, what it calls the shared
    values (``names``: the commitment and the responses z2, z3 are fields of ``proof`` by
    those names; S, A, Y and z1 always), its wire type and the witness's name in
    ``Private``."""

    title: str
    label: str
    names: encrange.Names
    proof: type
    witness: str

    def prove(self, t: Transcript, pub: Public, priv, rng: Rng,
              level: SecurityLevel = DEFAULT_LEVEL):
        """The non-interactive proof (Fiat–Shamir over a copy of ``t``).

        The witness is checked first: out of range, the answers would leak it even
        though the verifier rejects the proof.
        """
        pub.bounds(level).require_witness(getattr(priv, self.witness), self.names.proof, self.witness)
        return self.prove_unchecked(t, pub, priv, rng, level)

    def prove_unchecked(self, t: Transcript, pub: Public, priv, rng: Rng, level: SecurityLevel):
        """``prove`` without the witness check: tests use it directly as a cheating prover."""
        if priv.key is not None and priv.key.public != pub.key:
            raise UsageError(f"{self.title}: the secret key is not the statement's N0")
        witness = getattr(priv, self.witness)
        nonces, S, A, D = encrange.commit(pub.key, priv.key, pub.aux, witness, pub.bounds(level),
                                          level, rng)
        Y = nonces.alpha * pub.g      # the group commitment, on the same α as A and D
        e = self._challenge(t, pub, level, S, A, Y, D)
        z1, z2, z3 = encrange.respond(nonces, witness, priv.rho, e, pub.key, priv.key)
        names = self.names
        return self.proof(S=S, A=A, Y=Y, z1=z1, **{names.commitment: D, names.nonce_response: z2,
                                                  names.randomness_response: z3})

    def verify(self, t: Transcript, pub: Public, proof, level: SecurityLevel = DEFAULT_LEVEL,
               *, aux_secret: RingPedersenSecret | None = None) -> None:
        """Return None or raise InvalidProof naming the failed check.

        ``aux_secret`` is the verifier's own trapdoor of ``pub.aux`` (the CRT fast path).
        """
        names = self.names
        if not isinstance(proof, self.proof):
            raise InvalidProof(names.proof, f"not a {self.title} proof")
        bounds = pub.bounds(level)
        group = pub.group
        # A base of the identity would make the group equation say nothing about x.
        require_point(pub.g, group, names.proof, "g", allow_identity=False)
        require_point(pub.X, group, names.proof, "X", allow_identity=True)
        require_point(proof.Y, group, names.proof, "Y", allow_identity=False)
        D = getattr(proof, names.commitment)
        z2 = getattr(proof, names.nonce_response)
        encrange.check_inputs(names, pub.key, pub.aux, pub.C, proof.S, proof.A, D, proof.z1, z2,
                              bounds)
        e = self._challenge(t, pub, level, proof.S, proof.A, proof.Y, D)
        # The group equation first: it costs microseconds, the others milliseconds.
        if proof.z1 * pub.g != proof.Y + e * pub.X:
            raise InvalidProof(names.proof, "z1·g = Y + e·X")
        encrange.check_equations(names, pub.key, pub.aux, aux_secret, pub.C, proof.S, proof.A, D,
                                 proof.z1, z2, getattr(proof, names.randomness_response), e)

    def _challenge(self, t: Transcript, pub: Public, level: SecurityLevel,
                   S: int, A: int, Y: Point, D: int) -> gmpy2.mpz:
        t = t.copy()
        t.append("proof", self.label)
        t.append("security-level", list(level.transcript_items()))
        t.append("group", pub.group.name)
        t.append("g", pub.g)
        t.append("N0", pub.key.n)
        t.append("C", pub.C)
        t.append("X", pub.X)
        t.append("aux", [pub.aux.n, pub.aux.s, pub.aux.t])
        for name, value in pub.statement_items():
            t.append(name, value)
        first = {"S": S, "A": A, "Y": Y, self.names.commitment: D}
        for f in fields(self.proof):
            if f.name in first:
                t.append(f.name, first[f.name])
        return t.challenge_signed("e", pub.group.order)


FORM = Form(title="Π^log*", label="cggmp21/logstar/v1",
            names=encrange.Names(proof=NAME, ciphertext="C", commitment="D"), proof=Proof, witness="x")
prove = FORM.prove
_prove = FORM.prove_unchecked
verify = FORM.verify
