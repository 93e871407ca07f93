"""P2PHost on loopback: framed direct streams, admission, reconnects, connectivity, security, lifecycle."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import pytest

from daemon.identity import NodeIdentity
from daemon.p2p.framing import encode_frame
from daemon.p2p.host import PROTOCOL_MSG
from daemon.p2p.transport import TransportError
from tests.daemon.p2p.peers import (
    RawPeer,
    eventually,
    free_port,
    listening,
    make_host,
    run,
    running,
)


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


def test_connected_follows_connections_coming_and_going():
    async def scenario():
        async with running(make_host()) as (a,):
            b = make_host()
            async with running(b):
                assert not a.connected(b.peer_id)
                listening(b, a)
                await a.send(b.peer_id, b"connect us")
                await eventually(lambda: a.connected(b.peer_id) and b.connected(a.peer_id), "both connected")
            await eventually(lambda: not a.connected(b.peer_id), "a sees b gone")
    run(scenario)


def test_send_to_an_unreachable_peer_raises_within_its_timeout():
    async def scenario():
        async with running(make_host()) as (a,):
            ghost = NodeIdentity.generate().peer_id
            a.add_peer_addrs(ghost, [f"/ip4/127.0.0.1/tcp/{free_port()}/p2p/{ghost}"])
            with pytest.raises(TransportError, match="unreachable"):
                await asyncio.wait_for(a.send(ghost, b"anyone?", timeout=0.5), 5)
            nowhere = NodeIdentity.generate().peer_id  # no address, no connection: fails at once
            with pytest.raises(TransportError, match="no known address"):
                await a.send(nowhere, b"no address", timeout=60)
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
