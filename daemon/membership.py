"""Who counts as a validator for sessions, indices and default players: the one source of truth.

Without a ledger the answer is the validator directory: every peer that joined by
hello (with the join secret, when one is set) is a member. With a ledger the answer
is the ledger's: the set voting on its next block, ``validators_at(height + 1)``,
which the ``LedgerNode`` hands over after every call into its replica. Members, their
indices and their identity keys then come from that set alone (its ids sorted, its
keys), whatever records the directory holds, so every node at one ledger height
derives the same indices. A peer that joined by hello but that the ledger has not
added is only a *candidate*: it may hold a transport link (to fetch blocks and to be
reached) but is no member, so it is not indexed in ``GET /validators``, not a default
keygen player, and refused as a session participant or coordinator, until the
``ValidatorSetTx`` adding it takes effect.

From the moment a ``LedgerNode`` is built until it has replayed its store, membership
is *closed*: ledger-driven, with no member at all, so no node is admitted on the
strength of the genesis set while the replayed chain may already have removed it.

Nodes at different ledger heights can disagree about membership for the few moments
around a change. A session proposal is judged by each participant against its own
ledger: a node that has applied a removal never admits the removed validator (as
coordinator, its proposals are dropped as not authentic; as a participant, the
proposal is refused with ``not_a_validator``), and a node that has not yet applied an
addition refuses the newcomer the same way. Both refusals are retryable: the
coordinator tries again once the ledgers agree (a change takes effect a fixed number of
blocks after its commit, so every honest node reaches the same set).
"""

from __future__ import annotations

import logging

from ledger.config import ValidatorSet

log = logging.getLogger("tssnet.validators")


class Membership:
    """Open (every known record is a member) until ``close`` or ``follow`` ties it to a ledger."""

    __slots__ = ("_set", "_known", "_ledger", "height")

    def __init__(self) -> None:
        self._set: ValidatorSet | None = None
        self._known: frozenset[str] = frozenset()
        self._ledger = False
        self.height = 0

    @property
    def ledger_driven(self) -> bool:
        return self._ledger

    @property
    def validators(self) -> ValidatorSet | None:
        """The ledger's current set, or None without a ledger (or before its replay)."""
        return self._set

    def admits(self, peer_id: str) -> bool:
        """Whether ``peer_id`` is a member: anyone with a verified record without a ledger;
        with one, exactly the validators of its current set (nobody while closed)."""
        if not self._ledger:
            return True
        return self._set is not None and peer_id in self._set

    def member_ids(self) -> tuple[str, ...] | None:
        """The ledger's validators sorted by id (position i is index i); None without a ledger."""
        if not self._ledger:
            return None
        return self._set.ids if self._set is not None else ()

    def key_of(self, peer_id: str) -> bytes | None:
        """A current ledger validator's identity key; None for anyone else or without a ledger."""
        return None if self._set is None else self._set.keys.get(peer_id)

    def is_ledger_validator(self, peer_id: str) -> bool:
        """A validator of the ledger's current set or of one it has scheduled (or, before the
        replay, of its genesis): a peer whose record a node must always hold."""
        return peer_id in self._known

    def close(self, known: frozenset[str] = frozenset()) -> None:
        """Admit nobody until the first ``follow``; ``known`` are the genesis validators."""
        self._ledger, self._set, self._known = True, None, frozenset(known)

    def follow(self, validators: ValidatorSet, height: int, scheduled: frozenset[str] = frozenset()) -> None:
        """The ledger at ``height`` says ``validators`` vote on the next block and ``scheduled``
        (a superset, with those a committed change will add) will or may."""
        changed = self._set is None or self._set.keys != validators.keys
        self._ledger, self._set, self.height = True, validators, height
        self._known = frozenset(validators.ids) | frozenset(scheduled)
        if changed:
            log.info("validator set from the ledger at height %d: %d members", height, len(validators))
