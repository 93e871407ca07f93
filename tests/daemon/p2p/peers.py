"""Shared pieces of the p2p tests: hosts on loopback, a recording handler, and a bare libp2p
peer (in a trio thread of its own) that speaks to a P2PHost out of protocol."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import trio
from libp2p import new_swarm
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.host.basic_host import BasicHost
from libp2p.network.config import ConnectionConfig, RetryConfig
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.insecure.transport import PLAINTEXT_PROTOCOL_ID, InsecureTransport
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.security.secio import transport as secio
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL_ID
from libp2p.stream_muxer.yamux.yamux import Yamux
from multiaddr import Multiaddr

from daemon.identity import NodeIdentity
from daemon.p2p.bridge import TrioBridge
from daemon.p2p.framing import FrameDecoder
from daemon.p2p.host import P2PHost

HELLO_MAX = 1024
#: how long a stream must stay quiet to count as left open (a guard, not a measurement)
QUIET_SECONDS = 0.3


def run(test, timeout: float = 30.0) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout))


def make_host(identity: NodeIdentity | None = None, port: int = 0, **options) -> P2PHost:
    options.setdefault("hello_max_bytes", HELLO_MAX)
    return P2PHost(identity or NodeIdentity.generate(), "127.0.0.1", port, **options)


@contextlib.asynccontextmanager
async def running(*hosts):
    try:
        for host in hosts:
            await host.start()
        yield hosts
    finally:
        for host in hosts:
            await host.stop()


class Received:
    """A message handler that records (peer id, payload) in arrival order."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()

    async def __call__(self, peer_id: str, payload: bytes) -> None:
        await self.queue.put((peer_id, payload))

    async def next(self, timeout: float = 10.0) -> tuple[str, bytes]:
        return await asyncio.wait_for(self.queue.get(), timeout)


def listening(receiver: P2PHost, *admitted) -> Received:
    """``receiver`` records messages and admits ``admitted`` (hosts or raw peers)."""
    received = Received()
    receiver.set_message_handler(received)
    names = {peer.peer_id for peer in admitted}
    receiver.set_admission(names.__contains__)
    for sender in admitted:
        if isinstance(sender, P2PHost):
            sender.add_peer_addrs(receiver.peer_id, receiver.listen_addrs)
    return received


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def eventually(condition, what: str, timeout: float = 10.0) -> None:
    """Wait until ``condition()`` (sync or async) is true; the test fails after ``timeout``."""
    async def poll():
        while True:
            value = condition()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return
            await asyncio.sleep(0.01)
    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"never happened: {what}") from None


class RawPeer:
    """A bare libp2p host in a trio thread of its own; streams are kept by handle."""

    def __init__(self, security: str = "noise") -> None:
        self.security = security
        self.bridge = TrioBridge("raw-peer")
        self._streams: dict[int, object] = {}

    async def __aenter__(self) -> RawPeer:
        await self.bridge.start(self._serve)
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.bridge.stop()

    async def _serve(self, stopping, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        key_pair = create_new_key_pair()
        security = {
            "noise": {NOISE_PROTOCOL_ID: NoiseTransport(key_pair, noise_privkey=create_x25519_key_pair().private_key)},
            "plaintext": {PLAINTEXT_PROTOCOL_ID: InsecureTransport(key_pair)},
            "secio": {secio.ID: secio.Transport(key_pair)},
        }[self.security]
        self.host = BasicHost(network=new_swarm(key_pair=key_pair, sec_opt=security, muxer_opt={YAMUX_PROTOCOL_ID: Yamux},
                                                retry_config=RetryConfig(max_retries=0),
                                                connection_config=ConnectionConfig(max_connections_per_peer=1)))
        self.peer_id = self.host.get_id().to_base58()
        async with self.host.run([Multiaddr("/ip4/127.0.0.1/tcp/0")]):
            task_status.started()
            await stopping.wait()

    async def connect(self, addr: str) -> None:
        async def dial():
            with trio.fail_after(5):
                await self.host.connect(info_from_p2p_addr(Multiaddr(addr)))
        await self.bridge.call(dial)

    async def open(self, addr: str, protocol: str) -> int:
        async def opening():
            info = info_from_p2p_addr(Multiaddr(addr))
            await self.host.connect(info)
            stream = await self.host.new_stream(info.peer_id, [protocol])
            self._streams[id(stream)] = stream
            return id(stream)
        return await self.bridge.call(opening)

    async def flood(self, addr: str, protocol: str, streams: int, data: bytes) -> int:
        """Open ``streams`` streams at once, write ``data`` on each; how many the other side
        refused or ended (the rest are left open, each after ``QUIET_SECONDS`` of silence)."""
        ended = []

        async def one():
            try:
                stream = await self.host.new_stream(info.peer_id, [protocol])
                await stream.write(data)
                with trio.move_on_after(QUIET_SECONDS * 10):
                    while await stream.read(64 * 1024):
                        pass
                    ended.append(stream)
            except Exception as exc:  # refused in negotiation, or reset while writing or reading
                ended.append(exc)

        async def flooding():
            await self.host.connect(info)
            async with trio.open_nursery() as nursery:
                for _ in range(streams):
                    nursery.start_soon(one)
            return len(ended)
        info = info_from_p2p_addr(Multiaddr(addr))
        return await self.bridge.call(flooding)

    async def write(self, handle: int, data: bytes, ignore_window: bool = False) -> bool:
        """Write ``data``; False if the stream broke on the way. ``ignore_window``: send
        past the flow-control window the other side granted, as a hostile peer would."""
        async def writing():
            stream = self._streams[handle]
            if ignore_window:
                stream.muxed_stream.send_window = 1 << 40
            try:
                await stream.write(data)
            except Exception:
                return False
            return True
        return await self.bridge.call(writing)

    async def ended(self, handle: int, wait: float = QUIET_SECONDS) -> bool:
        """True if the other side ends the stream (after any answer) within ``wait`` seconds."""
        async def watching():
            with trio.move_on_after(wait):
                with contextlib.suppress(Exception):
                    while await self._streams[handle].read(64 * 1024):
                        pass
                return True
            return False
        return await self.bridge.call(watching)

    async def read_frame(self, handle: int, max_bytes: int = HELLO_MAX) -> bytes:
        async def reading():
            decoder = FrameDecoder(max_bytes)
            with trio.fail_after(10):
                while True:
                    data = await self._streams[handle].read(64 * 1024)
                    if not data:
                        raise EOFError("the stream ended before a frame")
                    if frames := decoder.feed(data):
                        return frames[0]
        return await self.bridge.call(reading)

    async def send_raw(self, addr: str, protocol: str, data: bytes) -> str:
        """Write ``data`` on a new stream; 'closed' if the other side ends it soon after, else 'open'."""
        try:
            handle = await self.open(addr, protocol)
        except Exception:  # reset before the protocol negotiation finished: refused at open
            return "closed"
        await self.write(handle, data)
        return "closed" if await self.ended(handle) else "open"
