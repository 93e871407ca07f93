"""The libp2p host (Noise + yamux over TCP): framed direct streams, hello, gossipsub.

libp2p runs in the bridge's trio thread; public methods are called on asyncio.
``/tssnet/msg/1.0.0``: one long-lived outgoing stream per peer with a bounded queue,
redialled with backoff; a malformed incoming frame resets that stream only; payloads
from peers the admission callback refuses are dropped and logged.
``/tssnet/hello/1.0.0``: one bounded request and answer per stream, open to anyone.
Gossipsub: announcements ≤ 64 KiB; handlers get the signed origin peer id (not
filtered by admission: joining nodes announce themselves).
"""

from __future__ import annotations

import collections
import contextlib
import logging
from collections.abc import Callable

import trio
from libp2p import new_swarm
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.custom_types import TProtocol
from libp2p.host.basic_host import BasicHost
from libp2p.network.config import ConnectionConfig, RetryConfig
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo, info_from_p2p_addr
from libp2p.peer.peerstore import PERMANENT_ADDR_TTL
from libp2p.pubsub.gossipsub import PROTOCOL_ID_V11, PROTOCOL_ID_V12, GossipSub
from libp2p.pubsub.pubsub import Pubsub
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL_ID
from libp2p.stream_muxer.yamux.yamux import Yamux
from libp2p.tools.anyio_service.context import background_trio_service
from multiaddr import Multiaddr

from daemon.identity import NodeIdentity
from daemon.p2p.bridge import OrderedInbox, TrioBridge
from daemon.p2p.framing import DEFAULT_MAX_FRAME_BYTES, FrameDecoder, FrameError, encode_frame
from daemon.p2p.transport import HelloHandler, MessageHandler, TransportError

log = logging.getLogger("tssnet.p2p")

PROTOCOL_MSG = TProtocol("/tssnet/msg/1.0.0")
PROTOCOL_HELLO = TProtocol("/tssnet/hello/1.0.0")
#: gossipsub drops big messages silently; announcements stay far below that.
MAX_ANNOUNCEMENT_BYTES = 64 * 1024
READ_CHUNK_BYTES = 256 * 1024
#: frames waiting per peer before ``send`` waits for room
OUTGOING_QUEUE_FRAMES = 64
#: frames handed to the asyncio handler of one stream before its reader pauses
INBOX_DEPTH = 16
BACKOFF_MIN_SECONDS = 0.1
BACKOFF_MAX_SECONDS = 5.0
DIAL_TIMEOUT_SECONDS = 5.0
#: a stream that lived this long was healthy: its break restarts the backoff
STABLE_STREAM_SECONDS = 10.0
HELLO_SERVE_TIMEOUT_SECONDS = 10.0


class _Link:
    """Our outgoing stream to one peer: its queue, whether it is up, the frame in flight."""

    def __init__(self, peer: ID) -> None:
        self.peer = peer
        self.outgoing, self.queued = trio.open_memory_channel[bytes](OUTGOING_QUEUE_FRAMES)
        self.up = trio.Event()
        self.in_flight: bytes | None = None


