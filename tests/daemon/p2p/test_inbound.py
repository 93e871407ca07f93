"""Incoming message streams: strangers are reset at open, one stream per admitted peer,
what a peer makes us hold stays within its budget, and a revoked peer is cut off."""

from __future__ import annotations

import asyncio

from daemon.p2p.framing import HEADER_BYTES, encode_frame
from daemon.p2p.host import PROTOCOL_MSG
from daemon.p2p.inbound import MUXER_UNREAD_LIMIT_BYTES
from daemon.p2p.streams import READ_CHUNK_BYTES
from tests.daemon.p2p.peers import RawPeer, eventually, listening, make_host, run, running

MiB = 1024 * 1024


def test_a_stranger_streaming_large_frames_is_reset_at_open_and_costs_no_buffer():
    async def scenario():
        async with running(make_host(), make_host()) as (victim, a), RawPeer() as stranger:
            received = listening(victim, a)
            addr = victim.listen_addrs[0]
            partial = (15 * MiB).to_bytes(HEADER_BYTES, "big") + b"x" * MiB  # a 15 MiB frame, begun
            assert await stranger.flood(addr, PROTOCOL_MSG, 40, partial) == 40
            stats = await victim.inbound_stats(stranger.peer_id)
            assert (stats.buffered_bytes, stats.peak_bytes, stats.open_streams) == (0, 0, 0)
            assert stats.refused_streams >= 40
            await a.send(victim.peer_id, b"still heard")  # the victim still serves its peers
            assert await received.next() == (a.peer_id, b"still heard")
            assert received.queue.empty()
    run(scenario)


def test_an_admitted_peer_has_one_incoming_stream_and_a_newer_one_replaces_the_older():
    async def scenario():
        async with running(make_host()) as (victim,), RawPeer() as peer:
            received = listening(victim, peer)
            addr = victim.listen_addrs[0]
            first = await peer.open(addr, PROTOCOL_MSG)
            await peer.write(first, encode_frame(b"one"))
            assert await received.next() == (peer.peer_id, b"one")
            second = await peer.open(addr, PROTOCOL_MSG)
            await peer.write(second, encode_frame(b"two"))
            assert await received.next() == (peer.peer_id, b"two")
            assert await peer.ended(first, wait=10)
            assert not await peer.ended(second)
            assert (await victim.inbound_stats(peer.peer_id)).open_streams == 1
            await peer.write(second, encode_frame(b"three"))
            assert await received.next() == (peer.peer_id, b"three")
    run(scenario)


def test_what_an_admitted_peer_makes_us_hold_stays_within_its_budget_while_the_handler_lags():
    frame_limit, budget = 64 * 1024, 128 * 1024
    bound = budget + 2 * (frame_limit + HEADER_BYTES) + READ_CHUNK_BYTES

    async def scenario():
        victim = make_host(max_frame_bytes=frame_limit, peer_budget_bytes=budget)
        async with running(victim), RawPeer() as peer:
            release = asyncio.Event()
            delivered = []

            async def slow_handler(peer_id, payload):
                await release.wait()
                delivered.append(payload)

            listening(victim, peer)
            victim.set_message_handler(slow_handler)
            payloads = [bytes([i]) * (60 * 1024) for i in range(100)]  # 6 MB against a 0.5 MB bound
            stream = await peer.open(victim.listen_addrs[0], PROTOCOL_MSG)
            writing = asyncio.create_task(peer.write(stream, b"".join(encode_frame(p, frame_limit) for p in payloads)))

            async def budget_reached():
                return (await victim.inbound_stats(peer.peer_id)).peak_bytes >= budget
            await eventually(budget_reached, "the inbox filled up to its budget")
            await asyncio.wait({writing}, timeout=1.0)  # room for a sender we fail to hold back
            release.set()
            assert await writing
            await eventually(lambda: len(delivered) == len(payloads), "every payload delivered")
            assert delivered == payloads
            stats = await victim.inbound_stats(peer.peer_id)
            assert budget <= stats.peak_bytes <= bound and stats.buffered_bytes == 0
    run(scenario)


def test_a_peer_that_ignores_the_flow_control_window_is_reset():
    async def scenario():
        async with running(make_host()) as (victim,), RawPeer() as peer:
            release = asyncio.Event()

            async def stuck_handler(peer_id, payload):
                await release.wait()

            listening(victim, peer)
            victim.set_message_handler(stuck_handler)
            stream = await peer.open(victim.listen_addrs[0], PROTOCOL_MSG)
            frame = encode_frame(b"x" * MiB)
            # the victim's inbox holds 32 MiB at most; what comes after stays in yamux unread
            sent = await peer.write(stream, frame * (32 + 1 + MUXER_UNREAD_LIMIT_BYTES // MiB + 2),
                                    ignore_window=True)
            assert not sent or await peer.ended(stream, wait=10)
            release.set()
    run(scenario)


def test_a_peer_no_longer_admitted_is_dropped_and_its_stream_closed():
    async def scenario():
        async with running(make_host()) as (victim,), RawPeer() as peer:
            received = listening(victim, peer)
            addr = victim.listen_addrs[0]
            stream = await peer.open(addr, PROTOCOL_MSG)
            await peer.write(stream, encode_frame(b"member"))
            assert await received.next() == (peer.peer_id, b"member")
            victim.set_admission(lambda peer_id: False)
            await peer.write(stream, encode_frame(b"removed"))
            assert await peer.ended(stream, wait=10)
            assert received.queue.empty()
            assert await peer.send_raw(addr, PROTOCOL_MSG, encode_frame(b"again")) == "closed"
            assert received.queue.empty()
    run(scenario)
