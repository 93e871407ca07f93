"""Decoding bytes that may hold any of several registered messages.

``wire.decode`` needs to be told which class to expect. The ledger receives
several kinds on one channel, so it reads the type id from the header first and
then lets ``wire.decode`` do the full strict decoding of that class.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgpack

from protocol import wire
from protocol.errors import EncodingError


def peek_type_id(data: bytes) -> int:
    """The type id in a wire message's ``[version, type_id, suite, ...]`` header."""
    if not isinstance(data, bytes):
        raise EncodingError("expected bytes")
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=max(len(data), 1))
    unpacker.feed(data)
    try:
        if unpacker.read_array_header() < 3:
            raise EncodingError("message shorter than its header")
        unpacker.skip()  # the version; wire.decode checks it
        type_id = unpacker.unpack()
    except (msgpack.UnpackException, ValueError, TypeError, StopIteration):
        raise EncodingError("not a wire message") from None
    if not isinstance(type_id, int) or isinstance(type_id, bool):
        raise EncodingError("type id is not an integer")
    return type_id


class OneOf:
    """A decoder for bytes holding exactly one of the given message classes."""

    __slots__ = ("_classes",)

    def __init__(self, classes: Iterable[type]) -> None:
        self._classes = {cls.__wire_type_id__: cls for cls in classes}

    def decode(self, data: bytes) -> Any:
        cls = self._classes.get(peek_type_id(data))
        if cls is None:
            raise EncodingError("unexpected message type")
        return wire.decode(data, cls)
