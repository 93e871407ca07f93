"""Small trio-side helpers for libp2p streams: bounded resets and writes, one-frame reads,
and warnings limited per peer so that a noisy peer cannot flood the log."""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import trio

from daemon.p2p.framing import FrameDecoder, FrameError

log = logging.getLogger("tssnet.p2p")

READ_CHUNK_BYTES = 256 * 1024
#: a reset is one small write; a peer that stops reading TCP must not hold us longer
RESET_TIMEOUT_SECONDS = 1.0
#: a write makes progress at least this often or the stream is given up
WRITE_STALL_SECONDS = 10.0
WRITE_CHUNK_BYTES = 256 * 1024


def peer_of(stream) -> str:
    return stream.muxed_conn.peer_id.to_base58()


def muxer_unread_bytes(stream) -> int:
    """Bytes yamux holds for ``stream`` that we have not read yet.

    py-libp2p's yamux keeps them in ``conn.stream_buffers`` and only logs a peer that
    sends past the window we granted, so this is the one place an overrun shows.
    """
    muxed = getattr(stream, "muxed_stream", None)
    buffers = getattr(getattr(muxed, "conn", None), "stream_buffers", None)
    if not isinstance(buffers, dict):
        return 0
    return len(buffers.get(getattr(muxed, "stream_id", None)) or b"")


async def reset_quietly(stream) -> None:
    """Reset ``stream`` even while cancelled, but give up after ``RESET_TIMEOUT_SECONDS``."""
    with trio.move_on_after(RESET_TIMEOUT_SECONDS, shield=True):
        try:
            await stream.reset()
        except Exception as exc:
            log.debug("stream reset failed: %s", type(exc).__name__)


async def write_bounded(stream, data: bytes) -> None:
    """Write ``data`` in chunks, each within ``WRITE_STALL_SECONDS`` (trio.TooSlowError otherwise)."""
    view = memoryview(data)
    for start in range(0, len(view), WRITE_CHUNK_BYTES):
        with trio.fail_after(WRITE_STALL_SECONDS):
            await stream.write(bytes(view[start:start + WRITE_CHUNK_BYTES]))


async def read_one_frame(stream, max_bytes: int) -> bytes:
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


async def wait_for_break(stream, scope: trio.CancelScope) -> None:
    """Our outgoing streams carry nothing back, so a read ends only when the stream breaks."""
    with contextlib.suppress(Exception):
        while await stream.read(READ_CHUNK_BYTES):
            pass
    scope.cancel()


class LogLimiter:
    """At most one warning per key (a peer id) and message per interval; the rest are
    counted and the count is reported with the next one. Safe to use from both threads."""

    def __init__(self, logger: logging.Logger, interval: float = 10.0, max_keys: int = 1024) -> None:
        self._log = logger
        self._interval = interval
        self._max_keys = max_keys
        self._last: dict[tuple[str, str], tuple[float, int]] = {}  # -> (logged at, suppressed since)
        self._lock = threading.Lock()

    def warning(self, key: str, message: str, *args) -> None:
        now = time.monotonic()
        slot = (key, message)
        with self._lock:
            logged_at, suppressed = self._last.get(slot, (-self._interval, 0))
            if now - logged_at < self._interval:
                self._last[slot] = (logged_at, suppressed + 1)
                return
            self._last.pop(slot, None)
            if len(self._last) >= self._max_keys:  # forget the oldest first
                self._last.pop(next(iter(self._last)))
            self._last[slot] = (now, 0)
        if suppressed:
            message += " (%d similar suppressed)"
            args = (*args, suppressed)
        self._log.warning(message, *args)
