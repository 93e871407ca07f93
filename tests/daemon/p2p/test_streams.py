"""Stream helpers: resets and writes that cannot hang, warnings limited per peer."""

from __future__ import annotations

import logging

import pytest
import trio
import trio.testing

from daemon.p2p.streams import (
    RESET_TIMEOUT_SECONDS,
    WRITE_STALL_SECONDS,
    LogLimiter,
    reset_quietly,
    write_bounded,
)


class StalledStream:
    """A stream whose peer stopped reading TCP: every write and reset blocks forever."""

    def __init__(self, writable_chunks: int = 0) -> None:
        self.writable_chunks = writable_chunks
        self.written = []

    async def write(self, data: bytes) -> None:
        if len(self.written) >= self.writable_chunks:
            await trio.sleep_forever()
        self.written.append(data)

    async def reset(self) -> None:
        await trio.sleep_forever()


def test_a_reset_gives_up_after_its_deadline_even_when_cancelled():
    async def scenario():
        started = trio.current_time()
        with trio.CancelScope() as scope:
            scope.cancel()  # as in a nursery being torn down: the reset is shielded, but bounded
            await reset_quietly(StalledStream())
        assert trio.current_time() - started == pytest.approx(RESET_TIMEOUT_SECONDS)
    trio.run(scenario, clock=trio.testing.MockClock(autojump_threshold=0))


def test_a_write_that_stops_making_progress_fails():
    async def scenario():
        stream = StalledStream(writable_chunks=2)
        with pytest.raises(trio.TooSlowError):
            await write_bounded(stream, b"x" * (1024 * 1024))
        assert len(stream.written) == 2  # progress resets the clock; only a stall fails
        assert trio.current_time() == pytest.approx(WRITE_STALL_SECONDS)
    trio.run(scenario, clock=trio.testing.MockClock(autojump_threshold=0))


def test_warnings_are_limited_per_peer_and_message_and_count_what_was_held_back(caplog, monkeypatch):
    now = [100.0]
    monkeypatch.setattr("daemon.p2p.streams.time.monotonic", lambda: now[0])
    limiter = LogLimiter(logging.getLogger("tssnet.p2p.test"), interval=10.0)
    with caplog.at_level(logging.WARNING, logger="tssnet.p2p.test"):
        for _ in range(5):
            limiter.warning("peer-a", "bad frame from peer=%s", "peer-a")
        limiter.warning("peer-a", "refused hello from peer=%s", "peer-a")  # another message: own slot
        limiter.warning("peer-b", "bad frame from peer=%s", "peer-b")
        now[0] += 10.0
        limiter.warning("peer-a", "bad frame from peer=%s", "peer-a")
    assert [r.getMessage() for r in caplog.records] == [
        "bad frame from peer=peer-a",
        "refused hello from peer=peer-a",
        "bad frame from peer=peer-b",
        "bad frame from peer=peer-a (4 similar suppressed)",
    ]
