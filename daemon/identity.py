"""The node's identity key: one Ed25519 seed that is both its libp2p peer id and its signer.

The seed lives in a file of its own (hex, mode 0600) so that the peer id survives
restarts. The same key signs protocol session frames (``signer()``), so anyone can
check with ``peer_id_of`` that a peer id and an identity key belong together.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from libp2p.crypto.ed25519 import Ed25519PublicKey, create_new_key_pair
from libp2p.crypto.keys import KeyPair
from libp2p.peer.id import ID
from nacl.signing import SigningKey

from daemon.errors import BadRequest
from protocol.identity import Ed25519Signer, valid_public_key

log = logging.getLogger("tssnet.identity")

SEED_BYTES = 32


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
        """Read the seed file, or write a new one (0600) when there is none."""
        path = Path(path)
        if path.exists():
            return cls._load(path)
        identity = cls.generate()
        _write_new(path, identity.seed.hex().encode() + b"\n")
        log.info("identity created peer_id=%s file=%s", identity.peer_id, path)
        return identity

    @classmethod
    def _load(cls, path: Path) -> NodeIdentity:
        mode = path.stat().st_mode
        if mode & 0o077:
            raise BadRequest(f"identity file {path} is readable by others "
                             f"(mode {mode & 0o777:o}); make it 0600")
        text = path.read_bytes().strip()
        try:
            if len(text) != 2 * SEED_BYTES:
                raise ValueError
            seed = bytes.fromhex(text.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            raise BadRequest(f"identity file {path} does not hold a 32-byte hex seed") from None
        return cls.from_seed(seed)

    def signer(self) -> Ed25519Signer:
        return Ed25519Signer(self.seed)

    def libp2p_keypair(self) -> KeyPair:
        return create_new_key_pair(self.seed)


def _write_new(path: Path, content: bytes) -> None:
    """Write ``content`` to a new 0600 file; never replaces a file someone else wrote meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    except FileExistsError:
        raise BadRequest(f"identity file {path} appeared while it was being created") from None
    finally:
        temporary.unlink(missing_ok=True)
