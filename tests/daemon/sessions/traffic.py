"""Reading and rewriting session traffic in tests, batches unpacked (``m.Batch``)."""

from __future__ import annotations

from collections.abc import Callable

from daemon.sessions import messages as m
from protocol import wire


def parts(payload: bytes) -> list:
    """The session messages one transport payload carries, in order."""
    message = wire.decode_one_of(payload, (*m.MESSAGES, m.Batch))
    if isinstance(message, m.Batch):
        return [wire.decode_one_of(part, m.MESSAGES) for part in message.parts]
    return [message]


def rewrite(payload: bytes, change: Callable[[object], object | None]) -> bytes | None:
    """``payload`` with ``change`` applied to each message (None drops it); None when none is left."""
    kept = [wire.encode(new) for new in map(change, parts(payload)) if new is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else wire.encode(m.Batch(tuple(kept)))


def dropping_frames(payload: bytes) -> bytes | None:
    """``payload`` without its session frames (what a peer that stopped talking sends)."""
    return rewrite(payload, lambda message: None if isinstance(message, m.SessionFrame) else message)
