"""The node's identity key: one Ed25519 seed that is both its libp2p peer id and its signer.

The seed lives in a file of its own (hex, mode 0600, written and checked by
``daemon.secret_file``) so that the peer id survives restarts. The same key signs
protocol session frames (``signer()``), so anyone can check with ``peer_id_of`` that
a peer id and an identity key belong together.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from libp2p.crypto.ed25519 import Ed25519PublicKey, create_new_key_pair
from libp2p.crypto.keys import KeyPair
from libp2p.peer.id import ID
from nacl.signing import SigningKey

from daemon.secret_file import create_secret_file, read_secret_file
from protocol.identity import Ed25519Signer, valid_public_key

log = logging.getLogger("tssnet.identity")

SEED_BYTES = 32
_WHAT = "identity file"


def peer_id_of(public_key: bytes) -> str:
    """The libp2p peer id (base58) of an Ed25519 public key."""
    if not valid_public_key(public_key):
        raise ValueError("not a valid Ed25519 public key")
    return ID.from_pubkey(Ed25519PublicKey.from_bytes(public_key)).to_base58()


@dataclass(frozen=True, repr=False)
class NodeIdentity:
    seed: bytes
    public_key: bytes
    peer_id: str

    def __post_init__(self) -> None:
        if not isinstance(self.seed, bytes) or len(self.seed) != SEED_BYTES:
            raise ValueError("an identity seed is 32 bytes")
        if bytes(SigningKey(self.seed).verify_key) != self.public_key:
            raise ValueError("the public key does not belong to the seed")
        if peer_id_of(self.public_key) != self.peer_id:
            raise ValueError("the peer id does not belong to the public key")

    def __repr__(self) -> str:
        return f"NodeIdentity(peer_id={self.peer_id!r}, seed=<redacted>)"

    def __reduce__(self):
        raise TypeError("a NodeIdentity holds a secret seed and is never pickled")

    @classmethod
    def from_seed(cls, seed: bytes) -> NodeIdentity:
        if not isinstance(seed, bytes) or len(seed) != SEED_BYTES:
            raise ValueError("an identity seed is 32 bytes")
        public_key = bytes(SigningKey(seed).verify_key)
        return cls(seed=seed, public_key=public_key, peer_id=peer_id_of(public_key))

    @classmethod
    def generate(cls) -> NodeIdentity:
        return cls.from_seed(secrets.token_bytes(SEED_BYTES))

    @classmethod
    def load_or_create(cls, path: Path) -> NodeIdentity:
        """Read the seed file, or write a new one (0600, flushed to disk) when there is none."""
        path = Path(path)
        seed = read_secret_file(path, _WHAT)
        if seed is not None:
            return cls.from_seed(seed)
        identity = cls.generate()
        create_secret_file(path, identity.seed, _WHAT)
        log.info("identity created peer_id=%s file=%s", identity.peer_id, path)
        return identity

    def signer(self) -> Ed25519Signer:
        return Ed25519Signer(self.seed)

    def libp2p_keypair(self) -> KeyPair:
        return create_new_key_pair(self.seed)

