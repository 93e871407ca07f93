"""Typed errors shared by every protocol.

The split follows h11: a ``UsageError`` means our own caller misused an API, a
``PeerMisbehaved`` means a remote party sent something that failed a check and
names that party. Decoding and proof failures are raised as ``EncodingError`` and
``InvalidProof`` at the point of the check; the round that received the message
turns them into blame, because only the round knows who sent it.
"""

from __future__ import annotations


class TssError(Exception):
    """Base class of every error this project raises on purpose."""


class UsageError(TssError):
    """The local caller passed arguments that can never be valid."""


class Bug(TssError):
    """An internal invariant broke; never caused by remote input."""


class TransportError(TssError):
    """Delivery failed (the network, not a party's content)."""


class EncodingError(TssError, ValueError):
    """Bytes that do not decode to a valid value (malformed, out of range, non-canonical)."""


class InvalidPoint(EncodingError):
    """A point encoding that is off the curve, non-canonical, or a forbidden identity."""


class InvalidScalar(EncodingError):
    """A scalar encoding that is not canonical (not below the group order)."""


class InvalidProof(TssError):
    """A zero-knowledge proof failed one named check."""

    def __init__(self, proof: str, check: str) -> None:
        super().__init__(f"{proof}: {check}")
        self.proof = proof
        self.check = check


class PeerMisbehaved(TssError):
    """One or more parties sent messages that failed a check.

    ``culprits`` are party ids; ``evidence`` keeps what is needed to show others
    why (for example both messages of a duplicate), never local secrets.
    """

    def __init__(self, culprits: tuple[int, ...], reason: str, evidence: tuple = ()) -> None:
        super().__init__(f"parties {list(culprits)} misbehaved: {reason}")
        self.culprits = tuple(culprits)
        self.reason = reason
        self.evidence = tuple(evidence)
