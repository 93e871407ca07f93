"""Outgoing ``/tssnet/msg`` streams: one per peer, redialled with backoff, bounded in bytes.

Each peer we send to gets a link: a queue counted in bytes (a frame always fits an
empty queue, so one frame of the largest size can be sent) and a task that keeps a
stream open and writes the queue to it. A frame cut off by a broken stream is sent
again whole on the next one (the receiver drops the partial frame; it may see the
frame twice). A send to a peer with no known address and no connection fails at
once. Links with nothing to send are closed after ``LINK_IDLE_SECONDS``, and at once
when their peer is no longer admitted; a link whose peer stays unreachable that long
is closed with what it still holds.
"""

from __future__ import annotations

import collections
import logging

import trio
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID
from multiaddr import Multiaddr

from daemon.p2p.admission import AdmissionGate
from daemon.p2p.streams import reset_quietly, wait_for_break, write_bounded
from daemon.p2p.transport import TransportError

log = logging.getLogger("tssnet.p2p")

#: bytes waiting per peer (queued and in flight) before ``send`` waits for room
DEFAULT_QUEUE_BUDGET_BYTES = 32 * 1024 * 1024
BACKOFF_MIN_SECONDS = 0.1
BACKOFF_MAX_SECONDS = 5.0
DIAL_TIMEOUT_SECONDS = 5.0
#: a stream that lived this long was healthy: its break restarts the backoff
STABLE_STREAM_SECONDS = 10.0
LINK_IDLE_SECONDS = 120.0
SWEEP_EVERY_SECONDS = 5.0


class Link:
    """Our outgoing stream to one peer: its queue, whether it is up, who waits on it."""

    def __init__(self, peer: ID, budget: int) -> None:
        self.peer = peer
        self.budget = budget
        self.frames: collections.deque[bytes] = collections.deque()
        self.queued_bytes = 0  # queued frames and the one in flight
        self.in_flight: bytes | None = None
        self.up = trio.Event()
        self.senders = 0  # sends waiting for the stream or for room
        self.used_at = self.down_since = trio.current_time()
        self.scope = trio.CancelScope()
        self._room = trio.lowlevel.ParkingLot()
        self._ready = trio.lowlevel.ParkingLot()
        self._in_order = trio.Lock()

    @property
    def idle(self) -> bool:
        return not self.senders and not self.queued_bytes

    async def put(self, frame: bytes) -> None:
        async with self._in_order:
            while self.queued_bytes and self.queued_bytes + len(frame) > self.budget:
                await self._room.park()
            self.frames.append(frame)
            self.queued_bytes += len(frame)
            self._ready.unpark_all()

    async def next_frame(self) -> bytes:
        """The frame to write: the one cut off by the last break, else the next queued."""
        if self.in_flight is None:
            while not self.frames:
                await self._ready.park()
            self.in_flight = self.frames.popleft()
        return self.in_flight

    def written(self) -> None:
        self.queued_bytes -= len(self.in_flight)
        self.in_flight = None
        self.used_at = trio.current_time()
        self._room.unpark_all()


class Links:
    """Trio side: the outgoing links of one libp2p host."""

    def __init__(self, libp2p, protocol: TProtocol, gate: AdmissionGate, nursery: trio.Nursery,
                 *, budget_bytes: int = DEFAULT_QUEUE_BUDGET_BYTES) -> None:
        self._libp2p = libp2p
        self._protocol = protocol
        self._gate = gate
        self._nursery = nursery
        self._budget = budget_bytes
        self._links: dict[ID, Link] = {}
        self._addrs: dict[ID, list[Multiaddr]] = {}

    def learn_addrs(self, peer: ID, addrs: list[Multiaddr]) -> None:
        self._addrs[peer] = addrs

    def __contains__(self, peer: ID) -> bool:
        return peer in self._links

    def _reachable(self, peer: ID) -> bool:
        return bool(self._addrs.get(peer)) or bool(self._libp2p.get_network().get_connections(peer))

    async def enqueue(self, peer: ID, frame: bytes, timeout: float) -> None:
        link = self._links.get(peer)
        if link is None:
            if not self._reachable(peer):
                raise TransportError(f"no known address for peer {peer}")
            link = self._links[peer] = Link(peer, self._budget)
            self._nursery.start_soon(self._drive, link)
        link.senders += 1
        link.used_at = trio.current_time()
        try:
            with trio.move_on_after(timeout):
                await link.up.wait()
                await link.put(frame)
                return
        finally:
            link.senders -= 1
        if link.up.is_set():
            raise TransportError(f"the queue to peer {peer} stayed full for {timeout} s")
        raise TransportError(f"peer {peer} unreachable within {timeout} s")

    async def sweep_forever(self) -> None:
        """Close links that have been idle too long, or whose peer is no longer admitted."""
        while True:
            await trio.sleep(SWEEP_EVERY_SECONDS)
            await self.sweep()

    async def sweep(self) -> None:
        now = trio.current_time()
        for peer, link in list(self._links.items()):
            if link.senders:
                continue
            if link.queued_bytes:
                if not link.up.is_set() and now - link.down_since > LINK_IDLE_SECONDS:
                    log.warning("giving up on peer=%s, unreachable for %.0f s; %d queued bytes dropped",
                                peer, now - link.down_since, link.queued_bytes)
                    self._close(link)
                continue
            stale = now - link.used_at > LINK_IDLE_SECONDS
            unwanted = stale or not await self._gate.check(peer.to_base58())
            if unwanted and self._links.get(peer) is link and link.idle:  # still, after the check
                log.debug("closing idle link to peer=%s", peer)
                self._close(link)

    def _close(self, link: Link) -> None:
        del self._links[link.peer]
        link.scope.cancel()

    async def _drive(self, link: Link) -> None:
        """Keep a stream open to the peer, redialling with backoff, and write its queue."""
        with link.scope:
            delay = BACKOFF_MIN_SECONDS
            while True:
                stream = await self._dial(link)
                if stream is None:
                    await trio.sleep(delay)
                    delay = min(2 * delay, BACKOFF_MAX_SECONDS)
                    continue
                opened = trio.current_time()
                try:
                    link.up.set()
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(self._write_frames, link, stream, nursery.cancel_scope)
                        nursery.start_soon(wait_for_break, stream, nursery.cancel_scope)
                finally:
                    link.up = trio.Event()
                    link.down_since = trio.current_time()
                    await reset_quietly(stream)
                if trio.current_time() - opened > STABLE_STREAM_SECONDS:
                    delay = BACKOFF_MIN_SECONDS
                log.info("stream to peer=%s broke; redialling in %.1f s", link.peer, delay)
                await trio.sleep(delay)
                delay = min(2 * delay, BACKOFF_MAX_SECONDS)

    async def _dial(self, link: Link):
        # the swarm blocks a peer for 60 s after a failed dial; our backoff decides instead
        self._libp2p.get_network().unblock_peer(link.peer)
        try:
            with trio.fail_after(DIAL_TIMEOUT_SECONDS):
                return await self._libp2p.new_stream(link.peer, [self._protocol])
        except Exception as exc:
            log.debug("dial peer=%s failed (%s)", link.peer, type(exc).__name__)
            return None

    async def _write_frames(self, link: Link, stream, scope: trio.CancelScope) -> None:
        try:
            while True:
                await write_bounded(stream, await link.next_frame())
                link.written()
        except Exception as exc:
            log.debug("write to peer=%s failed: %s", link.peer, type(exc).__name__)
        scope.cancel()
