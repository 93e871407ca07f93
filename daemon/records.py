"""What the node keeps on disk about keys, presignatures and sessions (wire ids 0x0560-0x057F).

A key is two records written in one atomic batch: ``KeyRecord`` (public metadata,
stored as is) and the share (``CmpKey`` or ``FrostKeyShare`` wire bytes) sealed under
its own record key. A presignature is one sealed record per presignature, under its
pool's prefix ``presig/<key id>/<epoch>/<signers>/`` so that a pool is one scan and
a key's presignatures go with one prefix. ``SessionRecord`` is what
``GET /v1/sessions/{id}`` shows; it survives a restart. ``CoordinatedKey`` is what a
coordinator outside a keygen's players learns of the key it made (no share).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from protocol import wire

SCHEMA = 1
MAX_PARTICIPANTS = 32
PEER_ID = wire.Str(128)
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: session ids are fresh random 16 bytes, hex (``coordinator.new_session_id``)
SESSION_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
MAX_CERTIFICATE = 1 << 20
_MS = wire.UInt(2**63 - 1)


def valid_key_id(key_id: object) -> bool:
    """1..64 characters of [A-Za-z0-9._-], not starting with a dot or dash: safe in store keys and URLs."""
    return isinstance(key_id, str) and KEY_ID_PATTERN.fullmatch(key_id) is not None


def valid_session_id(session_id: object) -> bool:
    """32 lowercase hex digits: the one rule for session ids, from a peer or a user."""
    return isinstance(session_id, str) and SESSION_ID_PATTERN.fullmatch(session_id) is not None


def key_meta_key(key_id: str) -> str:
    return f"key/{key_id}/meta"


def key_share_key(key_id: str) -> str:
    return f"key/{key_id}/share"


def coordinated_key(key_id: str) -> str:
    """Where a coordinator that holds no share keeps what its keygen made (``CoordinatedKey``)."""
    return f"coordinated/{key_id}"


def presign_prefix(key_id: str, epoch: int | None = None, signers: tuple[int, ...] | None = None) -> str:
    """The prefix of a key's presignatures, of one epoch, or of one pool (epoch and signer set)."""
    prefix = f"presig/{key_id}/"
    if epoch is not None:
        prefix += f"{epoch}/"
        if signers is not None:
            prefix += "-".join(map(str, signers)) + "/"
    return prefix


def presign_key(key_id: str, epoch: int, signers: tuple[int, ...], presign_id: bytes) -> str:
    return presign_prefix(key_id, epoch, signers) + presign_id.hex()


def session_key(session_id: str) -> str:
    return f"session/{session_id}"


@wire.message(0x0560)
@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A key's public metadata as this node holds it; the share is a separate sealed record."""

    schema: int = wire.field(wire.UInt(255))
    key_id: str = wire.field(wire.Str(64))
    scheme: str = wire.field(wire.Str(16))
    curve: str = wire.field(wire.Str(16))
    threshold: int = wire.field(wire.UInt(MAX_PARTICIPANTS))
    participants: tuple[str, ...] = wire.field(wire.Seq(PEER_ID, min_len=2, max_len=MAX_PARTICIPANTS))
    party: int = wire.field(wire.UInt(MAX_PARTICIPANTS))
    public_key: bytes = wire.field(wire.Bytes(min_size=32, max_size=33))
    chain_code: bytes = wire.field(wire.Bytes(size=32))
    epoch: int = wire.field(wire.UInt())
    created_ms: int = wire.field(_MS)
    certificate: bytes = wire.field(wire.Bytes(max_size=MAX_CERTIFICATE))
    session_id: str = wire.field(wire.Str(128))

    def __post_init__(self) -> None:
        if not valid_key_id(self.key_id):
            raise ValueError("invalid key id")
        if not 1 <= self.party <= len(self.participants):
            raise ValueError("party outside the participants")
        if len(set(self.participants)) != len(self.participants):
            raise ValueError("a participant is listed twice")

    def party_of(self, peer_id: str) -> int | None:
        """The party number of ``peer_id`` for this key (position + 1), None for a non-holder."""
        try:
            return self.participants.index(peer_id) + 1
        except ValueError:
            return None

    @property
    def created_at(self) -> float:
        return self.created_ms / 1000


@wire.message(0x0561)
@dataclass(frozen=True, slots=True)
class BlameRecord:
    culprits: tuple[str, ...] = wire.field(wire.Seq(PEER_ID, max_len=MAX_PARTICIPANTS))
    round: int = wire.field(wire.UInt(255))
    check: str = wire.field(wire.Str(1024))


@wire.message(0x0562)
@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One session as this node saw it: what ``GET /v1/sessions/{id}`` returns."""

    session_id: str = wire.field(wire.Str(128))
    protocol: str = wire.field(wire.Str(16))
    state: str = wire.field(wire.Str(16))
    created_ms: int = wire.field(_MS)
    participants: tuple[str, ...] = wire.field(wire.Seq(PEER_ID, max_len=MAX_PARTICIPANTS))
    coordinator: str = wire.field(PEER_ID)
    key_id: str | None = wire.field(wire.Optional(wire.Str(64)), default=None)
    public_key: bytes | None = wire.field(wire.Optional(wire.Bytes(max_size=33)), default=None)
    error_type: str | None = wire.field(wire.Optional(wire.Str(64)), default=None)
    error_message: str | None = wire.field(wire.Optional(wire.Str(1024)), default=None)
    blame: BlameRecord | None = wire.field(wire.Optional(wire.Nested(BlameRecord)), default=None)


@wire.message(0x0563)
@dataclass(frozen=True, slots=True)
class CoordinatedKey:
    """A key whose keygen this node coordinated without being a player: no share, public facts only."""

    key_id: str = wire.field(wire.Str(64))
    scheme: str = wire.field(wire.Str(16))
    curve: str = wire.field(wire.Str(16))
    threshold: int = wire.field(wire.UInt(MAX_PARTICIPANTS))
    participants: tuple[str, ...] = wire.field(wire.Seq(PEER_ID, min_len=2, max_len=MAX_PARTICIPANTS))
    public_key: bytes = wire.field(wire.Bytes(min_size=32, max_size=33))
    created_ms: int = wire.field(_MS)
    session_id: str = wire.field(wire.Str(128))


__all__ = ["SCHEMA", "BlameRecord", "CoordinatedKey", "KeyRecord", "SessionRecord", "coordinated_key",
           "key_meta_key", "key_share_key", "presign_key", "presign_prefix", "session_key", "valid_key_id",
           "valid_session_id"]
