"""Node identity signatures: the Ed25519 key a validator signs its messages with.

The same key signs ledger votes and the frames of protocol sessions, each under its
own domain prefix, so a signature made for one purpose never verifies for another.
``Signer`` is the seam the daemon fills with its libp2p identity key;
``Ed25519Signer`` is the PyNaCl implementation used by tests and benchmarks.
"""

from __future__ import annotations

from typing import Protocol

from nacl.bindings import crypto_core_ed25519_is_valid_point
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from protocol.errors import UsageError

SIGNATURE_SIZE = 64
PUBLIC_KEY_SIZE = 32


class Signer(Protocol):
    """The local node's identity key: its public half and a signing function."""

    public_key: bytes

    def sign(self, message: bytes) -> bytes: ...


class Ed25519Signer:
    """A Signer over a PyNaCl Ed25519 key."""

    __slots__ = ("public_key", "_key")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise UsageError("an Ed25519 seed is 32 bytes")
        self._key = SigningKey(seed)
        self.public_key = bytes(self._key.verify_key)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message).signature

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<redacted>)"


def domain_prefix(domain: bytes, context: str) -> bytes:
    """What goes before a message when it is signed: the purpose, then its context (chain, session)."""
    tag = context.encode()
    return domain + len(tag).to_bytes(2, "big") + tag


def valid_public_key(key: bytes) -> bool:
    """True for 32 bytes that encode a point of Ed25519 outside the small-order subgroup."""
    return (isinstance(key, bytes) and len(key) == PUBLIC_KEY_SIZE
            and bool(crypto_core_ed25519_is_valid_point(key)))


class Verifier:
    """Checks identity signatures under one prefix, keeping parsed keys across calls."""

    __slots__ = ("prefix", "_keys")

    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix
        self._keys: dict[bytes, VerifyKey] = {}

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        key = self._keys.get(public_key)
        if key is None:
            if not valid_public_key(public_key):
                return False
            key = self._keys[public_key] = VerifyKey(public_key)
        if not isinstance(signature, bytes) or len(signature) != SIGNATURE_SIZE:
            return False
        try:
            key.verify(self.prefix + message, signature)
        except BadSignatureError:
            return False
        return True
