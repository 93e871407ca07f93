"""Validator-set changes: proposed by operators, approved by validators, submitted to the ledger.

An operator asks its node (``POST /v1/validators/changes``) to add peers that joined by
hello (candidates) and to remove validators. The node signs its approval of the change
(``ledger.txs.sign_approval``: the ledger's identity signature over chain id, change and
nonce) and announces it on gossipsub; an approval is small. Every node collects the
approvals of each proposal: only from current ledger validators, each signature checked,
at most ``MAX_PROPOSALS`` proposals at once, all persisted under ``validator-changes/``
so a restart loses none. A node holding approvals from a quorum of the current set
submits the ``ValidatorSetTx``; several nodes doing so is harmless, since the ledger
commits one change (its ``change_id``) once.

Operators of other validators approve the same proposal by posting the same additions
and removals with its nonce (``GET /v1/validators/changes`` lists the pending ones).
Approvals are announced again every ``announce_interval`` seconds until the change
commits, so a node that was down or missed the gossip still collects them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field

from daemon.errors import BadRequest, Conflict, NodeError
from daemon.identity import NodeIdentity
from daemon.ledger_node import LedgerNode
from daemon.ledger_wire import ReplicaSigner
from daemon.p2p.transport import Transport, TransportError
from daemon.tasks import cancel_and_wait
from daemon.validators import ValidatorDirectory
from ledger.codec import peek_type_id
from ledger.config import MAX_VALIDATORS, MIN_VALIDATORS, Validator
from ledger.crypto import Verifier
from ledger.messages import CommittedBlock
from ledger.txs import (
    MAX_CHANGE_ITEMS,
    MAX_NONCE_BYTES,
    Approval,
    InvalidTransaction,
    ValidatorChange,
    ValidatorSetTx,
    approval_valid,
    change_id,
    check_validator_change,
    decode_tx,
    sign_approval,
)
from protocol import wire
from protocol.errors import EncodingError

log = logging.getLogger("tssnet.validators")

TOPIC = "tssnet/validator-approvals/1"
STORE_PREFIX = "validator-changes/"
#: proposals held at once (pending and recently committed)
MAX_PROPOSALS = 32
DEFAULT_NONCE_BYTES = 16
ANNOUNCE_INTERVAL = 15.0
MAX_ERROR_CHARS = 240
#: a note holds one change (at most 64 additions of ~180 bytes) and one approval
MAX_NOTE_BYTES = 32 * 1024


@wire.message(0x0590)
@dataclass(frozen=True, slots=True)
class ApprovalNote:
    """One validator's approval of one change, as gossiped."""

    chain_id: str = wire.field(wire.Str(128))
    change: ValidatorChange = wire.field(wire.Nested(ValidatorChange))
    approval: Approval = wire.field(wire.Nested(Approval))


@wire.message(0x0591)
@dataclass(frozen=True, slots=True)
class StoredProposal:
    change: ValidatorChange = wire.field(wire.Nested(ValidatorChange))
    approvals: tuple[Approval, ...] = wire.field(wire.Seq(wire.Nested(Approval), max_len=MAX_VALIDATORS))
    created_ms: int = wire.field(wire.UInt(2**63 - 1))
    submitted: bool = wire.field(wire.Bool())
    committed: bool = wire.field(wire.Bool())
    error: str = wire.field(wire.Str(4 * MAX_ERROR_CHARS))


@dataclass
class Proposal:
    change: ValidatorChange
    created_ms: int
    approvals: dict[str, Approval] = field(default_factory=dict)
    submitted: bool = False
    committed: bool = False
    error: str = ""

    @property
    def id(self) -> str:
        return change_id(self.change).hex()

    def stored(self) -> StoredProposal:
        approvals = tuple(self.approvals[k] for k in sorted(self.approvals))
        return StoredProposal(self.change, approvals, self.created_ms, self.submitted, self.committed,
                              self.error)


