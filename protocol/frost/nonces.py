"""Signing nonces (RFC 9591 §5.1): secret, fresh for every signature, used once.

``nonce_generate`` is the RFC's H3(random_bytes(32) || SerializeScalar(secret)):
the secret share is hashed in so that a weak RNG alone does not expose the nonce.
The state machines use ``session_nonce_generate``, which also hashes in the
session tag (and which nonce it is), so that even an RNG that repeats its output
(a restored VM snapshot, a forked process, a test seeded the same way twice)
never answers two sessions' challenges with one nonce: that would reveal the
secret share. The plain RFC function stays for the RFC test vectors.

``SigningNonces`` holds the hiding and binding nonces (d, e) of one signer for one
signature. It is a different type from the public commitments (D, E) it exposes,
prints as ``<redacted>``, and hands its scalars out exactly once: ``take`` erases
them, and a second call raises ``UsageError`` (two answers with one nonce reveal
the key share). ``erase`` drops them unused (a session that aborted).
"""

from __future__ import annotations

from protocol.errors import UsageError
from protocol.frost.ciphersuite import Ciphersuite
from protocol.group import Point, Scalar
from protocol.rng import Rng
from protocol.secrecy import NeverPickled

RANDOMNESS_SIZE = 32
SESSION_SIZE = 32
NONCE_LABEL = b"tssnet/frost/session-nonce/v1"
HIDING, BINDING = b"\x01", b"\x02"


def nonce_generate(suite: Ciphersuite, secret: Scalar, randomness: bytes) -> Scalar:
    """H3(randomness || SerializeScalar(secret)) for 32 bytes of fresh randomness (RFC 9591)."""
    if not isinstance(randomness, bytes) or len(randomness) != RANDOMNESS_SIZE:
        raise UsageError(f"nonce randomness is {RANDOMNESS_SIZE} bytes")
    return suite.h3(randomness + suite.serialize_scalar(secret))


def session_nonce_generate(suite: Ciphersuite, secret: Scalar, randomness: bytes, session: bytes,
                           role: bytes) -> Scalar:
    """H3(randomness || SerializeScalar(secret) || H5(label || role || session)).

    ``session`` is the 32-byte session tag, ``role`` says which nonce (hiding or
    binding). Every part has a fixed length, so no two inputs collide, nor with the
    RFC's ``nonce_generate`` (whose input is shorter).
    """
    if not isinstance(randomness, bytes) or len(randomness) != RANDOMNESS_SIZE:
        raise UsageError(f"nonce randomness is {RANDOMNESS_SIZE} bytes")
    if not isinstance(session, bytes) or len(session) != SESSION_SIZE:
        raise UsageError(f"a session tag is {SESSION_SIZE} bytes")
    if role not in (HIDING, BINDING):
        raise UsageError("a nonce is the hiding or the binding one")
    return suite.h3(randomness + suite.serialize_scalar(secret) + suite.h5(NONCE_LABEL + role + session))


class SigningNonces(NeverPickled):
    """One signer's (d, e) for one signature, with the commitments (D, E) = (d·G, e·G)."""

    __slots__ = ("_hiding", "_binding", "hiding_commitment", "binding_commitment")
    _REFUSAL = "signing nonces are never copied or serialized"

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
    def generate(cls, suite: Ciphersuite, secret: Scalar, rng: Rng, session: bytes) -> SigningNonces:
        """Fresh nonces for one signature in session ``session``: RNG, secret share and session tag."""
        return cls(
            session_nonce_generate(suite, secret, rng.random_bytes(RANDOMNESS_SIZE), session, HIDING),
            session_nonce_generate(suite, secret, rng.random_bytes(RANDOMNESS_SIZE), session, BINDING))

    @property
    def commitments(self) -> tuple[Point, Point]:
        return self.hiding_commitment, self.binding_commitment

    @property
    def used(self) -> bool:
        """Whether the scalars are gone (handed out by ``take`` or dropped by ``erase``)."""
        return self._hiding is None

    def take(self) -> tuple[Scalar, Scalar]:
        """(d, e), once; the nonces are erased from this object as they are handed out."""
        hiding, binding = self._hiding, self._binding
        if hiding is None or binding is None:
            raise UsageError("these signing nonces were already used: a nonce answers one signature")
        self._hiding = self._binding = None
        return hiding, binding

    def erase(self) -> None:
        """Drop the scalars unused (the session ended without a signature share); idempotent."""
        self._hiding = self._binding = None

    def __repr__(self) -> str:
        return f"SigningNonces(<redacted>, used={self.used})"


__all__ = ["RANDOMNESS_SIZE", "SigningNonces", "nonce_generate", "session_nonce_generate"]
