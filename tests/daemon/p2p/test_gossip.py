"""Gossip: announcements reach subscribers, only from admitted origins, within size and rate."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from daemon.p2p.gossip import MAX_ANNOUNCEMENT_BYTES, ORIGIN_BURST, ORIGIN_PER_SECOND, OriginRate
from tests.daemon.p2p.peers import Received, eventually, listening, make_host, run, running

TOPIC = "validators"


async def publish_until_heard(publisher, data: bytes, at: Received, tries: int = 50) -> None:
    """Gossipsub needs a heartbeat or two to build its mesh: publish until ``at`` hears it."""
    for _ in range(tries):
        await publisher.publish(TOPIC, data)
        with contextlib.suppress(asyncio.TimeoutError):
            while True:
                heard = await at.next(timeout=0.2)
                if heard == (publisher.peer_id, data):
                    return
    pytest.fail(f"{data!r} never arrived")


def test_gossip_announcements_reach_subscribers_and_big_ones_are_refused():
    async def scenario():
        a, b = make_host(), make_host()
        at_a, at_b = Received(), Received()
        await b.subscribe(TOPIC, at_b)  # before start: made when the host starts
        async with running(a, b):
            await a.subscribe(TOPIC, at_a)
            listening(b, a)
            await a.send(b.peer_id, b"connect us")
            await publish_until_heard(a, b"node a is here", at_b)
            assert at_a.queue.empty()
            with pytest.raises(ValueError):
                await a.publish(TOPIC, b"x" * (MAX_ANNOUNCEMENT_BYTES + 1))
    run(scenario)


def test_a_subscription_made_while_the_host_starts_is_not_lost():
    async def scenario():
        async with running(make_host()) as (a,):
            b, at_b = make_host(), Received()
            starting = asyncio.create_task(b.start())
            await asyncio.sleep(0)  # b is now starting, not yet live
            await b.subscribe(TOPIC, at_b)
            await starting
            try:
                listening(b, a)
                await a.send(b.peer_id, b"connect us")
                await publish_until_heard(a, b"heard", at_b)
            finally:
                await b.stop()
    run(scenario)


def test_gossip_from_a_non_admitted_origin_is_neither_delivered_nor_relayed(caplog):
    """o and a reach c only through b; b admits a but not o, c admits both."""
    async def scenario():
        a, b, c, o = (make_host() for _ in range(4))
        at = {host: Received() for host in (b, c)}
        async with running(a, b, c, o):
            for host in (b, c):
                await host.subscribe(TOPIC, at[host])
            for host in (a, o):
                await host.subscribe(TOPIC, Received())
            listening(b, a, c)  # b: a and c are members, o is not
            listening(c, a, b, o)  # c would take o's announcements, were they passed on
            o.add_peer_addrs(b.peer_id, b.listen_addrs)
            for sender in (a, c, o):
                await sender.send(b.peer_id, b"connect us")
            await publish_until_heard(a, b"from a", at[c])  # relayed by b: the path works
            await o.publish(TOPIC, b"from o")
            await eventually(lambda: f"announcement from non-admitted peer={o.peer_id}" in caplog.text,
                             "b refused o's announcement")
            await publish_until_heard(a, b"after o", at[c])
            for host in (b, c):
                while not at[host].queue.empty():
                    assert at[host].queue.get_nowait()[0] != o.peer_id
            assert not c.connected(o.peer_id) and not c.connected(a.peer_id)
    with caplog.at_level(logging.WARNING, logger="tssnet.p2p"):
        run(scenario)


def test_an_origin_gets_a_burst_then_a_steady_rate():
    rate = OriginRate(now=0.0)
    assert all(rate.take(0.0) for _ in range(ORIGIN_BURST))
    assert not rate.take(0.0)
    assert rate.take(1 / ORIGIN_PER_SECOND) and not rate.take(1 / ORIGIN_PER_SECOND)
    assert sum(rate.take(100.0) for _ in range(2 * ORIGIN_BURST)) == ORIGIN_BURST  # refills to the burst only