class ValidatorChanges:
    """The approvals this node collects, its own approvals, and the submissions they lead to."""

    def __init__(self, *, ledger: LedgerNode, directory: ValidatorDirectory, identity: NodeIdentity,
                 transport: Transport, store, announce_interval: float = ANNOUNCE_INTERVAL,
                 clock=time.time) -> None:
        self._ledger = ledger
        self._directory = directory
        self._membership = ledger.membership
        self._signer = ReplicaSigner(identity.peer_id, identity.signer())
        self._transport = transport
        self._store = store
        self._verifier = Verifier(ledger.chain_id)
        self._announce_interval = announce_interval
        self._clock = clock
        self._proposals: dict[str, Proposal] = {}
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []
        self.peer_id = identity.peer_id

    # --- life cycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Load the persisted proposals, follow the gossip and the ledger's commits."""
        for key, value in await self._store.scan(STORE_PREFIX):
            try:
                stored = wire.decode(value, StoredProposal)
            except EncodingError as exc:
                log.warning("dropped stored validator change %s: %s", key, exc)
                continue
            proposal = Proposal(stored.change, stored.created_ms,
                                {a.validator: a for a in stored.approvals}, stored.submitted,
                                stored.committed, stored.error)
            if key == STORE_PREFIX + proposal.id:
                self._proposals[proposal.id] = proposal
        pending = {bytes.fromhex(p.id): p for p in self._proposals.values() if not p.committed}
        for cid in await self._ledger.committed_changes(tuple(pending)):
            pending[cid].committed = True
            await self._persist(pending[cid])
        for proposal in pending.values():
            if not proposal.committed:
                await self._submit_if_ready(proposal, again=True)
        self._ledger.on_commit(self._on_commit)
        await self._transport.subscribe(TOPIC, self._on_note)
        self._tasks.append(asyncio.get_running_loop().create_task(self._announce_loop(),
                                                                  name="validator-approvals"))

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks.clear()

    # --- the operator's side ---------------------------------------------------------

    async def propose(self, add: list[str], remove: list[str], nonce: bytes | None) -> dict:
        """Approve (and propose, when new) the change; its view. BadRequest for bad input,
        Conflict when this node is no validator or the change cannot be held now."""
        change = self._change_of(add, remove, nonce)
        if self._membership.key_of(self.peer_id) is None:
            raise Conflict("this node is not a validator of the ledger now: it cannot approve "
                           "validator changes", type="not_a_validator")
        cid = change_id(change)
        if await self._ledger.committed_changes((cid,)):
            raise Conflict("this change with this nonce is committed already; use a new nonce",
                           type="transaction_exists")
        approval = sign_approval(self._signer, self._ledger.chain_id, change)
        async with self._lock:
            proposal = self._proposals.get(cid.hex())
            if proposal is None:
                proposal = await self._make_room_for(Proposal(change, int(self._clock() * 1000)),
                                                     local=True)
            proposal.approvals[self.peer_id] = approval
            await self._persist(proposal)
        log.info("approved validator change %s (add %s, remove %s)", proposal.id,
                 [v.id for v in change.add], list(change.remove))
        await self._announce(change, approval)
        await self._submit_if_ready(proposal)
        return self.view(proposal)

    def _change_of(self, add: list[str], remove: list[str], nonce: bytes | None) -> ValidatorChange:
        """The change as the ledger will judge it; BadRequest for anything it would refuse."""
        vset = self._membership.validators
        if vset is None:
            raise Conflict("this node runs no ledger", type="ledger_disabled")
        for name, ids in (("add", add), ("remove", remove)):
            if not isinstance(ids, list | tuple) or len(ids) > MAX_CHANGE_ITEMS:
                raise BadRequest(f"{name} is a list of at most {MAX_CHANGE_ITEMS} peer ids")
            if any(not isinstance(p, str) or not p for p in ids):
                raise BadRequest(f"{name} holds peer ids (non-empty strings)")
        if not add and not remove:
            raise BadRequest("a change adds or removes at least one validator")
        if len(set(add) | set(remove)) != len(add) + len(remove):
            raise BadRequest("a peer id appears twice in the change")
        if nonce is None:
            nonce = secrets.token_bytes(DEFAULT_NONCE_BYTES)
        if not isinstance(nonce, bytes) or not 1 <= len(nonce) <= MAX_NONCE_BYTES:
            raise BadRequest(f"a nonce is 1 to {MAX_NONCE_BYTES} bytes")
        added = []
        for peer in add:
            record = self._directory.get(peer)
            if peer in vset:
                raise BadRequest(f"{peer} is a validator already")
            if record is None:
                raise BadRequest(f"{peer[:64]!r} has no verified record here: a peer joins by hello "
                                 "(as a candidate) before it can be added")
            added.append(Validator(peer, record.identity_key))
        for peer in remove:
            if peer not in vset:
                raise BadRequest(f"{peer[:64]!r} is not a validator, so it cannot be removed")
        remaining = len(vset) + len(add) - len(remove)
        if remaining < MIN_VALIDATORS:
            raise BadRequest(f"the change would leave {remaining} validators; the ledger needs "
                             f"at least {MIN_VALIDATORS}")
        if 2 * len(remove) >= len(vset):
            raise BadRequest("a change may not remove half or more of the validators at once")
        change = ValidatorChange(tuple(sorted(added, key=lambda v: v.id)), tuple(sorted(remove)), nonce)
        try:
            check_validator_change(ValidatorSetTx(change.add, change.remove, change.nonce, ()))
        except InvalidTransaction as exc:
            raise BadRequest(str(exc)) from None
        return change

    def list(self) -> list[dict]:
        """Every proposal held, oldest first."""
        ordered = sorted(self._proposals.values(), key=lambda p: (p.created_ms, p.id))
        return [self.view(p) for p in ordered]

    def view(self, proposal: Proposal) -> dict:
        vset = self._membership.validators
        return {"id": proposal.id, "add": [v.id for v in proposal.change.add],
                "remove": list(proposal.change.remove), "nonce": proposal.change.nonce.hex(),
                "approvers": sorted(proposal.approvals),
                "quorum": vset.quorum if vset is not None else 0,
                "submitted": proposal.submitted, "committed": proposal.committed,
                "created_at": proposal.created_ms / 1000,
                **({"error": proposal.error} if proposal.error else {})}

    # --- approvals from the network ----------------------------------------------------

    async def _on_note(self, sender: str, data: bytes) -> None:
        try:
            note = wire.decode(data, ApprovalNote, max_size=MAX_NOTE_BYTES)
        except EncodingError as exc:
            log.warning("malformed validator approval from %s: %s", sender, exc)
            return
        try:
            await self._take(note, sender)
        except Exception:
            log.exception("validator approval from %s failed", sender)

    async def _take(self, note: ApprovalNote, sender: str) -> None:
        problem = self._problem(note)
        if problem:
            log.warning("refused a validator approval relayed by %s: %s", sender, problem)
            return
        cid = change_id(note.change).hex()
        async with self._lock:
            proposal = self._proposals.get(cid)
            if proposal is None:
                proposal = await self._make_room_for(Proposal(note.change, int(self._clock() * 1000)),
                                                     local=False)
                if proposal is None:
                    log.warning("dropped approval of validator change %s: %d proposals held already",
                                cid, MAX_PROPOSALS)
                    return
            if proposal.approvals.get(note.approval.validator) == note.approval:
                return
            proposal.approvals[note.approval.validator] = note.approval
            await self._persist(proposal)
        log.info("validator change %s: approval by %s (%d so far)", cid, note.approval.validator,
                 len(proposal.approvals))
        await self._submit_if_ready(proposal)

    def _problem(self, note: ApprovalNote) -> str:
        vset = self._membership.validators
        if note.chain_id != self._ledger.chain_id:
            return f"for chain {note.chain_id!r}"
        if vset is None or note.approval.validator not in vset:
            return f"{note.approval.validator!r} is not a current validator"
        if not approval_valid(self._verifier, vset, note.change, note.approval):
            return f"the approval by {note.approval.validator} does not verify"
        try:
            check_validator_change(ValidatorSetTx(note.change.add, note.change.remove,
                                                  note.change.nonce, ()))
        except InvalidTransaction as exc:
            return f"the change is malformed: {exc}"
        return ""

    async def _make_room_for(self, proposal: Proposal, *, local: bool) -> Proposal | None:
        """Hold ``proposal``, evicting a committed one, else (for a local proposal) the oldest
        one this node has not approved; a local proposal that finds no room is a Conflict."""
        if len(self._proposals) >= MAX_PROPOSALS:
            ordered = sorted(self._proposals.values(), key=lambda p: p.created_ms)
            victim = next((p for p in ordered if p.committed), None)
            if victim is None and local:
                victim = next((p for p in ordered if self.peer_id not in p.approvals), None)
            if victim is None:
                if local:
                    raise Conflict(f"{MAX_PROPOSALS} validator changes are pending already; "
                                   "approve one of them or wait until they commit", type="busy")
                return None
            del self._proposals[victim.id]
            await self._store.write({}, [STORE_PREFIX + victim.id])
        self._proposals[proposal.id] = proposal
        return proposal

    # --- submitting and following the ledger --------------------------------------------

    async def _submit_if_ready(self, proposal: Proposal, *, again: bool = False) -> None:
        """Submit the change once approvals from a quorum of the current set are in (``again``:
        even if it was submitted before, as after a restart, which may have lost the mempools)."""
        vset = self._membership.validators
        if proposal.committed or vset is None or (proposal.submitted and not again):
            return
        approvals = tuple(proposal.approvals[k] for k in sorted(proposal.approvals) if k in vset)
        if len(approvals) < vset.quorum:
            return
        change = proposal.change
        tx = ValidatorSetTx(change.add, change.remove, change.nonce, approvals)
        try:
            receipt = await self._ledger.submit(tx)
        except NodeError as exc:
            if exc.type == "transaction_exists":
                proposal.submitted = True
            else:
                proposal.error = exc.message[:MAX_ERROR_CHARS]
                log.warning("validator change %s was not submitted: %s", proposal.id, exc.message)
        else:
            proposal.submitted, proposal.error = True, ""
            log.info("validator change %s submitted with %d approvals as transaction %s", proposal.id,
                     len(approvals), receipt.tx_hash)
        await self._persist(proposal)

    async def _on_commit(self, committed: CommittedBlock) -> None:
        for data in committed.block.txs:
            if peek_type_id(data) != ValidatorSetTx.__wire_type_id__:
                continue
            tx = decode_tx(data)
            proposal = self._proposals.get(change_id(tx.change()).hex())
            if proposal is not None and not proposal.committed:
                proposal.committed, proposal.error = True, ""
                await self._persist(proposal)
                log.info("validator change %s committed at height %d", proposal.id,
                         committed.block.height)

    async def _announce_loop(self) -> None:
        while True:
            await asyncio.sleep(self._announce_interval)
            for proposal in list(self._proposals.values()):
                if proposal.committed:
                    continue
                try:
                    own = proposal.approvals.get(self.peer_id)
                    if own is not None:
                        await self._announce(proposal.change, own)
                    await self._submit_if_ready(proposal)
                except Exception:
                    log.exception("validator change %s: announcing or submitting failed", proposal.id)

    async def _announce(self, change: ValidatorChange, approval: Approval) -> None:
        note = ApprovalNote(self._ledger.chain_id, change, approval)
        try:
            await self._transport.publish(TOPIC, wire.encode(note))
        except (TransportError, OSError, ValueError) as exc:
            log.warning("could not announce an approval of validator change %s: %s",
                        change_id(change).hex(), exc)

    async def _persist(self, proposal: Proposal) -> None:
        await self._store.write({STORE_PREFIX + proposal.id: wire.encode(proposal.stored())}, [])