class P2PHost:
    """``daemon.p2p.transport.Transport`` over py-libp2p."""

    def __init__(self, identity: NodeIdentity, host: str, port: int, *,
                 max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES, hello_max_bytes: int = 64 * 1024) -> None:
        self.identity = identity
        self.peer_id = identity.peer_id
        self._host, self._port = host, port
        self._max_frame_bytes = max_frame_bytes
        self._hello_max_bytes = hello_max_bytes
        self._on_message: MessageHandler | None = None
        self._on_hello: HelloHandler | None = None
        self._admitted: Callable[[str], bool] = lambda peer_id: False
        self._known_addrs: dict[ID, list[Multiaddr]] = {}
        self._topic_handlers: dict[str, list[MessageHandler]] = {}
        self._loopback: collections.deque[bytes] = collections.deque()
        self._loopback_drain = None
        self._listen_addrs: list[str] = []
        self._bridge: TrioBridge | None = None
        self._live = False  # False from the start of stop(): no new calls cross over
        # trio-side state, touched only in the bridge thread once started
        self._libp2p: BasicHost | None = None
        self._pubsub: Pubsub | None = None
        self._nursery: trio.Nursery | None = None
        self._links: dict[ID, _Link] = {}

    # -- Transport: lifecycle and settings (asyncio side) --------------------------------

    @property
    def listen_addrs(self) -> list[str]:
        return list(self._listen_addrs)

    @property
    def offered_protocols(self) -> tuple[list[str], list[str]]:
        """(security protocols, stream muxers) a started host negotiates: Noise and yamux only."""
        self._running()
        upgrader = self._libp2p.get_network().upgrader
        return ([str(p) for p in upgrader.security_multistream.transports],
                [str(p) for p in upgrader.muxer_multistream.transports])

    async def start(self) -> None:
        if self._bridge is not None:
            raise RuntimeError("the p2p host is already started")
        self._bridge = TrioBridge()
        try:
            self._listen_addrs = await self._bridge.start(self._serve)
        except Exception as exc:
            self._bridge = None
            raise TransportError(f"cannot listen on {self._host}:{self._port}: {exc}") from exc
        self._live = True
        log.info("p2p listening peer_id=%s addrs=%s", self.peer_id, self._listen_addrs)

    async def stop(self) -> None:
        self._live = False
        self._listen_addrs = []
        if self._bridge is not None:
            await self._bridge.stop()
            self._bridge = None

    def set_message_handler(self, handler: MessageHandler) -> None:
        self._on_message = handler

    def set_hello_handler(self, handler: HelloHandler) -> None:
        self._on_hello = handler

    def set_admission(self, admitted: Callable[[str], bool]) -> None:
        self._admitted = admitted

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
        if self._live and self._bridge is not None and self._libp2p is not None:
            self._bridge.to_trio(self._libp2p.get_peerstore().add_addrs, peer, dialable, PERMANENT_ADDR_TTL)

    def connected(self, peer_id: str) -> bool:
        host = self._libp2p
        return self._live and host is not None and bool(host.get_network().connections.get(ID.from_base58(peer_id)))

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
        await self._running().call(self._pubsub.publish, topic, data)  # _pubsub is set while running

    async def subscribe(self, topic: str, handler: MessageHandler) -> None:
        """Before ``start`` the subscription is remembered and made when the host starts."""
        handlers = self._topic_handlers.setdefault(topic, [])
        handlers.append(handler)
        if len(handlers) == 1 and self._live:
            await self._running().call(self._follow_topic, topic)

    def _running(self) -> TrioBridge:
        if not self._live or self._bridge is None:
            raise TransportError("the p2p host is not running")
        return self._bridge

    # -- asyncio-side delivery --------------------------------------------------------

    async def _deliver_message(self, peer_id: str, payload: bytes) -> None:
        if not self._admitted(peer_id):
            log.warning("dropped message from non-admitted peer=%s bytes=%d", peer_id, len(payload))
            return
        if self._on_message is None:
            log.warning("dropped message from peer=%s: no message handler", peer_id)
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
        listen = Multiaddr(f"/ip4/{self._host}/tcp/{self._port}")
        host = self._build_libp2p(listen)
        host.set_stream_handler(PROTOCOL_MSG, self._read_messages)
        host.set_stream_handler(PROTOCOL_HELLO, self._serve_hello)
        gossip = GossipSub([PROTOCOL_ID_V12, PROTOCOL_ID_V11], degree=6, degree_low=4, degree_high=12,
                           heartbeat_interval=1)
        pubsub = Pubsub(host, gossip)
        for peer, addrs in self._known_addrs.items():
            host.get_peerstore().add_addrs(peer, addrs, PERMANENT_ADDR_TTL)
        try:
            async with host.run([listen]), background_trio_service(pubsub), background_trio_service(gossip):
                async with trio.open_nursery() as nursery:
                    self._libp2p, self._pubsub, self._nursery = host, pubsub, nursery
                    await pubsub.wait_until_ready()
                    for topic in list(self._topic_handlers):
                        await self._follow_topic(topic)
                    ports = {addr.value_for_protocol("tcp") for addr in host.get_transport_addrs()}
                    if not ports:  # host.run does not fail when nothing could listen
                        raise OSError(f"could not listen on {listen}")
                    task_status.started([f"/ip4/{self._host}/tcp/{port}/p2p/{self.peer_id}"
                                         for port in sorted(ports)])
                    await stopping.wait()
                    nursery.cancel_scope.cancel()
                await host.close()
        finally:
            # Pubsub's seen-message cache sweeps in a thread of its own that nothing else stops.
            pubsub.seen_messages.stop()
            self._links.clear()
            self._libp2p = self._pubsub = self._nursery = None

    async def _enqueue(self, peer: ID, frame: bytes, timeout: float) -> None:
        link = self._links.get(peer)
        if link is None:
            link = self._links[peer] = _Link(peer)
            self._nursery.start_soon(self._drive_link, link)
        with trio.move_on_after(timeout):
            await link.up.wait()
            await link.outgoing.send(frame)
            return
        raise TransportError(f"peer {peer} unreachable within {timeout} s")

    async def _drive_link(self, link: _Link) -> None:
        """Keep a stream open to the peer, redialling with backoff, and write its queue."""
        delay = BACKOFF_MIN_SECONDS
        while True:
            # the swarm blocks a peer for 60 s after a failed dial; our backoff decides instead
            self._libp2p.get_network().unblock_peer(link.peer)
            try:
                with trio.fail_after(DIAL_TIMEOUT_SECONDS):
                    stream = await self._libp2p.new_stream(link.peer, [PROTOCOL_MSG])
            except Exception as exc:
                log.debug("dial peer=%s failed (%s); retry in %.1f s", link.peer, type(exc).__name__, delay)
                await trio.sleep(delay)
                delay = min(2 * delay, BACKOFF_MAX_SECONDS)
                continue
            link.up.set()
            opened = trio.current_time()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._write_frames, link, stream, nursery.cancel_scope)
                nursery.start_soon(_wait_for_break, stream, nursery.cancel_scope)
            link.up = trio.Event()
            if trio.current_time() - opened > STABLE_STREAM_SECONDS:
                delay = BACKOFF_MIN_SECONDS
            await _reset_quietly(stream)
            log.info("stream to peer=%s broke; redialling in %.1f s", link.peer, delay)
            await trio.sleep(delay)
            delay = min(2 * delay, BACKOFF_MAX_SECONDS)

    async def _write_frames(self, link: _Link, stream, scope: trio.CancelScope) -> None:
        try:
            while True:
                if link.in_flight is None:
                    link.in_flight = await link.queued.receive()
                # a frame cut off by a break is sent again whole; the receiver drops the partial one
                await stream.write(link.in_flight)
                link.in_flight = None
        except Exception as exc:
            log.debug("write to peer=%s failed: %s", link.peer, type(exc).__name__)
        scope.cancel()

    async def _read_messages(self, stream) -> None:
        peer_id = stream.muxed_conn.peer_id.to_base58()
        decoder = FrameDecoder(self._max_frame_bytes)
        inbox = OrderedInbox(self._bridge, self._deliver_message, depth=INBOX_DEPTH)
        try:
            while data := await stream.read(READ_CHUNK_BYTES):
                for payload in decoder.feed(data):
                    await inbox.put(peer_id, payload)
        except FrameError as exc:
            log.warning("closing message stream from peer=%s: %s", peer_id, exc)
            for payload in exc.complete:
                await inbox.put(peer_id, payload)
        except Exception as exc:
            log.debug("message stream from peer=%s ended: %s; %d bytes of a partial frame dropped",
                      peer_id, type(exc).__name__, decoder.pending)
        await _reset_quietly(stream)

    async def _ask_hello(self, info: PeerInfo, frame: bytes, timeout: float) -> tuple[str, bytes]:
        stream = None
        with trio.move_on_after(timeout):
            try:
                self._libp2p.get_network().unblock_peer(info.peer_id)
                await self._libp2p.connect(info)
                stream = await self._libp2p.new_stream(info.peer_id, [PROTOCOL_HELLO])
                await stream.write(frame)
                return info.peer_id.to_base58(), await _read_one_frame(stream, self._hello_max_bytes)
            except Exception as exc:
                raise TransportError(f"hello to peer {info.peer_id} failed: {type(exc).__name__}: {exc}") from exc
            finally:
                if stream is not None:
                    await _reset_quietly(stream)
        raise TransportError(f"no hello answer from peer {info.peer_id} within {timeout} s")

    async def _serve_hello(self, stream) -> None:
        peer_id = stream.muxed_conn.peer_id.to_base58()
        try:
            with trio.fail_after(HELLO_SERVE_TIMEOUT_SECONDS):
                request = await _read_one_frame(stream, self._hello_max_bytes)
                if self._on_hello is None:
                    raise TransportError("this node answers no hello yet")
                answer = await self._bridge.run_in_asyncio(self._on_hello, peer_id, request)
                await stream.write(encode_frame(answer, self._hello_max_bytes))
                await stream.close()
        except Exception as exc:
            log.warning("hello from peer=%s refused: %s: %s", peer_id, type(exc).__name__, exc)
            await _reset_quietly(stream)

    async def _follow_topic(self, topic: str) -> None:
        subscription = await self._pubsub.subscribe(topic)
        inbox = OrderedInbox(self._bridge, self._deliver_announcement, depth=INBOX_DEPTH)
        self._nursery.start_soon(self._pump_topic, topic, subscription, inbox)

    async def _pump_topic(self, topic: str, subscription, inbox: OrderedInbox) -> None:
        async for message in subscription:
            origin = ID(message.from_id).to_base58()
            if origin == self.peer_id or len(message.data) > MAX_ANNOUNCEMENT_BYTES:
                continue
            await inbox.put(topic, origin, bytes(message.data))


async def _read_one_frame(stream, max_bytes: int) -> bytes:
    """The single frame a hello stream carries; anything more is refused."""
    decoder = FrameDecoder(max_bytes)
    while True:
        data = await stream.read(READ_CHUNK_BYTES)
        if not data:
            raise EOFError("the stream ended before a whole frame")
        frames = decoder.feed(data)
        if frames:
            if len(frames) > 1 or decoder.pending:
                raise FrameError("more than one frame on a hello stream")
            return frames[0]


async def _wait_for_break(stream, scope: trio.CancelScope) -> None:
    """Our outgoing streams carry nothing back, so a read ends only when the stream breaks."""
    with contextlib.suppress(Exception):
        while await stream.read(READ_CHUNK_BYTES):
            pass
    scope.cancel()


async def _reset_quietly(stream) -> None:
    with trio.CancelScope(shield=True):
        try:
            await stream.reset()
        except Exception as exc:
            log.debug("stream reset failed: %s", type(exc).__name__)
