"""Hands each message from a validator to the part of the node that handles its type.

Messages between validators are ``protocol.wire`` messages (type ids 0x05xx);
each subsystem registers the classes it handles. A payload that does not decode
as one of them is the sender's fault: it is dropped and logged with the peer id,
and never reaches a handler.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from protocol import wire
from protocol.errors import EncodingError

log = logging.getLogger("tssnet.router")

Handler = Callable[[str, Any], Awaitable[None]]


class Router:
    def __init__(self) -> None:
        self._handlers: dict[type, Handler] = {}

    def register(self, message_type: type, handler: Handler) -> None:
        if message_type in self._handlers:
            raise ValueError(f"{message_type.__name__} already has a handler")
        self._handlers[message_type] = handler

    async def dispatch(self, peer_id: str, payload: bytes) -> None:
        try:
            message = wire.decode_one_of(payload, tuple(self._handlers))
        except EncodingError as exc:
            log.warning("dropped a malformed message from %s: %s", peer_id, exc)
            return
        await self._handlers[type(message)](peer_id, message)
