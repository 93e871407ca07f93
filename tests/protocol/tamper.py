"""``corrupt`` hooks (see ``tests.protocol.simulator``) that rewrite one kind of message."""

from __future__ import annotations

from collections.abc import Callable

from protocol import wire
from protocol.errors import EncodingError
from protocol.group import Group
from protocol.machine import Outgoing

#: ``recipient`` for messages to anyone (party ids are positive; None is a broadcast)
ANY = -1


class Rewrite:
    """A ``corrupt`` hook: every outgoing ``cls`` message to ``recipient`` (None: the broadcasts;
    ``ANY``: every one) is sent as ``change(msg)``; every other message passes unchanged.
    ``fired`` counts the messages it changed: ``simulator.run`` fails a test whose hook
    never fired, since such a test would pass without checking anything."""

    def __init__(self, cls: type, change: Callable[[object], object], group: Group | None,
                 recipient: int | None) -> None:
        self.cls, self.change, self.group, self.recipient = cls, change, group, recipient
        self.fired = 0

    def __call__(self, o: Outgoing) -> list[Outgoing]:
        if self.recipient != ANY and o.recipient != self.recipient:
            return [o]
        try:
            msg = wire.decode(o.body, self.cls, self.group)
        except EncodingError:
            return [o]
        self.fired += 1
        return [Outgoing(o.round, o.recipient, wire.encode(self.change(msg), self.group))]


def rewrite(cls: type, change: Callable[[object], object], group: Group | None, *,
            recipient: int | None = ANY) -> Rewrite:
    """A ``Rewrite`` hook (see there)."""
    return Rewrite(cls, change, group, recipient)
