"""The envelopes a session channel sends, and how a frame is signed.

Every protocol message travels in a ``Frame`` signed by its sender's identity key
over the session id (in the prefix), sender, round, recipient, the sender's
``context`` (a digest of the inputs it was started with) and the body's hash.
``Echo`` and ``Accusation`` are the channel's own messages; ``Done`` is the body of
each party's final broadcast, after which results are released.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from protocol import wire
from protocol.identity import SIGNATURE_SIZE, Signer, Verifier, domain_prefix

DOMAIN = b"tssnet/session/v1"
TO_ALL = 0
MAX_ROUND = 64
DIGEST_SIZE = 32
_PARTY = wire.UInt(2**32 - 1)
# An accusation carries up to two whole frames and must itself fit in one message.
_MAX_FRAME = wire.MAX_MESSAGE_BYTES // 2 - 1024
_MAX_FRAME_BODY = _MAX_FRAME - 1024


@wire.message(0x0601)
@dataclass(frozen=True, slots=True)
class Frame:
    """One signed protocol message; ``recipient`` 0 means a broadcast."""

    round: int = wire.field(wire.UInt(MAX_ROUND))
    recipient: int = wire.field(_PARTY)
    context: bytes = wire.field(wire.Bytes(size=DIGEST_SIZE))
    body: bytes = wire.field(wire.Bytes(max_size=_MAX_FRAME_BODY))
    signature: bytes = wire.field(wire.Bytes(size=SIGNATURE_SIZE))


@wire.message(0x0602)
@dataclass(frozen=True, slots=True)
class EchoEntry:
    sender: int = wire.field(_PARTY)
    digest: bytes = wire.field(wire.Bytes(size=DIGEST_SIZE))
    signature: bytes = wire.field(wire.Bytes(size=SIGNATURE_SIZE))


@wire.message(0x0603)
@dataclass(frozen=True, slots=True)
class Echo:
    """What the echoer received as round ``round``'s broadcasts, one entry per party."""

    round: int = wire.field(wire.UInt(MAX_ROUND))
    entries: tuple[EchoEntry, ...] = wire.field(wire.Seq(wire.Nested(EchoEntry), max_len=256))


@wire.message(0x0604)
@dataclass(frozen=True, slots=True)
class Accusation:
    """The accused's signed frames of one round, as the accuser received them."""

    round: int = wire.field(wire.UInt(MAX_ROUND))
    accused: int = wire.field(_PARTY)
    frames: tuple[bytes, ...] = wire.field(
        wire.Seq(wire.Bytes(max_size=_MAX_FRAME), min_len=1, max_len=2))


@wire.message(0x0605)
@dataclass(frozen=True, slots=True)
class Done:
    """A party's last broadcast: every message it received passed, it holds a result."""

    rounds: int = wire.field(wire.UInt(MAX_ROUND))


ENVELOPES = (Frame, Echo, Accusation)


def digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def session_prefix(session_id: str) -> bytes:
    return domain_prefix(DOMAIN, session_id)


def _signed_part(sender: int, round_: int, recipient: int, context: bytes, body_digest: bytes) -> bytes:
    return (sender.to_bytes(4, "big") + round_.to_bytes(4, "big") + recipient.to_bytes(4, "big")
            + context + body_digest)


def make_frame(signer: Signer, prefix: bytes, sender: int, round_: int, recipient: int,
               context: bytes, body: bytes) -> Frame:
    """``body`` signed by ``sender`` for one round and recipient, under a session's ``prefix``."""
    signature = signer.sign(prefix + _signed_part(sender, round_, recipient, context, digest(body)))
    return Frame(round_, recipient, context, body, signature)


def frame_signed_by(verifier: Verifier, key: bytes, sender: int, frame: Frame) -> bool:
    return verifier.verify(key, _signed_part(sender, frame.round, frame.recipient, frame.context,
                                             digest(frame.body)), frame.signature)


def entry_signed_by(verifier: Verifier, key: bytes, round_: int, context: bytes, entry: EchoEntry) -> bool:
    """Whether an echo entry's signature is its sender's, over a broadcast of ``round_``."""
    return verifier.verify(key, _signed_part(entry.sender, round_, TO_ALL, context, entry.digest),
                           entry.signature)
