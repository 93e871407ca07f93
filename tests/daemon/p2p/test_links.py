"""Outgoing links: queues bounded in bytes, idle links and links to removed peers closed."""

from __future__ import annotations

import asyncio

import pytest
import trio
import trio.testing
from libp2p.peer.id import ID

from daemon.identity import NodeIdentity
from daemon.p2p import links
from daemon.p2p.transport import TransportError
from tests.daemon.p2p.peers import eventually, listening, make_host, run, running

MiB = 1024 * 1024


def test_a_link_queue_is_bounded_in_bytes_and_always_takes_one_frame():
    async def scenario():
        link = links.Link(ID.from_base58(NodeIdentity.generate().peer_id), budget=100)
        queued = []

        async def put(frame):
            await link.put(frame)
            queued.append(frame)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(put, b"a" * 60)
            await trio.testing.wait_all_tasks_blocked()
            nursery.start_soon(put, b"b" * 60)  # 120 bytes would exceed the budget: waits
            await trio.testing.wait_all_tasks_blocked()
            assert queued == [b"a" * 60] and link.queued_bytes == 60
            assert await link.next_frame() == b"a" * 60
            assert link.queued_bytes == 60  # the frame in flight still counts until written
            link.written()
            await trio.testing.wait_all_tasks_blocked()
            assert queued == [b"a" * 60, b"b" * 60]
            assert await link.next_frame() == b"b" * 60
            link.written()
            nursery.start_soon(put, b"c" * 500)  # larger than the budget, but the queue is empty
            await trio.testing.wait_all_tasks_blocked()
            assert queued[-1] == b"c" * 500 and link.queued_bytes == 500
    trio.run(scenario)


def test_a_send_fails_when_the_peer_stops_taking_frames_long_before_64_of_them():
    async def scenario():
        sender = make_host(queue_budget_bytes=MiB)
        receiver = make_host(peer_budget_bytes=MiB)
        async with running(sender, receiver):
            release = asyncio.Event()

            async def stuck(peer_id, payload):
                await release.wait()

            listening(receiver, sender)
            receiver.set_message_handler(stuck)
            with pytest.raises(TransportError, match="stayed full"):  # noqa: PT012 - counted sends
                for sent in range(64):
                    await sender.send(receiver.peer_id, bytes([sent % 256]) * MiB, timeout=1)
            # the receiver holds ~2 MiB, yamux at most a 16 MiB window, our queue 1 MiB
            assert sent < 24
            release.set()
    run(scenario)


def test_an_idle_link_is_closed_and_opened_again_on_the_next_send(monkeypatch):
    monkeypatch.setattr(links, "LINK_IDLE_SECONDS", 0.0)
    monkeypatch.setattr(links, "SWEEP_EVERY_SECONDS", 0.05)

    async def scenario():
        async with running(make_host(), make_host()) as (a, b):
            received = listening(b, a)
            a.set_admission({b.peer_id}.__contains__)
            await a.send(b.peer_id, b"first")
            assert await received.next() == (a.peer_id, b"first")

            async def stream_closed():
                return (await b.inbound_stats(a.peer_id)).open_streams == 0
            await eventually(stream_closed, "a closed its idle link")
            assert a.connected(b.peer_id)  # the connection stays; only the stream went
            await a.send(b.peer_id, b"second")
            assert await received.next() == (a.peer_id, b"second")
    run(scenario)


def test_a_link_to_a_peer_no_longer_admitted_is_closed(monkeypatch):
    monkeypatch.setattr(links, "SWEEP_EVERY_SECONDS", 0.05)

    async def scenario():
        async with running(make_host(), make_host()) as (a, b):
            received = listening(b, a)
            a.set_admission({b.peer_id}.__contains__)
            await a.send(b.peer_id, b"hello")
            assert await received.next() == (a.peer_id, b"hello")

            async def link_closed():
                return (await b.inbound_stats(a.peer_id)).open_streams == 0
            assert not await link_closed()
            a.set_admission(lambda peer_id: False)  # b left the validator set
            await eventually(link_closed, "a closed its link to b")
    run(scenario)
