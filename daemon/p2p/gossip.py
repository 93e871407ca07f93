"""Gossipsub for small announcements, heard only from admitted origins.

Every topic we follow gets a validator, which runs before pubsub delivers or relays a
message: the (signed) origin must be admitted, the data at most
``MAX_ANNOUNCEMENT_BYTES``, and each origin within a rate (a burst, then a steady
rate). A message that fails is neither handed to our handlers nor passed on to other
peers. Whether an announcement is fresh is for the receiver to judge (discovery's
records carry the time they were signed).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import trio
from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import PROTOCOL_ID_V11, PROTOCOL_ID_V12, GossipSub
from libp2p.pubsub.pubsub import Pubsub

from daemon.p2p.admission import AdmissionGate
from daemon.p2p.bridge import OrderedInbox, TrioBridge
from daemon.p2p.streams import LogLimiter

log = logging.getLogger("tssnet.p2p")

#: gossipsub drops big messages silently; announcements stay far below that.
MAX_ANNOUNCEMENT_BYTES = 64 * 1024
ORIGIN_BURST = 20
ORIGIN_PER_SECOND = 5.0
#: announcements handed to the asyncio handlers of one topic before its pump pauses
INBOX_DEPTH = 16
MAX_RATED_ORIGINS = 4096


class OriginRate:
    """A token bucket: ``ORIGIN_BURST`` at once, refilled at ``ORIGIN_PER_SECOND``."""

    __slots__ = ("tokens", "at")

    def __init__(self, now: float) -> None:
        self.tokens = float(ORIGIN_BURST)
        self.at = now

    def take(self, now: float) -> bool:
        self.tokens = min(ORIGIN_BURST, self.tokens + (now - self.at) * ORIGIN_PER_SECOND)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Gossip:
    """Trio side: the pubsub router, topic validation, and the pumps to asyncio."""

    def __init__(self, libp2p, bridge: TrioBridge, gate: AdmissionGate, own_peer_id: str,
                 deliver: Callable[[str, str, bytes], Awaitable[None]], warnings: LogLimiter) -> None:
        self.router = GossipSub([PROTOCOL_ID_V12, PROTOCOL_ID_V11], degree=6, degree_low=4, degree_high=12,
                                heartbeat_interval=1)
        self.pubsub = Pubsub(libp2p, self.router)
        self._bridge = bridge
        self._gate = gate
        self._own = own_peer_id
        self._deliver = deliver  # (topic, origin peer id, data), on asyncio
        self._warnings = warnings
        self._rates: dict[str, OriginRate] = {}
        self._followed: set[str] = set()

    async def publish(self, topic: str, data: bytes) -> None:
        await self.pubsub.publish(topic, data)

    async def follow(self, topic: str, nursery: trio.Nursery) -> None:
        if topic in self._followed:
            return
        self._followed.add(topic)
        self.pubsub.set_topic_validator(topic, self._validate, True)
        subscription = await self.pubsub.subscribe(topic)
        inbox = OrderedInbox(self._bridge, self._deliver, depth=INBOX_DEPTH)
        nursery.start_soon(self._pump, topic, subscription, inbox)

    async def _validate(self, forwarder: ID, message) -> bool:
        origin = ID(message.from_id).to_base58()
        if origin == self._own:
            return True
        if len(message.data) > MAX_ANNOUNCEMENT_BYTES:
            self._warnings.warning(origin, "announcement of %d bytes from peer=%s refused",
                                   len(message.data), origin)
            return False
        if not await self._gate.check(origin):
            self._warnings.warning(origin, "announcement from non-admitted peer=%s (via %s) refused",
                                   origin, forwarder.to_base58())
            return False
        if not self._rate_of(origin).take(trio.current_time()):
            self._warnings.warning(origin, "announcements from peer=%s over the rate; refused", origin)
            return False
        return True

    def _rate_of(self, origin: str) -> OriginRate:
        rate = self._rates.get(origin)
        if rate is None:
            if len(self._rates) >= MAX_RATED_ORIGINS:
                self._rates.pop(next(iter(self._rates)))
            rate = self._rates[origin] = OriginRate(trio.current_time())
        return rate

    async def _pump(self, topic: str, subscription, inbox: OrderedInbox) -> None:
        async for message in subscription:
            origin = ID(message.from_id).to_base58()
            if origin != self._own:
                await inbox.put(topic, origin, bytes(message.data))

    def stop(self) -> None:
        # Pubsub's seen-message cache sweeps in a thread of its own that nothing else stops.
        self.pubsub.seen_messages.stop()
