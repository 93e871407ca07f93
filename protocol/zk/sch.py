"""Π^sch: Schnorr proof of knowledge of a discrete logarithm (CGGMP21, Fig. 22).

Statement X = x·G. The prover sends A = α·G, receives e ← Z_q and answers
z = α + e·x mod q; the verifier checks z·G = A + e·X.

CGGMP21 keygen and key refresh put A inside the round-1 hash commitment, long
before the challenge can be derived, so the first message is available on its own
(``commit``) and the answer separately (``prove_with_commitment``); ``prove`` does
both at once. A nonce answers exactly one challenge: answering two with the same
α would reveal x, so a second use raises ``UsageError``.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import wire
from protocol.errors import InvalidProof, UsageError
from protocol.group import Group, Point, Scalar
from protocol.params import DEFAULT_LEVEL, SecurityLevel
from protocol.rng import Rng
from protocol.transcript import Transcript
from protocol.zk.common import require_point

NAME = "sch"
_LABEL = "cggmp21/sch/v1"


@dataclass(frozen=True, slots=True)
class Public:
    """X = x·G in ``group``."""

    group: Group
    X: Point


@dataclass(frozen=True, slots=True, repr=False)
class Private:
    x: Scalar

    def __repr__(self) -> str:
        return "sch.Private(<redacted>)"


class SchnorrSecretNonce:
    """α with its commitment A = α·G; single use, redacted when printed."""

    __slots__ = ("_alpha", "commitment", "_used")

    def __init__(self, alpha: Scalar, commitment: Point) -> None:
        self._alpha = alpha
        self.commitment = commitment
        self._used = False

    def take(self) -> Scalar:
        """α, once; a second call is a usage error (it would leak the witness)."""
        if self._used:
            raise UsageError("a Schnorr nonce answers exactly one challenge")
        self._used = True
        return self._alpha

    def __repr__(self) -> str:
        return "SchnorrSecretNonce(<redacted>)"


@wire.message(0x0101)
@dataclass(frozen=True, slots=True)
class Proof:
    A: Point = wire.field(wire.PointField())
    z: Scalar = wire.field(wire.ScalarField())


def commit(group: Group, rng: Rng) -> tuple[SchnorrSecretNonce, Point]:
    """The first message A = α·G and the secret nonce that will answer the challenge."""
    alpha = group.random_nonzero_scalar(rng)
    A = group.base_mul(alpha)
    return SchnorrSecretNonce(alpha, A), A


def _challenge(t: Transcript, pub: Public, A: Point) -> Scalar:
    t = t.copy()
    t.append("proof", _LABEL)
    t.append("group", pub.group.name)
    t.append("g", pub.group.generator)
    t.append("X", pub.X)
    t.append("A", A)
    return t.challenge_scalar("e", pub.group)


def prove_with_commitment(t: Transcript, pub: Public, priv: Private,
                          nonce: SchnorrSecretNonce) -> Proof:
    """Answer the challenge for a commitment made earlier with ``commit``."""
    group = pub.group
    if nonce.commitment.group is not group or priv.x.group is not group:
        raise UsageError("nonce, witness and statement must share one group")
    e = _challenge(t, pub, nonce.commitment)
    return Proof(A=nonce.commitment, z=nonce.take() + e * priv.x)


def prove(t: Transcript, pub: Public, priv: Private, rng: Rng,
          level: SecurityLevel = DEFAULT_LEVEL) -> Proof:
    """Commit and answer in one go. ``level`` is accepted for the common signature of
    every proof module; Π^sch has no ranges, so it does not depend on it."""
    nonce, _ = commit(pub.group, rng)
    return prove_with_commitment(t, pub, priv, nonce)


def verify(t: Transcript, pub: Public, proof: Proof,
           level: SecurityLevel = DEFAULT_LEVEL) -> None:
    """Return None if z·G = A + e·X; raise InvalidProof naming the failed check."""
    group = pub.group
    if not isinstance(proof, Proof):
        raise InvalidProof(NAME, "not a Π^sch proof")
    require_point(pub.X, group, NAME, "X", allow_identity=True)
    # An honest A is α·G with α ≠ 0: the identity is refused before any arithmetic.
    require_point(proof.A, group, NAME, "A", allow_identity=False)
    if not isinstance(proof.z, Scalar) or proof.z.group is not group:
        raise InvalidProof(NAME, "z is not a scalar of the statement's group")
    e = _challenge(t, pub, proof.A)
    if group.base_mul(proof.z) != proof.A + e * pub.X:
        raise InvalidProof(NAME, "z·G = A + e·X")
