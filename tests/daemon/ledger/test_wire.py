"""The ledger envelope and the per-peer sending queues."""

from __future__ import annotations

import asyncio
import logging

import msgpack
import pytest

from daemon.ledger_wire import MAX_ENVELOPE_DATA, LedgerEnvelope, PeerLinks
from daemon.p2p.transport import TransportError
from protocol import wire
from protocol.errors import EncodingError, UsageError


def test_the_envelope_uses_the_ledger_node_type_range_and_is_bounded():
    assert 0x0580 <= LedgerEnvelope.__wire_type_id__ <= 0x058F
    assert MAX_ENVELOPE_DATA < wire.MAX_MESSAGE_BYTES - 64  # room for the envelope's own header
    assert wire.decode(wire.encode(LedgerEnvelope(b"x")), LedgerEnvelope).data == b"x"
    with pytest.raises(UsageError):
        wire.encode(LedgerEnvelope(bytes(MAX_ENVELOPE_DATA + 1)))
    crafted = msgpack.packb([wire.WIRE_VERSION, 0x0580, 0, bytes(MAX_ENVELOPE_DATA + 1)], use_bin_type=True)
    with pytest.raises(EncodingError):
        wire.decode(crafted, LedgerEnvelope)


class Recorder:
    """A transport whose peers can be made to fail or to stall."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []
        self.failing: set[str] = set()
        self.stalled: dict[str, asyncio.Event] = {}

    async def send(self, peer_id: str, payload: bytes, timeout: float = 10.0) -> None:
        if peer_id in self.stalled:
            await self.stalled[peer_id].wait()
        if peer_id in self.failing:
            raise TransportError(f"{peer_id} is unreachable")
        self.sent.append((peer_id, payload))


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def test_links_keep_order_per_peer_and_a_stalled_peer_holds_up_no_one():
    async def main():
        transport = Recorder()
        transport.stalled["slow"] = asyncio.Event()
        links = PeerLinks(transport, send_timeout=1.0)
        for k in range(5):
            links.send("slow", b"s%d" % k)
            links.send("fast", b"f%d" % k)
        await _settle()
        assert transport.sent == [("fast", b"f%d" % k) for k in range(5)]
        transport.stalled.pop("slow").set()
        await _settle()
        assert [p for peer, p in transport.sent if peer == "slow"] == [b"s%d" % k for k in range(5)]
        await links.close()

    asyncio.run(main())


def test_a_failing_peer_is_logged_once_per_outage_and_sending_goes_on(caplog):
    async def main():
        transport = Recorder()
        transport.failing.add("down")
        links = PeerLinks(transport, send_timeout=1.0)
        with caplog.at_level(logging.INFO, logger="tssnet.ledger"):
            for k in range(3):
                links.send("down", b"%d" % k)
            await _settle()
            transport.failing.clear()
            links.send("down", b"back")
            await _settle()
        assert links.failed == 3 and transport.sent == [("down", b"back")]
        messages = [r.getMessage() for r in caplog.records]
        assert sum("unreachable" in m for m in messages) == 1
        assert sum("reachable again" in m for m in messages) == 1
        await links.close()

    asyncio.run(main())


def test_a_queue_over_its_byte_budget_drops_its_oldest_messages():
    async def main():
        transport = Recorder()
        transport.stalled["slow"] = asyncio.Event()
        links = PeerLinks(transport, send_timeout=1.0, max_queued_bytes=10)
        links.send("slow", b"first")       # taken by the sender task, now stalled
        await _settle()
        for payload in (b"aaaa", b"bbbb", b"cccc", b"dddd"):
            links.send("slow", payload)
        assert links.overflowed == 2
        transport.stalled.pop("slow").set()
        await _settle()
        assert [p for _, p in transport.sent] == [b"first", b"cccc", b"dddd"]
        await links.close()

    asyncio.run(main())
