"""Incoming ``/tssnet/msg`` streams: admission at open, one stream per peer, bounded memory.

A stream from a peer the admission gate refuses is reset when it opens, before a byte
of it is read, so a stranger costs us no buffer of ours. An admitted peer has at most
one incoming stream: a newer one replaces (resets) the older, as a redialling peer
does. Each admitted peer has one inbox that survives its streams, so its payloads
reach the handler in order, and what is held for it (the partial frame, frames
decoded but not yet queued, frames queued for the handler) stays under
``budget_bytes + 2 * max_frame_bytes + READ_CHUNK_BYTES``: when the handler falls
behind, the reader stops reading. Yamux then holds what arrives, up to the window it
granted (at most ``MUXER_UNREAD_LIMIT_BYTES``) for an honest sender; py-libp2p's yamux
does not enforce the window, so a stream holding more unread is reset here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import trio
from libp2p.stream_muxer.yamux.yamux import MAX_MESSAGE_SIZE, MAX_WINDOW_SIZE

from daemon.p2p.admission import AdmissionGate
from daemon.p2p.bridge import OrderedInbox, TrioBridge
from daemon.p2p.framing import FrameDecoder, FrameError
from daemon.p2p.streams import (
    READ_CHUNK_BYTES,
    LogLimiter,
    muxer_unread_bytes,
    peer_of,
    reset_quietly,
)

log = logging.getLogger("tssnet.p2p")

#: payloads handed to the asyncio handler of one peer before its reader pauses
INBOX_DEPTH = 64
#: bytes of payloads queued for one peer's handler before its reader pauses
DEFAULT_PEER_BUDGET_BYTES = 32 * 1024 * 1024
#: an honest sender never has more in flight than the largest window yamux grants
#: (py-libp2p lets one yamux frame past it; the rest is margin)
MUXER_UNREAD_LIMIT_BYTES = MAX_WINDOW_SIZE + 4 * MAX_MESSAGE_SIZE
OVERRUN_CHECK_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class InboundStats:
    """The host's own accounting of one peer's incoming traffic."""

    buffered_bytes: int  # held now: partial frame, decoded frames, queue for the handler
    peak_bytes: int  # the most ever held at once
    open_streams: int
    refused_streams: int  # streams reset at open by the admission gate (all peers)


class _Peer:
    """One admitted peer's inbox and its current stream."""

    def __init__(self, inbox: OrderedInbox) -> None:
        self.inbox = inbox
        self.stream = None
        self.scope: trio.CancelScope | None = None
        self.decoder: FrameDecoder | None = None
        self.held = 0  # decoded payloads not yet in the inbox
        self.peak = 0

    @property
    def buffered(self) -> int:
        pending = self.decoder.pending if self.decoder is not None else 0
        return pending + self.held + self.inbox.queued_bytes

    def note(self) -> None:
        self.peak = max(self.peak, self.buffered)


class Inbound:
    """The trio-side handler of incoming message streams (``handle``)."""

    def __init__(self, bridge: TrioBridge, gate: AdmissionGate, deliver: Callable[[str, bytes], Awaitable[None]],
                 *, max_frame_bytes: int, budget_bytes: int, warnings: LogLimiter) -> None:
        self._bridge = bridge
        self._gate = gate
        self._deliver = deliver
        self._max_frame_bytes = max_frame_bytes
        self._budget = budget_bytes
        self._warnings = warnings
        self._peers: dict[str, _Peer] = {}  # admitted peers only
        self._refused = 0

    def stats(self, peer_id: str) -> InboundStats:
        peer = self._peers.get(peer_id)
        if peer is None:
            return InboundStats(0, 0, 0, self._refused)
        return InboundStats(peer.buffered, peer.peak, int(peer.stream is not None), self._refused)

    def drop(self, peer_id: str) -> None:
        """Close ``peer_id``'s stream (it is no longer admitted)."""
        peer = self._peers.get(peer_id)
        if peer is not None and peer.scope is not None:
            peer.scope.cancel()

    async def handle(self, stream) -> None:
        peer_id = peer_of(stream)
        if not await self._gate.check(peer_id):
            self._refused += 1
            self._warnings.warning(peer_id, "reset message stream from non-admitted peer=%s", peer_id)
            await reset_quietly(stream)
            return
        peer = self._peers.get(peer_id)
        if peer is None:
            inbox = OrderedInbox(self._bridge, self._deliver, depth=INBOX_DEPTH, budget_bytes=self._budget)
            peer = self._peers[peer_id] = _Peer(inbox)
        if peer.scope is not None:
            log.debug("newer message stream from peer=%s replaces the older", peer_id)
            peer.scope.cancel()  # the older stream's handler resets it
        scope, decoder = trio.CancelScope(), FrameDecoder(self._max_frame_bytes)
        peer.stream, peer.scope, peer.decoder, peer.held = stream, scope, decoder, 0
        try:
            with scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._watch_overrun, peer_id, stream, scope)
                    await self._read(peer_id, peer, stream, decoder)
                    nursery.cancel_scope.cancel()
        finally:
            if peer.stream is stream:
                peer.stream = peer.scope = peer.decoder = None
                peer.held = 0
            await reset_quietly(stream)

    async def _watch_overrun(self, peer_id: str, stream, scope: trio.CancelScope) -> None:
        """While we read slowly, yamux holds what the peer sent; more than any window we
        grant means the peer ignores flow control: its stream is reset."""
        while muxer_unread_bytes(stream) <= MUXER_UNREAD_LIMIT_BYTES:
            await trio.sleep(OVERRUN_CHECK_SECONDS)
        self._warnings.warning(peer_id, "resetting message stream from peer=%s: it overran the "
                               "flow-control window", peer_id)
        scope.cancel()

    async def _read(self, peer_id: str, peer: _Peer, stream, decoder: FrameDecoder) -> None:
        try:
            while data := await stream.read(READ_CHUNK_BYTES):
                await self._queue(peer_id, peer, decoder.feed(data))
        except FrameError as exc:
            self._warnings.warning(peer_id, "closing message stream from peer=%s: %s", peer_id, exc)
            await self._queue(peer_id, peer, exc.complete)
        except Exception as exc:
            log.debug("message stream from peer=%s ended: %s; %d bytes of a partial frame dropped",
                      peer_id, type(exc).__name__, decoder.pending)

    async def _queue(self, peer_id: str, peer: _Peer, payloads: list[bytes]) -> None:
        peer.held = sum(map(len, payloads))
        peer.note()
        for payload in payloads:
            await peer.inbox.put(peer_id, payload, size=len(payload))
            peer.held -= len(payload)
            peer.note()
