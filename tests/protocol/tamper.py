"""``corrupt`` hooks (see ``tests.protocol.simulator``) that rewrite one kind of message."""

from __future__ import annotations

from collections.abc import Callable

from protocol import wire
from protocol.errors import EncodingError
from protocol.group import Group
from protocol.machine import Outgoing

#: ``recipient`` for messages to anyone (party ids are positive; None is a broadcast)
ANY = -1


def rewrite(cls: type, change: Callable[[object], object], group: Group | None, *,
            recipient: int | None = ANY) -> Callable[[Outgoing], list[Outgoing]]:
    """A ``corrupt`` hook: every outgoing ``cls`` message to ``recipient`` (None: the broadcasts;
    ``ANY``: every one) is sent as ``change(msg)``; every other message passes unchanged."""
    def corrupt(o: Outgoing) -> list[Outgoing]:
        if recipient != ANY and o.recipient != recipient:
            return [o]
        try:
            msg = wire.decode(o.body, cls, group)
        except EncodingError:
            return [o]
        return [Outgoing(o.round, o.recipient, wire.encode(change(msg), group))]
    return corrupt
