"""Signing nonces (RFC 9591 §5.1): secret, fresh for every signature, used once.

``nonce_generate`` is the RFC's H3(random_bytes(32) || SerializeScalar(secret)):
the secret share is hashed in so that a weak RNG alone does not expose the nonce.
``SigningNonces`` holds the hiding and binding nonces (d, e) of one signer for one
signature. It is a different type from the public commitments (D, E) it exposes,
prints as ``<redacted>``, and hands its scalars out exactly once: ``take`` erases
them, and a second call raises ``UsageError`` (two answers with one nonce reveal
the key share).
"""

from __future__ import annotations

from protocol.errors import UsageError
from protocol.frost.ciphersuite import Ciphersuite
from protocol.group import Point, Scalar
from protocol.rng import Rng

RANDOMNESS_SIZE = 32


def nonce_generate(suite: Ciphersuite, secret: Scalar, randomness: bytes) -> Scalar:
    """H3(randomness || SerializeScalar(secret)) for 32 bytes of fresh randomness."""
    if not isinstance(randomness, bytes) or len(randomness) != RANDOMNESS_SIZE:
        raise UsageError(f"nonce randomness is {RANDOMNESS_SIZE} bytes")
    return suite.h3(randomness + suite.serialize_scalar(secret))


class SigningNonces:
    """One signer's (d, e) for one signature, with the commitments (D, E) = (d·G, e·G)."""

    __slots__ = ("_hiding", "_binding", "hiding_commitment", "binding_commitment")

    def __init__(self, hiding: Scalar, binding: Scalar) -> None:
        if hiding.is_zero() or binding.is_zero():
            raise UsageError("a signing nonce is never zero")
        group = hiding.group
        self._hiding: Scalar | None = hiding
        self._binding: Scalar | None = binding
        self.hiding_commitment: Point = group.base_mul(hiding)
        self.binding_commitment: Point = group.base_mul(binding)

    @classmethod
    def from_randomness(cls, suite: Ciphersuite, secret: Scalar, hiding_randomness: bytes,
                        binding_randomness: bytes) -> SigningNonces:
        """The RFC's commit(): both nonces from their randomness and the secret share."""
        return cls(nonce_generate(suite, secret, hiding_randomness),
                   nonce_generate(suite, secret, binding_randomness))

    @classmethod
    def generate(cls, suite: Ciphersuite, secret: Scalar, rng: Rng) -> SigningNonces:
        """Fresh nonces for one signature, from the RNG and the secret share."""
        return cls.from_randomness(suite, secret, rng.random_bytes(RANDOMNESS_SIZE),
                                   rng.random_bytes(RANDOMNESS_SIZE))

    @property
    def commitments(self) -> tuple[Point, Point]:
        return self.hiding_commitment, self.binding_commitment

    @property
    def used(self) -> bool:
        return self._hiding is None

    def take(self) -> tuple[Scalar, Scalar]:
        """(d, e), once; the nonces are erased from this object as they are handed out."""
        hiding, binding = self._hiding, self._binding
        if hiding is None or binding is None:
            raise UsageError("these signing nonces were already used: a nonce answers one signature")
        self._hiding = self._binding = None
        return hiding, binding

    def __repr__(self) -> str:
        return f"SigningNonces(<redacted>, used={self.used})"

    def __reduce__(self):
        raise UsageError("signing nonces are never copied or serialized")

    def __copy__(self):
        raise UsageError("signing nonces are never copied or serialized")

    def __deepcopy__(self, memo):
        raise UsageError("signing nonces are never copied or serialized")


__all__ = ["RANDOMNESS_SIZE", "SigningNonces", "nonce_generate"]
