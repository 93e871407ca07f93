"""The seed project's message board: round messages between validators.

``POST /broadcast`` posts a message to every validator, ``POST /direct-message`` to
one; ``GET /get-message`` and ``GET /get-direct-message`` read what arrived for a
round, oldest first. The seed's meaning is "every validator, including me, can read
a round's messages", so a broadcast is stored on the sending node too, and a direct
message to this node itself is stored as a direct message. A direct message to
another validator is not kept by its sender.

Memory is bounded: at most ``max_rounds`` boards (one per round and kind; the oldest
board goes first), ``max_per_round`` messages per board (later ones are dropped) and
``max_bytes`` of message text in all. A message that arrives twice (same sender,
round and text, e.g. a retried post) is kept once.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from daemon.errors import BadRequest, NotFound, Unavailable
from daemon.p2p.transport import Transport, TransportError
from daemon.router import Router
from daemon.service import UserMessage
from protocol import wire

log = logging.getLogger("tssnet.mailbox")

ROUND_ID_MAX = 128
#: the one round-id rule, for posts, received messages and the HTTP API (which publishes it)
ROUND_ID_PATTERN = rf"^[\x20-\x7e]{{1,{ROUND_ID_MAX}}}$"
ROUND_ID = re.compile(ROUND_ID_PATTERN)
MESSAGE_MAX_BYTES = 64 * 1024


@wire.message(0x0540)
@dataclass(frozen=True, slots=True)
class UserPost:
    """One mailbox message on its way to a validator."""

    round_id: str = wire.field(wire.Str(max_len=ROUND_ID_MAX))
    message: str = wire.field(wire.Str(max_len=MESSAGE_MAX_BYTES))
    direct: bool = wire.field(wire.Bool())


@dataclass
class _Board:
    messages: list[UserMessage]
    seen: set[tuple[str, str]]


class Mailbox:
    def __init__(self, transport: Transport, router: Router, self_peer_id: str,
                 is_member: Callable[[str], bool], members: Callable[[], list[str]], *,
                 max_rounds: int = 1024, max_per_round: int = 256,
                 max_bytes: int = 32 * 1024 * 1024, send_timeout: float = 10.0) -> None:
        self._transport = transport
        self._self = self_peer_id
        self._is_member = is_member
        self._members = members
        self._max_rounds = max_rounds
        self._max_per_round = max_per_round
        self._max_bytes = max_bytes
        self._send_timeout = send_timeout
        self._boards: OrderedDict[tuple[str, bool], _Board] = OrderedDict()
        self._bytes = 0
        router.register(UserPost, self._on_post)

    async def post(self, round_id: str, message: str, to: str | None) -> None:
        """Send to every other validator (``to`` None, kept here too) or to one peer id.

        Raises ``NotFound`` for a peer outside the validator set and ``Unavailable``
        naming the validators that could not be reached (the others got the message;
        posting again is safe, as receivers keep a repeated message once).
        """
        _check_post(round_id, message)
        direct = to is not None
        if direct and to != self._self and not self._is_member(to):
            raise NotFound(f"{to} is not a validator", type="validator_not_exists")
        if not direct or to == self._self:
            self._store(UserMessage(round_id, self._self, message, direct))
        targets = [to] if direct else [peer for peer in self._members() if peer != self._self]
        targets = [peer for peer in targets if peer != self._self]
        payload = wire.encode(UserPost(round_id, message, direct))
        results = await asyncio.gather(
            *(self._transport.send(peer, payload, self._send_timeout) for peer in targets),
            return_exceptions=True)
        failed = []
        for peer, result in zip(targets, results, strict=True):
            if isinstance(result, TransportError):
                failed.append(peer)
            elif isinstance(result, BaseException):
                raise result
        if failed:
            raise Unavailable(f"round message not delivered to {', '.join(failed)} "
                              f"({len(targets) - len(failed)} of {len(targets)} reached)")

    def messages(self, round_id: str, direct: bool) -> list[UserMessage]:
        board = self._boards.get((round_id, direct))
        return list(board.messages) if board else []

    async def _on_post(self, peer_id: str, post: UserPost) -> None:
        if not self._is_member(peer_id):
            log.warning("dropped a mailbox message from %s, not a validator", peer_id)
            return
        if not ROUND_ID.fullmatch(post.round_id):
            log.warning("dropped a mailbox message from %s with a malformed round id", peer_id)
            return
        self._store(UserMessage(post.round_id, peer_id, post.message, post.direct))

    def _store(self, message: UserMessage) -> None:
        key = (message.round_id, message.direct)
        board = self._boards.get(key)
        if board is None:
            board = self._boards[key] = _Board([], set())
        if (message.sender, message.message) in board.seen:
            return
        if len(board.messages) >= self._max_per_round:
            log.warning("round %r is full (%d messages): dropped one from %s",
                        message.round_id, self._max_per_round, message.sender)
            return
        board.messages.append(message)
        board.seen.add((message.sender, message.message))
        self._bytes += len(message.message.encode())
        self._evict(keep=key)

    def _evict(self, keep: tuple[str, bool]) -> None:
        while len(self._boards) > self._max_rounds or self._bytes > self._max_bytes:
            victim = next((key for key in self._boards if key != keep), None)
            if victim is not None:
                board = self._boards.pop(victim)
                self._bytes -= sum(len(m.message.encode()) for m in board.messages)
                continue
            # Only the board just written is left: trim its oldest messages.
            board = self._boards[keep]
            if not board.messages:
                return
            dropped = board.messages.pop(0)
            board.seen.discard((dropped.sender, dropped.message))
            self._bytes -= len(dropped.message.encode())


def _check_post(round_id: str, message: str) -> None:
    if not ROUND_ID.fullmatch(round_id):
        raise BadRequest(f"round ids are 1 to {ROUND_ID_MAX} printable ASCII characters")
    if len(message.encode()) > MESSAGE_MAX_BYTES:
        raise BadRequest(f"round messages are at most {MESSAGE_MAX_BYTES} bytes")
