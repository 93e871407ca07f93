"""Bounded length-prefixed framing for messages on our direct streams (pure, no I/O).

A frame is a 4-byte big-endian length, then that many bytes of payload. The length
is checked against the limit as soon as the header arrives, so a peer cannot make us
buffer more than one frame's worth of bytes; an empty frame is malformed too.
"""

from __future__ import annotations

HEADER_BYTES = 4
#: Room above protocol.wire.MAX_MESSAGE_BYTES (8 MiB) for the session envelope.
DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024


class FrameError(ValueError):
    """A frame header is malformed or announces more bytes than allowed.

    ``complete`` holds the payloads that were whole before the bad header, in order.
    """

    def __init__(self, message: str, complete: list[bytes] | None = None) -> None:
        super().__init__(message)
        self.complete = complete or []


def _check_length(length: int, max_frame_bytes: int) -> None:
    if length == 0:
        raise FrameError("an empty frame is not allowed")
    if length > max_frame_bytes:
        raise FrameError(f"frame of {length} bytes exceeds the limit of {max_frame_bytes}")


def encode_frame(payload: bytes, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> bytes:
    """The frame carrying ``payload``; raises FrameError if it is empty or over the limit."""
    _check_length(len(payload), max_frame_bytes)
    return len(payload).to_bytes(HEADER_BYTES, "big") + payload


class FrameDecoder:
    """Turns a byte stream back into payloads, however the bytes were split.

    After a FrameError the decoder stays broken: the stream it reads must be closed,
    since nothing after a bad header can be trusted to start a frame.
    """

    __slots__ = ("max_frame_bytes", "_buffer", "_expected", "_broken")

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        if max_frame_bytes < 1 or max_frame_bytes >= 1 << (8 * HEADER_BYTES):
            raise ValueError("max_frame_bytes must fit the 4-byte header and be positive")
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()
        self._expected: int | None = None
        self._broken = False

    @property
    def pending(self) -> int:
        """Bytes received that do not yet form a whole frame (a partial frame at stream end)."""
        return len(self._buffer) + (HEADER_BYTES if self._expected is not None else 0)

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; returns every payload completed by them, in order.

        Raises FrameError at a bad header, with the payloads completed before it.
        """
        if self._broken:
            raise FrameError("the stream already carried a malformed frame")
        self._buffer += data
        frames = []
        while True:
            if self._expected is None:
                if len(self._buffer) < HEADER_BYTES:
                    return frames
                length = int.from_bytes(self._buffer[:HEADER_BYTES], "big")
                try:
                    _check_length(length, self.max_frame_bytes)
                except FrameError as exc:
                    self._broken = True
                    self._buffer.clear()
                    raise FrameError(str(exc), frames) from None
                del self._buffer[:HEADER_BYTES]
                self._expected = length
            if len(self._buffer) < self._expected:
                return frames
            frames.append(bytes(self._buffer[:self._expected]))
            del self._buffer[:self._expected]
            self._expected = None
