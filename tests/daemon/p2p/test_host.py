"""P2PHost on loopback: framed direct streams, admission, hello, gossip, reconnects, security."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading

import pytest
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
from daemon.p2p.framing import encode_frame
from daemon.p2p.host import MAX_ANNOUNCEMENT_BYTES, PROTOCOL_HELLO, PROTOCOL_MSG, P2PHost
from daemon.p2p.transport import TransportError

HELLO_MAX = 1024


def run(test, timeout: float = 30.0) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout))


def make_host(identity: NodeIdentity | None = None, port: int = 0) -> P2PHost:
    return P2PHost(identity or NodeIdentity.generate(), "127.0.0.1", port, hello_max_bytes=HELLO_MAX)


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


def listening(receiver: P2PHost, *admitted: P2PHost) -> Received:
    received = Received()
    receiver.set_message_handler(received)
    names = {host.peer_id for host in admitted}
    receiver.set_admission(names.__contains__)
    for sender in admitted:
        sender.add_peer_addrs(receiver.peer_id, receiver.listen_addrs)
    return received


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RawPeer:
    """A bare libp2p host in a trio thread of its own, to speak to a P2PHost out of protocol."""

    def __init__(self, security: str = "noise") -> None:
        self.security = security
        self.bridge = TrioBridge("raw-peer")

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

    async def send_raw(self, addr: str, protocol: str, data: bytes) -> str:
        """Write ``data`` on a new stream; 'closed' if the other side ends it soon after, else 'open'."""
        async def exchange():
            info = info_from_p2p_addr(Multiaddr(addr))
            await self.host.connect(info)
            stream = await self.host.new_stream(info.peer_id, [protocol])
            await stream.write(data)
            with trio.move_on_after(0.3):
                with contextlib.suppress(Exception):
                    while await stream.read(1024):
                        pass
                return "closed"
            return "open"
        return await self.bridge.call(exchange)


def test_small_and_large_payloads_arrive_in_order_both_ways():
    async def scenario():
        async with running(make_host(), make_host()) as (a, b):
            at_b, at_a = listening(b, a), listening(a, b)
            big = [bytes([i]) * (3 * 1024 * 1024 + i) for i in range(2)]
            sent = [b"m0", big[0], b"m1", b"m2", big[1], b"m3"] + [b"n%d" % i for i in range(50)]
            for payload in sent:
                await a.send(b.peer_id, payload)
            assert [await at_b.next() for _ in sent] == [(a.peer_id, p) for p in sent]
            await b.send(a.peer_id, b"back")
            assert await at_a.next() == (b.peer_id, b"back")
            assert a.connected(b.peer_id) and b.connected(a.peer_id)
    run(scenario)


def test_a_slow_handler_for_one_peer_does_not_hold_back_another():
    async def scenario():
        async with running(make_host(), make_host(), make_host()) as (a, b, c):
            release = asyncio.Event()
            delivered = []

            async def handler(peer_id, payload):
                if peer_id == c.peer_id:
                    await release.wait()
                delivered.append(payload)

            listening(b, a, c)
            b.set_message_handler(handler)
            await c.send(b.peer_id, b"from c, stuck")
            for i in range(5):
                await a.send(b.peer_id, b"from a %d" % i)
            while len(delivered) < 5:
                await asyncio.sleep(0.01)
            assert delivered == [b"from a %d" % i for i in range(5)]
            release.set()
            while len(delivered) < 6:
                await asyncio.sleep(0.01)
    run(scenario)


def test_a_message_from_a_non_admitted_peer_is_dropped_and_logged(caplog):
    async def scenario():
        async with running(make_host(), make_host(), make_host()) as (a, b, outsider):
            received = listening(b, a)
            outsider.add_peer_addrs(b.peer_id, b.listen_addrs)
            await outsider.send(b.peer_id, b"let me in")
            await a.send(b.peer_id, b"hello")
            assert await received.next() == (a.peer_id, b"hello")
            for _ in range(200):
                if outsider.peer_id in caplog.text:
                    break
                await asyncio.sleep(0.01)
            assert received.queue.empty()
            return outsider.peer_id
    with caplog.at_level(logging.WARNING, logger="tssnet.p2p"):
        run(scenario)
    assert "non-admitted" in caplog.text


def test_a_malformed_frame_closes_only_that_stream():
    async def scenario():
        async with running(make_host(), make_host()) as (a, b), RawPeer() as raw:
            received = listening(b, a)
            b.set_admission({a.peer_id, raw.peer_id}.__contains__)
            addr = b.listen_addrs[0]
            for bad_header in [(1 << 31).to_bytes(4, "big"), b"\x00\x00\x00\x00"]:
                ending = await raw.send_raw(addr, PROTOCOL_MSG, encode_frame(b"before") + bad_header + b"junk")
                assert ending == "closed"
                assert await received.next() == (raw.peer_id, b"before")
                # the host, the other peer and even the same peer on a new stream are still heard
                await a.send(b.peer_id, b"still working")
                assert await received.next() == (a.peer_id, b"still working")
                assert await raw.send_raw(addr, PROTOCOL_MSG, encode_frame(b"new stream")) == "open"
                assert await received.next() == (raw.peer_id, b"new stream")
    run(scenario)


def test_hello_is_answered_for_a_peer_that_is_not_admitted():
    async def scenario():
        async with running(make_host(), make_host()) as (a, b):
            asked = []

            async def answer(peer_id, request):
                asked.append(peer_id)
                return b"welcome " + request

            b.set_hello_handler(answer)
            b.set_admission(lambda peer_id: False)
            assert await a.request_hello(b.listen_addrs[0], b"joiner") == (b.peer_id, b"welcome joiner")
            assert asked == [a.peer_id]
    run(scenario)


def test_oversized_hello_is_refused_both_ways():
    async def scenario():
        async with running(make_host(), make_host()) as (a, b), RawPeer() as raw:
            asked = []

            async def answer(peer_id, request):
                asked.append(request)
                return b"x" * (HELLO_MAX + 1) if request == b"big answer" else b"ok"

            b.set_hello_handler(answer)
            addr = b.listen_addrs[0]
            with pytest.raises(ValueError):
                await a.request_hello(addr, b"x" * (HELLO_MAX + 1))
            oversized = (HELLO_MAX + 1).to_bytes(4, "big") + b"x" * (HELLO_MAX + 1)
            assert await raw.send_raw(addr, PROTOCOL_HELLO, oversized) == "closed"
            two_requests = encode_frame(b"one") + encode_frame(b"two")
            assert await raw.send_raw(addr, PROTOCOL_HELLO, two_requests) == "closed"
            with pytest.raises(TransportError):
                await a.request_hello(addr, b"big answer", timeout=5)
            assert asked == [b"big answer"]
            assert await a.request_hello(addr, b"small") == (b.peer_id, b"ok")
    run(scenario)


def test_a_restarted_peer_is_reached_again_with_the_same_peer_id(tmp_path):
    async def scenario():
        path = tmp_path / "identity.key"
        port = free_port()
        a, b = make_host(), make_host(NodeIdentity.load_or_create(path), port)
        async with running(a):
            await b.start()
            first_addrs = b.listen_addrs
            received = listening(b, a)
            await a.send(b.peer_id, b"before restart")
            assert await received.next() == (a.peer_id, b"before restart")
            await b.stop()
            await asyncio.sleep(0.3)  # a's link notices the break and redials with backoff meanwhile
            restarted = make_host(NodeIdentity.load_or_create(path), port)
            async with running(restarted):
                assert restarted.peer_id == b.peer_id and restarted.listen_addrs == first_addrs
                received = listening(restarted, a)
                await a.send(b.peer_id, b"after restart", timeout=10)
                assert await received.next() == (a.peer_id, b"after restart")
    run(scenario)


def test_send_to_an_unreachable_peer_raises_within_its_timeout():
    async def scenario():
        async with running(make_host()) as (a,):
            ghost = NodeIdentity.generate().peer_id
            a.add_peer_addrs(ghost, [f"/ip4/127.0.0.1/tcp/{free_port()}/p2p/{ghost}"])
            with pytest.raises(TransportError, match="unreachable"):
                await asyncio.wait_for(a.send(ghost, b"anyone?", timeout=0.5), 5)
            nowhere = NodeIdentity.generate().peer_id
            with pytest.raises(TransportError):
                await asyncio.wait_for(a.send(nowhere, b"no address", timeout=0.3), 5)
            with pytest.raises(TransportError):
                await a.request_hello(f"/ip4/127.0.0.1/tcp/{free_port()}/p2p/{ghost}", b"hi", timeout=1)
    run(scenario)


def test_only_noise_and_yamux_are_offered_and_plaintext_or_secio_peers_cannot_connect():
    async def scenario():
        async with running(make_host()) as (a,):
            assert a.offered_protocols == (["/noise"], ["/yamux/1.0.0"])
            addr = a.listen_addrs[0]
            for security in ("plaintext", "secio"):
                async with RawPeer(security) as insecure:
                    with pytest.raises(Exception):  # noqa: B017 - libp2p raises several kinds
                        await insecure.connect(addr)
                    assert not a.connected(insecure.peer_id)
            async with RawPeer("noise") as secure:
                await secure.connect(addr)
    run(scenario)


def test_gossip_announcements_reach_subscribers_and_big_ones_are_refused():
    async def scenario():
        a, b = make_host(), make_host()
        at_a, at_b = Received(), Received()
        await b.subscribe("validators", at_b)  # before start: made when the host starts
        async with running(a, b):
            await a.subscribe("validators", at_a)
            listening(b, a)
            await a.send(b.peer_id, b"connect us")
            for _ in range(50):
                await a.publish("validators", b"node a is here")
                with contextlib.suppress(asyncio.TimeoutError):
                    assert await at_b.next(timeout=0.2) == (a.peer_id, b"node a is here")
                    break
            else:
                pytest.fail("the announcement never arrived")
            assert at_a.queue.empty()
            with pytest.raises(ValueError):
                await a.publish("validators", b"x" * (MAX_ANNOUNCEMENT_BYTES + 1))
    run(scenario)


def test_stop_leaves_no_threads_and_refuses_further_use():
    async def scenario():
        before = set(threading.enumerate())
        a, b = make_host(), make_host()
        async with running(a, b):
            listening(b, a)
            await a.send(b.peer_id, b"x")
            ghost = NodeIdentity.generate().peer_id
            a.add_peer_addrs(ghost, [f"/ip4/127.0.0.1/tcp/{free_port()}"])
            pending = asyncio.create_task(a.send(ghost, b"never", timeout=60))
            await asyncio.sleep(0.1)
        with pytest.raises(TransportError, match="stopping"):
            await pending  # a send still waiting when the host stops fails at once
        assert set(threading.enumerate()) <= before
        assert a.listen_addrs == [] and not a.connected(b.peer_id)
        with pytest.raises(TransportError):
            await a.send(b.peer_id, b"after stop")
    run(scenario)


def test_listening_on_a_taken_port_is_a_transport_error():
    async def scenario():
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            host = make_host(port=taken.getsockname()[1])
            with pytest.raises(TransportError, match="cannot listen"):
                await host.start()
            await host.stop()
    run(scenario)


def test_a_message_to_ourselves_is_delivered_through_admission():
    async def scenario():
        async with running(make_host()) as (a,):
            received = listening(a, a)
            await a.send(a.peer_id, b"note to self")
            assert await received.next() == (a.peer_id, b"note to self")
    run(scenario)


def test_an_address_naming_another_peer_is_refused():
    host = make_host()
    other = NodeIdentity.generate().peer_id
    with pytest.raises(ValueError, match="another peer"):
        host.add_peer_addrs(host.peer_id, [f"/ip4/127.0.0.1/tcp/1/p2p/{other}"])
