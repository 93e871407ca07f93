"""The hello protocol: open to peers not yet admitted, bounded in size and in concurrency."""

from __future__ import annotations

import asyncio

import pytest

from daemon.p2p.framing import encode_frame
from daemon.p2p.host import PROTOCOL_HELLO
from daemon.p2p.transport import TransportError
from tests.daemon.p2p.peers import HELLO_MAX, RawPeer, eventually, make_host, run, running


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


def test_hello_streams_are_limited_to_one_per_peer_and_a_few_at_once():
    async def scenario():
        host = make_host(max_hello_streams=2)
        async with running(host), RawPeer() as first, RawPeer() as second, RawPeer() as third:
            release = asyncio.Event()
            asked = []

            async def slow_answer(peer_id, request):
                asked.append(peer_id)
                await release.wait()
                return b"answer to " + request

            host.set_hello_handler(slow_answer)
            addr = host.listen_addrs[0]
            waiting = {}
            for peer in (first, second):
                waiting[peer] = await peer.open(addr, PROTOCOL_HELLO)
                await peer.write(waiting[peer], encode_frame(b"hi"))
            await eventually(lambda: len(asked) == 2, "both hellos reached the handler")
            # a second hello of one peer, and a third peer's while two are served: reset at once
            assert await first.send_raw(addr, PROTOCOL_HELLO, encode_frame(b"again")) == "closed"
            assert await third.send_raw(addr, PROTOCOL_HELLO, encode_frame(b"me too")) == "closed"
            assert sorted(asked) == sorted([first.peer_id, second.peer_id])
            release.set()
            for peer, stream in waiting.items():
                assert await peer.read_frame(stream) == b"answer to hi"

            async def third_served():  # once the others are answered (their slots free soon after)
                stream = await third.open(addr, PROTOCOL_HELLO)
                await third.write(stream, encode_frame(b"now"))
                try:
                    return await third.read_frame(stream) == b"answer to now"
                except Exception:
                    return False
            await eventually(third_served, "the third peer is served")
    run(scenario)


def test_refused_hellos_are_logged_once_per_interval_per_peer(caplog):
    async def scenario():
        async with running(make_host()) as (host,), RawPeer() as raw:
            addr = host.listen_addrs[0]
            for _ in range(5):
                assert await raw.send_raw(addr, PROTOCOL_HELLO, b"\xff\xff\xff\xff") == "closed"
            return raw.peer_id
    with caplog.at_level("WARNING", logger="tssnet.p2p"):
        run(scenario)
    refusals = [r for r in caplog.records if r.name == "tssnet.p2p" and "hello from peer" in r.getMessage()]
    assert len(refusals) == 1
