"""The libp2p host (Noise + yamux over TCP): ``daemon.p2p.transport.Transport`` over py-libp2p.

libp2p runs in the bridge's trio thread; public methods are called on asyncio. This
module puts the parts together and keeps each side's state on its own side:
asyncio owns the handlers, the admission predicate, the known addresses, the topics
and the set of connected peers; the trio side gets copies through the bridge.

* ``links``: outgoing ``/tssnet/msg/1.0.0`` streams, redialled with backoff.
* ``inbound``: incoming message streams, admission at open, bounded per peer.
* ``hello``: ``/tssnet/hello/1.0.0``, bounded, open to peers not yet admitted.
* ``gossip``: announcements ≤ 64 KiB, heard only from admitted origins.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable

import trio
from libp2p import new_swarm
from libp2p.abc import INotifee
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.custom_types import TProtocol
from libp2p.host.basic_host import BasicHost
from libp2p.network.config import ConnectionConfig, RetryConfig
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.peer.peerstore import PERMANENT_ADDR_TTL
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL_ID
from libp2p.stream_muxer.yamux.yamux import Yamux
from libp2p.tools.anyio_service.context import background_trio_service
from multiaddr import Multiaddr

from daemon.identity import NodeIdentity
from daemon.p2p.admission import AdmissionGate
from daemon.p2p.bridge import TrioBridge
from daemon.p2p.framing import DEFAULT_MAX_FRAME_BYTES, encode_frame
from daemon.p2p.gossip import MAX_ANNOUNCEMENT_BYTES, Gossip
from daemon.p2p.hello import DEFAULT_MAX_HELLO_STREAMS, PROTOCOL_HELLO, Hello
from daemon.p2p.inbound import DEFAULT_PEER_BUDGET_BYTES, Inbound, InboundStats
from daemon.p2p.links import DEFAULT_QUEUE_BUDGET_BYTES, Links
from daemon.p2p.streams import LogLimiter
from daemon.p2p.transport import HelloHandler, MessageHandler, TransportError

log = logging.getLogger("tssnet.p2p")

PROTOCOL_MSG = TProtocol("/tssnet/msg/1.0.0")
__all__ = ["MAX_ANNOUNCEMENT_BYTES", "PROTOCOL_HELLO", "PROTOCOL_MSG", "InboundStats", "P2PHost"]


class P2PHost:
    """``daemon.p2p.transport.Transport`` over py-libp2p.

    Limits (keywords, with safe defaults): ``max_frame_bytes`` per message;
    ``hello_max_bytes`` per hello request or answer; ``peer_budget_bytes`` of payloads
    queued for the handler per admitted peer; ``queue_budget_bytes`` waiting to be sent
    per peer; ``max_hello_streams`` served at once (and one per peer).
    """

    def __init__(self, identity: NodeIdentity, host: str, port: int, *,
                 max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES, hello_max_bytes: int = 64 * 1024,
                 peer_budget_bytes: int = DEFAULT_PEER_BUDGET_BYTES,
                 queue_budget_bytes: int = DEFAULT_QUEUE_BUDGET_BYTES,
                 max_hello_streams: int = DEFAULT_MAX_HELLO_STREAMS) -> None:
        self.identity = identity
        self.peer_id = identity.peer_id
        self._host, self._port = host, port
        self._max_frame_bytes = max_frame_bytes
        self._hello_max_bytes = hello_max_bytes
        self._peer_budget = peer_budget_bytes
        self._queue_budget = queue_budget_bytes
        self._max_hello_streams = max_hello_streams
        self._warnings = LogLimiter(log)
        # asyncio side
        self._on_message: MessageHandler | None = None
        self._on_hello: HelloHandler | None = None
        self._admitted: Callable[[str], bool] = lambda peer_id: False
        self._known_addrs: dict[ID, list[Multiaddr]] = {}
        self._topic_handlers: dict[str, list[MessageHandler]] = {}
        self._connected: set[str] = set()
        self._loopback: collections.deque[bytes] = collections.deque()
        self._loopback_drain = None
        self._listen_addrs: list[str] = []
        self._bridge: TrioBridge | None = None
        self._live = False  # True once started and until stop(): calls cross over only then
        # trio side, set while the service runs
        self._libp2p: BasicHost | None = None
        self._nursery: trio.Nursery | None = None
        self._gate: AdmissionGate | None = None
        self._links: Links | None = None
        self._inbound: Inbound | None = None
        self._hello: Hello | None = None
        self._gossip: Gossip | None = None

    # -- Transport: lifecycle and settings (asyncio side) --------------------------------

    @property
    def listen_addrs(self) -> list[str]:
        return list(self._listen_addrs)

    @property
    def offered_protocols(self) -> tuple[list[str], list[str]]:
        """(security protocols, stream muxers) a started host negotiates: Noise and yamux only."""
        self._running()
        upgrader = self._libp2p.get_network().upgrader  # fixed when built, so safe to read here
        return ([str(p) for p in upgrader.security_multistream.transports],
                [str(p) for p in upgrader.muxer_multistream.transports])

    async def start(self) -> None:
        if self._bridge is not None:
            raise RuntimeError("the p2p host is already started")
        bridge = self._bridge = TrioBridge()
        self._connected.clear()
        try:
            self._listen_addrs = await bridge.start(self._serve)
        except Exception as exc:
            self._bridge = None
            raise TransportError(f"cannot listen on {self._host}:{self._port}: {exc}") from exc
        try:
            # subscriptions made while starting are made now; the loop catches those
            # added while these calls wait
            followed: set[str] = set()
            while topics := set(self._topic_handlers) - followed:
                for topic in topics:
                    await bridge.call(self._follow_topic, topic)
                    followed.add(topic)
        except BaseException:
            await self.stop()
            raise
        for peer, addrs in self._known_addrs.items():  # no await from here to _live: none is missed
            bridge.to_trio(self._learn_addrs, peer, list(addrs))
        self._live = True
        log.info("p2p listening peer_id=%s addrs=%s", self.peer_id, self._listen_addrs)

    async def stop(self) -> None:
        self._live = False
        self._listen_addrs = []
        self._connected.clear()
        if self._bridge is not None:
            await self._bridge.stop()
            self._bridge = None

    def set_message_handler(self, handler: MessageHandler) -> None:
        self._on_message = handler

    def set_hello_handler(self, handler: HelloHandler) -> None:
        self._on_hello = handler

    def set_admission(self, admitted: Callable[[str], bool]) -> None:
        self._admitted = admitted
        if self._bridge is not None:
            self._bridge.to_trio(self._forget_verdicts)

    def add_peer_addrs(self, peer_id: str, addrs: list[str]) -> None:
        peer = ID.from_base58(peer_id)
        suffix = Multiaddr(f"/p2p/{peer_id}")
        dialable = []
        for addr in addrs:
            multiaddr = Multiaddr(addr)
            named = multiaddr.get_peer_id()
            if named is not None and named != peer_id:
                raise ValueError(f"address {addr} names another peer than {peer_id}")
            dialable.append(multiaddr.decapsulate(suffix) if named else multiaddr)
        self._known_addrs[peer] = dialable
        if self._live:
            self._running().to_trio(self._learn_addrs, peer, list(dialable))

    def connected(self, peer_id: str) -> bool:
        return self._live and peer_id in self._connected

    async def inbound_stats(self, peer_id: str) -> InboundStats:
        """The host's own accounting of what ``peer_id``'s incoming streams hold."""
        return await self._running().call(self._read_inbound_stats, peer_id)

    # -- Transport: traffic (asyncio side) -------------------------------------------

    async def send(self, peer_id: str, payload: bytes, timeout: float = 10.0) -> None:
        frame = encode_frame(payload, self._max_frame_bytes)
        bridge = self._running()
        if peer_id == self.peer_id:  # to ourselves: in order, through admission, as from a peer
            self._loopback.append(payload)
            if self._loopback_drain is None or self._loopback_drain.done():
                self._loopback_drain = bridge.create_task(self._drain_loopback())
            return
        await bridge.call(self._enqueue, ID.from_base58(peer_id), frame, timeout)

    async def request_hello(self, multiaddr: str, request: bytes, timeout: float = 10.0) -> tuple[str, bytes]:
        frame = encode_frame(request, self._hello_max_bytes)  # FrameError (a ValueError) when too big
        info = info_from_p2p_addr(Multiaddr(multiaddr))
        return await self._running().call(self._ask_hello, info, frame, timeout)

    async def publish(self, topic: str, data: bytes) -> None:
        if len(data) > MAX_ANNOUNCEMENT_BYTES:
            raise ValueError(f"announcement of {len(data)} bytes exceeds {MAX_ANNOUNCEMENT_BYTES}; "
                             "send large payloads on direct streams")
        await self._running().call(self._publish, topic, data)

    async def subscribe(self, topic: str, handler: MessageHandler) -> None:
        """Before ``start`` (or while starting) the subscription is made when the host is up."""
        handlers = self._topic_handlers.setdefault(topic, [])
        handlers.append(handler)
        if len(handlers) == 1 and self._live:
            await self._running().call(self._follow_topic, topic)

    def _running(self) -> TrioBridge:
        if not self._live or self._bridge is None:
            raise TransportError("the p2p host is not running")
        return self._bridge

    # -- asyncio-side delivery --------------------------------------------------------

    async def _admission_verdict(self, peer_id: str) -> bool:
        return self._admitted(peer_id)

    async def _deliver_message(self, peer_id: str, payload: bytes) -> None:
        if not self._admitted(peer_id):  # admission changed since the stream opened
            self._warnings.warning(peer_id, "dropped message from non-admitted peer=%s bytes=%d",
                                   peer_id, len(payload))
            if peer_id != self.peer_id and self._bridge is not None:
                self._bridge.to_trio(self._revoke, peer_id)
            return
        if self._on_message is None:
            self._warnings.warning(peer_id, "dropped message from peer=%s: no message handler", peer_id)
            return
        await self._on_message(peer_id, payload)

    async def _drain_loopback(self) -> None:
        while self._loopback:
            try:
                await self._deliver_message(self.peer_id, self._loopback.popleft())
            except Exception:
                log.exception("message handler failed on a message to ourselves")

    async def _deliver_announcement(self, topic: str, origin: str, data: bytes) -> None:
        for handler in list(self._topic_handlers.get(topic, ())):
            try:
                await handler(origin, data)
            except Exception:
                log.exception("announcement handler failed topic=%s origin=%s", topic, origin)

    def _connectivity(self, peer_id: str, up: bool) -> None:
        if up:
            self._connected.add(peer_id)
        else:
            self._connected.discard(peer_id)

    # -- trio side ---------------------------------------------------------------------

    def _build_libp2p(self, listen: Multiaddr) -> BasicHost:
        key_pair = self.identity.libp2p_keypair()
        # Only Noise and yamux: new_host's defaults would also offer plaintext and secio.
        noise = NoiseTransport(key_pair, noise_privkey=create_x25519_key_pair().private_key)
        swarm = new_swarm(key_pair=key_pair, sec_opt={NOISE_PROTOCOL_ID: noise},
                          muxer_opt={TProtocol(YAMUX_PROTOCOL_ID): Yamux}, listen_addrs=[listen],
                          retry_config=RetryConfig(max_retries=0),  # our links do their own backoff
                          # one connection per peer: the dialler then stops at the first one
                          # instead of waiting 250 ms for a second ("happy eyeballs")
                          connection_config=ConnectionConfig(max_connections_per_peer=1))
        return BasicHost(network=swarm)

    async def _serve(self, stopping: trio.Event, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        bridge = self._bridge
        listen = Multiaddr(f"/ip4/{self._host}/tcp/{self._port}")
        host = self._build_libp2p(listen)
        gate = AdmissionGate(lambda peer_id: bridge.run_in_asyncio(self._admission_verdict, peer_id), self.peer_id)
        gossip = Gossip(host, bridge, gate, self.peer_id, self._deliver_announcement, self._warnings)
        inbound = Inbound(bridge, gate, self._deliver_message, max_frame_bytes=self._max_frame_bytes,
                          budget_bytes=self._peer_budget, warnings=self._warnings)
        hello = Hello(host, bridge, lambda: self._on_hello, max_bytes=self._hello_max_bytes,
                      max_streams=self._max_hello_streams, warnings=self._warnings)
        host.set_stream_handler(PROTOCOL_MSG, inbound.handle)
        host.set_stream_handler(PROTOCOL_HELLO, hello.serve)
        host.get_network().register_notifee(_Connectivity(bridge, self._connectivity))
        try:
            async with host.run([listen]), background_trio_service(gossip.pubsub), \
                    background_trio_service(gossip.router):
                async with trio.open_nursery() as nursery:
                    links = Links(host, PROTOCOL_MSG, gate, nursery, budget_bytes=self._queue_budget)
                    self._libp2p, self._nursery, self._gate = host, nursery, gate
                    self._links, self._inbound, self._hello, self._gossip = links, inbound, hello, gossip
                    nursery.start_soon(links.sweep_forever)
                    await gossip.pubsub.wait_until_ready()
                    ports = {addr.value_for_protocol("tcp") for addr in host.get_transport_addrs()}
                    if not ports:  # host.run does not fail when nothing could listen
                        raise OSError(f"could not listen on {listen}")
                    task_status.started([f"/ip4/{self._host}/tcp/{port}/p2p/{self.peer_id}"
                                         for port in sorted(ports)])
                    await stopping.wait()
                    nursery.cancel_scope.cancel()
                await host.close()
        finally:
            gossip.stop()
            self._libp2p = self._nursery = self._gate = None
            self._links = self._inbound = self._hello = self._gossip = None

    def _learn_addrs(self, peer: ID, addrs: list[Multiaddr]) -> None:
        if self._libp2p is not None:
            self._libp2p.get_peerstore().add_addrs(peer, addrs, PERMANENT_ADDR_TTL)
            self._links.learn_addrs(peer, addrs)

    def _forget_verdicts(self) -> None:
        if self._gate is not None:
            self._gate.forget_all()

    def _revoke(self, peer_id: str) -> None:
        if self._gate is not None:
            self._gate.revoke(peer_id)
            self._inbound.drop(peer_id)

    async def _enqueue(self, peer: ID, frame: bytes, timeout: float) -> None:
        await self._links.enqueue(peer, frame, timeout)

    async def _ask_hello(self, info, frame: bytes, timeout: float) -> tuple[str, bytes]:
        return await self._hello.ask(info, frame, timeout)

    async def _publish(self, topic: str, data: bytes) -> None:
        await self._gossip.publish(topic, data)

    async def _follow_topic(self, topic: str) -> None:
        await self._gossip.follow(topic, self._nursery)

    async def _read_inbound_stats(self, peer_id: str) -> InboundStats:
        return self._inbound.stats(peer_id)


class _Connectivity(INotifee):
    """Tells the asyncio side whether a peer has a connection, as connections come and go."""

    def __init__(self, bridge: TrioBridge, update: Callable[[str, bool], None]) -> None:
        self._bridge = bridge
        self._update = update

    async def connected(self, network, conn) -> None:
        self._bridge.to_asyncio(self._update, conn.muxed_conn.peer_id.to_base58(), True)

    async def disconnected(self, network, conn) -> None:
        peer = conn.muxed_conn.peer_id
        still_up = any(other is not conn for other in network.get_connections(peer))
        self._bridge.to_asyncio(self._update, peer.to_base58(), still_up)

    # streams and listeners change nothing we track
    async def opened_stream(self, network, stream) -> None:
        return None

    async def closed_stream(self, network, stream) -> None:
        return None

    async def listen(self, network, multiaddr) -> None:
        return None

    async def listen_close(self, network, multiaddr) -> None:
        return None
