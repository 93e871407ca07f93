"""Node identity signatures for ledger messages.

Every ledger message is signed with the sender's Ed25519 node identity key over a
domain tag, the chain id and the message's canonical wire bytes, so a signature
made for one chain (or for anything that is not a ledger message) never verifies
here. The primitives live in ``protocol.identity``; a ledger signer also carries
its validator id.
"""

from __future__ import annotations

from typing import Protocol

from protocol import identity
from protocol.identity import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, valid_public_key

DOMAIN = b"tssnet/ledger/v1"


class Signer(Protocol):
    """The local node's identity: its validator id, public key and a signing function."""

    node_id: str
    public_key: bytes

    def sign(self, message: bytes) -> bytes: ...


class Ed25519Signer(identity.Ed25519Signer):
    """A Signer over a PyNaCl Ed25519 key, named by its validator id."""

    __slots__ = ("node_id",)

    def __init__(self, node_id: str, seed: bytes) -> None:
        super().__init__(seed)
        self.node_id = node_id

    def __repr__(self) -> str:
        return f"Ed25519Signer({self.node_id!r}, <redacted>)"


def signing_prefix(chain_id: str) -> bytes:
    """What goes before a message's bytes when it is signed: domain, then the chain id."""
    return identity.domain_prefix(DOMAIN, chain_id)


class Verifier(identity.Verifier):
    """Checks identity signatures for one chain."""

    __slots__ = ()

    def __init__(self, chain_id: str) -> None:
        super().__init__(signing_prefix(chain_id))


__all__ = ["DOMAIN", "PUBLIC_KEY_SIZE", "SIGNATURE_SIZE", "Ed25519Signer", "Signer", "Verifier",
           "signing_prefix", "valid_public_key"]
