"""The validator-change proposals a node holds, their limits and their persistence.

A proposal is one ``ValidatorChange`` (additions, removals, base, nonce) with the
approvals collected for it. The book holds at most ``MAX_PROPOSALS`` at once and at
most ``MAX_PER_APPROVER`` live ones first announced by any one validator (its *owner*
here), so no validator can fill every node's book; a proposal older than
``PROPOSAL_TTL`` seconds is forgotten, and so is one the ledger has made stale (see
``ledger.txs``: a committed change voids every approval gathered before it). When the
book is full, a new proposal takes the place of a committed or dead one, else (for an
operator's own proposal) of the oldest one this node has not approved. Each change is
persisted under ``validator-changes/<id>`` so a restart loses no approval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from daemon.errors import Conflict
from ledger.config import MAX_ID_BYTES, MAX_VALIDATORS
from ledger.txs import Approval, ValidatorChange, change_id
from protocol import wire
from protocol.errors import EncodingError

log = logging.getLogger("tssnet.validators")

STORE_PREFIX = "validator-changes/"
#: proposals held at once (pending, recently committed and dead)
MAX_PROPOSALS = 32
#: live (neither committed nor dead) proposals one validator may own in a book
MAX_PER_APPROVER = 4
#: seconds after which a proposal is forgotten, whatever became of it
PROPOSAL_TTL = 3600.0
MAX_ERROR_CHARS = 240


@wire.message(0x0592)
@dataclass(frozen=True, slots=True)
class ApprovalNote:
    """One validator's approval of one change, as gossiped (0x0590 was the note before
    changes carried a base; retired)."""

    chain_id: str = wire.field(wire.Str(128))
    change: ValidatorChange = wire.field(wire.Nested(ValidatorChange))
    approval: Approval = wire.field(wire.Nested(Approval))


@wire.message(0x0593)
@dataclass(frozen=True, slots=True)
class StoredProposal:
    """A proposal as persisted (0x0591 was the format before bases and owners; retired)."""

    change: ValidatorChange = wire.field(wire.Nested(ValidatorChange))
    approvals: tuple[Approval, ...] = wire.field(wire.Seq(wire.Nested(Approval), max_len=MAX_VALIDATORS))
    created_ms: int = wire.field(wire.UInt(2**63 - 1))
    owner: str = wire.field(wire.Str(MAX_ID_BYTES))
    submitted: bool = wire.field(wire.Bool())
    committed: bool = wire.field(wire.Bool())
    dead: bool = wire.field(wire.Bool())
    error: str = wire.field(wire.Str(4 * MAX_ERROR_CHARS))


@dataclass
class Proposal:
    change: ValidatorChange
    created_ms: int
    owner: str                          # the validator whose approval made this node hold it
    approvals: dict[str, Approval] = field(default_factory=dict)
    submitted: bool = False
    committed: bool = False
    dead: bool = False                  # the ledger can never take it: not retried
    error: str = ""
    submitted_height: int | None = None  # ledger height at the last submission (not persisted)

    @property
    def id(self) -> str:
        return change_id(self.change).hex()

    @property
    def live(self) -> bool:
        return not self.committed and not self.dead

    def stored(self) -> StoredProposal:
        approvals = tuple(self.approvals[k] for k in sorted(self.approvals))
        return StoredProposal(self.change, approvals, self.created_ms, self.owner, self.submitted,
                              self.committed, self.dead, self.error[:4 * MAX_ERROR_CHARS])

    @classmethod
    def from_stored(cls, stored: StoredProposal) -> Proposal:
        return cls(stored.change, stored.created_ms, stored.owner,
                   {a.validator: a for a in stored.approvals}, stored.submitted, stored.committed,
                   stored.dead, stored.error)


class ProposalBook:
    """The proposals held, persisted in ``store`` (every method that changes one persists it)."""

    def __init__(self, store, self_id: str, clock: Callable[[], float], ttl: float = PROPOSAL_TTL) -> None:
        self._store = store
        self._self = self_id
        self._clock = clock
        self._ttl = ttl
        self._proposals: dict[str, Proposal] = {}

    def __iter__(self) -> Iterator[Proposal]:
        return iter(list(self._proposals.values()))

    def __len__(self) -> int:
        return len(self._proposals)

    def get(self, proposal_id: str) -> Proposal | None:
        return self._proposals.get(proposal_id)

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def load(self) -> None:
        for key, value in await self._store.scan(STORE_PREFIX):
            try:
                proposal = Proposal.from_stored(wire.decode(value, StoredProposal))
            except EncodingError as exc:
                log.warning("dropped stored validator change %s: %s", key, exc)
                await self._store.write({}, [key])
                continue
            if key == STORE_PREFIX + proposal.id:
                self._proposals[proposal.id] = proposal

    async def hold(self, change: ValidatorChange, owner: str, *, local: bool) -> Proposal | None:
        """The proposal of ``change``, made (first approved by ``owner``) when new. None when a
        gossiped one finds no room; a local one that finds none is a Conflict."""
        found = self._proposals.get(change_id(change).hex())
        if found is not None:
            return found
        owned = sum(1 for p in self._proposals.values() if p.owner == owner and p.live)
        if owned >= MAX_PER_APPROVER:
            if local:
                raise Conflict(f"this node has {owned} validator changes pending already; withdraw "
                               "one (DELETE /v1/validators/changes/{id}) or wait", type="busy")
            log.warning("dropped a validator change first approved by %s: it has %d pending", owner, owned)
            return None
        if len(self._proposals) >= MAX_PROPOSALS and not await self._evict(local):
            if local:
                raise Conflict(f"{MAX_PROPOSALS} validator changes are pending already; approve one "
                               "of them or wait until they commit", type="busy")
            log.warning("dropped a validator change: %d proposals held already", MAX_PROPOSALS)
            return None
        proposal = Proposal(change, self.now_ms(), owner)
        self._proposals[proposal.id] = proposal
        return proposal

    async def _evict(self, local: bool) -> bool:
        ordered = sorted(self._proposals.values(), key=lambda p: p.created_ms)
        victim = next((p for p in ordered if not p.live), None)
        if victim is None and local:
            victim = next((p for p in ordered if self._self not in p.approvals), None)
        if victim is None:
            return False
        await self.forget(victim.id)
        return True

    async def forget(self, proposal_id: str) -> Proposal | None:
        proposal = self._proposals.pop(proposal_id, None)
        if proposal is not None:
            await self._store.write({}, [STORE_PREFIX + proposal_id])
        return proposal

    async def expire(self, change_count: int) -> None:
        """Forget proposals past their time, and live ones the ledger has made stale (approved
        at a base below ``change_count``: the chain moved on, fresh approvals are needed)."""
        horizon = self.now_ms() - int(self._ttl * 1000)
        for proposal in list(self._proposals.values()):
            if proposal.created_ms < horizon:
                log.info("validator change %s expired", proposal.id)
                await self.forget(proposal.id)
            elif proposal.live and proposal.change.base < change_count:
                log.info("validator change %s is stale (base %d, %d changes committed): dropped",
                         proposal.id, proposal.change.base, change_count)
                await self.forget(proposal.id)

    async def persist(self, proposal: Proposal) -> None:
        if self._proposals.get(proposal.id) is proposal:
            await self._store.write({STORE_PREFIX + proposal.id: wire.encode(proposal.stored())}, [])
