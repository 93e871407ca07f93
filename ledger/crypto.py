"""Node identity signatures for ledger messages.

Every ledger message is signed with the sender's Ed25519 node identity key over a
domain tag, the chain id and the message's canonical wire bytes, so a signature
made for one chain (or for anything that is not a ledger message) never verifies
here. ``Signer`` is the small seam the daemon fills with its libp2p identity key;
``Ed25519Signer`` is the PyNaCl implementation used by tests and benchmarks.
"""

from __future__ import annotations

from typing import Protocol

from nacl.bindings import crypto_core_ed25519_is_valid_point
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from protocol.errors import UsageError

DOMAIN = b"tssnet/ledger/v1"
SIGNATURE_SIZE = 64
PUBLIC_KEY_SIZE = 32


class Signer(Protocol):
    """The local node's identity: its validator id, public key and a signing function."""

    node_id: str
    public_key: bytes

    def sign(self, message: bytes) -> bytes: ...


class Ed25519Signer:
    """A Signer over a PyNaCl Ed25519 key."""

    __slots__ = ("node_id", "public_key", "_key")

    def __init__(self, node_id: str, seed: bytes) -> None:
        if len(seed) != 32:
            raise UsageError("an Ed25519 seed is 32 bytes")
        self.node_id = node_id
        self._key = SigningKey(seed)
        self.public_key = bytes(self._key.verify_key)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message).signature

    def __repr__(self) -> str:
        return f"Ed25519Signer({self.node_id!r}, <redacted>)"


def signing_prefix(chain_id: str) -> bytes:
    """What goes before a message's bytes when it is signed: domain, then the chain id."""
    chain = chain_id.encode()
    return DOMAIN + len(chain).to_bytes(2, "big") + chain


def valid_public_key(key: bytes) -> bool:
    """True for 32 bytes that encode a point of Ed25519 outside the small-order subgroup."""
    return (isinstance(key, bytes) and len(key) == PUBLIC_KEY_SIZE
            and bool(crypto_core_ed25519_is_valid_point(key)))


class Verifier:
    """Checks identity signatures for one chain, keeping parsed keys across calls."""

    __slots__ = ("prefix", "_keys")

    def __init__(self, chain_id: str) -> None:
        self.prefix = signing_prefix(chain_id)
        self._keys: dict[bytes, VerifyKey] = {}

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        key = self._keys.get(public_key)
        if key is None:
            if not valid_public_key(public_key):
                return False
            key = self._keys[public_key] = VerifyKey(public_key)
        if len(signature) != SIGNATURE_SIZE:
            return False
        try:
            key.verify(self.prefix + message, signature)
        except BadSignatureError:
            return False
        return True
