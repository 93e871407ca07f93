"""Who counts as a validator for sessions, indices and default players: the one source of truth.

Without a ledger the answer is the validator directory: every peer that joined by
hello (with the join secret, when one is set) is a member. With a ledger the answer
is the ledger's: the set voting on its next block, ``validators_at(height + 1)``,
which the ``LedgerNode`` hands over after every committed block. A peer that joined
by hello but that the ledger has not added is then only a *candidate*: it may hold a
transport link (to fetch blocks and to be reached) but is no member, so it is not
indexed in ``GET /validators``, not a default keygen player, and refused as a session
participant or coordinator, until the ``ValidatorSetTx`` adding it takes effect.

``ValidatorDirectory`` asks this object for every membership question, and so do the
things built over the directory (session admission, the mailbox, the node service).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ledger.config import ValidatorSet

log = logging.getLogger("tssnet.validators")

Listener = Callable[[], None]


class Membership:
    """Open (every known record is a member) until ``follow`` hands it a ledger's set."""

    __slots__ = ("_set", "height", "_listeners")

    def __init__(self) -> None:
        self._set: ValidatorSet | None = None
        self.height = 0
        self._listeners: list[Listener] = []

    @property
    def ledger_driven(self) -> bool:
        return self._set is not None

    @property
    def validators(self) -> ValidatorSet | None:
        """The ledger's current set, or None without a ledger."""
        return self._set

    def admits(self, peer_id: str) -> bool:
        """Whether a peer with a verified record is a member (every one without a ledger)."""
        return self._set is None or peer_id in self._set

    def key_of(self, peer_id: str) -> bytes | None:
        """A current ledger validator's identity key; None for anyone else or without a ledger."""
        return None if self._set is None else self._set.keys.get(peer_id)

    def follow(self, validators: ValidatorSet, height: int) -> None:
        """The ledger at ``height`` says ``validators`` vote on the next block."""
        changed = self._set is None or self._set.keys != validators.keys
        self._set, self.height = validators, height
        if changed:
            log.info("validator set from the ledger at height %d: %d members", height, len(validators))
            for listener in list(self._listeners):
                try:
                    listener()
                except Exception:
                    log.exception("a membership listener failed")

    def on_change(self, listener: Listener) -> None:
        """``listener()`` after every change of the ledger's set."""
        self._listeners.append(listener)
