"""What a replica hands back to the code that drives it.

The replica does no I/O: every call returns the ``Outgoing`` messages to deliver,
and the caller reads ``timer`` to know which timer to (re)start. Drops of
harmless stale traffic are noted as ``Dropped``; provable misbehaviour is kept
as ``PeerMisbehaved`` evidence instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Outgoing:
    """``data`` (signed wire bytes) for validator ``to``, or for every other validator when None."""

    to: str | None
    data: bytes
    message: Any  # the decoded body, for logs and tests


@dataclass(frozen=True, slots=True)
class Timer:
    """Run a timer of ``seconds`` and call ``on_timeout(view)`` when it fires.

    A new ``token`` means: restart the timer, even if ``view`` is unchanged
    (for example after progress, PBFT restarts the timer of the next request).
    """

    view: int
    seconds: float
    token: int


@dataclass(frozen=True, slots=True)
class Dropped:
    """A message ignored without blame: stale, outside the window, or not yet checkable."""

    sender: str
    reason: str


class Drop(Exception):
    """Raised inside the replica to ignore a message; becomes a ``Dropped`` record."""
