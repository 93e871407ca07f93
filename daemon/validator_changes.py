"""Validator-set changes: proposed by operators, approved by validators, submitted to the ledger.

An operator asks its node (``POST /v1/validators/changes``) to add peers that joined by
hello (candidates) and to remove validators. The node signs its approval of the change
(``ledger.txs.sign_approval``: the ledger's identity signature over chain id, genesis
hash, the change, its base and nonce) and announces it on gossipsub; an approval is
small. The base is the number of changes the ledger has committed: a change commits
only at its base, so any committed change voids every approval gathered before it.

Every node collects the approvals of each proposal (``daemon.validator_proposals``
bounds and persists them): only from current ledger validators, each signature
checked, only for changes the ledger has not committed or made stale. A node holding
approvals from a quorum of the current set first asks its ledger for a dry run of the
change (``LedgerNode.judge_change``, the ledger's own rules but the approvals): a change
it can never take (stale, or refused by the rules at its base, which only another
committed change can alter, and that makes it stale) is marked dead and never retried;
a change at a base this node's ledger has not reached yet (it lags a block or more
behind the approvers) waits and is tried again after each commit; otherwise it submits
the ``ValidatorSetTx``. Several nodes doing so is harmless: the ledger commits one change
(its ``change_id``) once and its mempool holds it once. A submission whose change is
neither committed nor pending (under any approvals) ``RESUBMIT_BLOCKS`` blocks later is
made again. An added validator's id must be the peer id of its key.

Operators of other validators approve the same proposal by posting the same additions
and removals with its nonce (``GET /v1/validators/changes`` lists the pending ones);
``DELETE /v1/validators/changes/{id}`` withdraws a proposal from this node (it stops
announcing and submitting it; approvals other nodes hold stay theirs). Approvals are
announced again every ``announce_interval`` seconds until the change commits, so a
node that was down or missed the gossip still collects them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time

from daemon.errors import BadRequest, Conflict, NodeError, NotFound
from daemon.identity import NodeIdentity
from daemon.ledger_node import LedgerNode
from daemon.ledger_wire import ReplicaSigner, added_id_problem
from daemon.p2p.transport import Transport, TransportError
from daemon.tasks import cancel_and_wait
from daemon.validator_proposals import (
    MAX_ERROR_CHARS,
    ApprovalNote,
    Proposal,
    ProposalBook,
)
from daemon.validators import ValidatorDirectory
from ledger.codec import peek_type_id
from ledger.config import Validator
from ledger.crypto import Verifier
from ledger.messages import CommittedBlock
from ledger.txs import (
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

TOPIC = "tssnet/validator-approvals/2"
DEFAULT_NONCE_BYTES = 16
ANNOUNCE_INTERVAL = 15.0
#: blocks after a submission before a change neither committed nor pending is submitted again
RESUBMIT_BLOCKS = 4
#: a note holds one change (at most 64 additions of ~180 bytes) and one approval
MAX_NOTE_BYTES = 32 * 1024


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
        self._verifier = Verifier(ledger.chain_id)
        self._announce_interval = announce_interval
        self._book = ProposalBook(store, identity.peer_id, clock)
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []
        self.peer_id = identity.peer_id

    # --- life cycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Load the persisted proposals, follow the ledger's commits and the gossip."""
        await self._book.load()
        # Registered before the ledger is asked, so no commit falls between the two.
        self._ledger.on_commit(self._on_commit)
        pending = {bytes.fromhex(p.id): p for p in self._book if p.live}
        for cid in await self._ledger.committed_changes(tuple(pending)):
            pending[cid].committed = True
            await self._book.persist(pending[cid])
        await self._book.expire(self._ledger.change_count)
        for proposal in self._book:
            if proposal.live:
                await self._submit_if_ready(proposal, again=True)
        await self._transport.subscribe(TOPIC, self._on_note)
        self._tasks.append(asyncio.get_running_loop().create_task(self._announce_loop(),
                                                                  name="validator-approvals"))

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks.clear()

    # --- the operator's side ---------------------------------------------------------

    async def propose(self, add: list[str], remove: list[str], nonce: bytes | None) -> dict:
        """Approve (and propose, when new) the change; its view. BadRequest for a change the
        ledger would refuse, Conflict when this node is no validator or has no room for it."""
        if self._membership.validators is None:
            raise Conflict("this node runs no ledger", type="ledger_disabled")
        if self._membership.key_of(self.peer_id) is None:
            raise Conflict("this node is not a validator of the ledger now: it cannot approve "
                           "validator changes", type="not_a_validator")
        change = await self._change_of(add, remove, nonce)
        approval = sign_approval(self._signer, self._ledger.chain_id, self._ledger.genesis_hash, change)
        async with self._lock:
            proposal = await self._book.hold(change, self.peer_id, local=True)
            proposal.approvals[self.peer_id] = approval
            await self._book.persist(proposal)
        log.info("approved validator change %s (add %s, remove %s, base %d)", proposal.id,
                 [v.id for v in change.add], list(change.remove), change.base)
        await self._announce(change, approval)
        await self._submit_if_ready(proposal)
        return self.view(proposal)

    async def _change_of(self, add: list[str], remove: list[str], nonce: bytes | None) -> ValidatorChange:
        """The change at the ledger's current base, judged by the ledger's own rules (all but
        the approvals); BadRequest for anything it would refuse, Conflict when committed."""
        if nonce is None:
            nonce = secrets.token_bytes(DEFAULT_NONCE_BYTES)
        if not isinstance(nonce, bytes) or not 1 <= len(nonce) <= MAX_NONCE_BYTES:
            raise BadRequest(f"a nonce is 1 to {MAX_NONCE_BYTES} bytes")
        added = []
        for peer in add:
            record = self._directory.get(peer)
            if record is None:
                raise BadRequest(f"{peer[:64]!r} has no verified record here: a peer joins by hello "
                                 "(as a candidate) before it can be added")
            added.append(Validator(peer, record.identity_key))
        change = ValidatorChange(tuple(sorted(added, key=lambda v: v.id)), tuple(sorted(remove)),
                                 self._ledger.change_count, nonce)
        verdict = await self._ledger.judge_change(change)
        if verdict is not None and verdict[0] == "committed":
            raise Conflict("this change with this nonce is committed already; use a new nonce",
                           type="transaction_exists")
        if verdict is not None:
            raise BadRequest(verdict[1])
        return change

    def list(self) -> list[dict]:
        """Every proposal held, oldest first."""
        ordered = sorted(self._book, key=lambda p: (p.created_ms, p.id))
        return [self.view(p) for p in ordered]

    async def withdraw(self, proposal_id: str) -> dict:
        """Forget a proposal on this node (it stops announcing and submitting it); its last view."""
        async with self._lock:
            proposal = await self._book.forget(proposal_id)
        if proposal is None:
            raise NotFound(f"no validator change {proposal_id[:64]!r} is held here")
        log.info("validator change %s withdrawn by this node's operator", proposal_id)
        return self.view(proposal)

    def view(self, proposal: Proposal) -> dict:
        vset = self._membership.validators
        return {"id": proposal.id, "add": [v.id for v in proposal.change.add],
                "remove": list(proposal.change.remove), "nonce": proposal.change.nonce.hex(),
                "base": proposal.change.base, "approvers": sorted(proposal.approvals),
                "quorum": vset.quorum if vset is not None else 0,
                "submitted": proposal.submitted, "committed": proposal.committed,
                "dead": proposal.dead, "created_at": proposal.created_ms / 1000,
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
        cid = change_id(note.change)
        async with self._lock:
            proposal = self._book.get(cid.hex())
            if proposal is None:
                if await self._ledger.committed_changes((cid,)):
                    return   # an announcement that outlived its change's commit
                proposal = await self._book.hold(note.change, note.approval.validator, local=False)
                if proposal is None:
                    return
            if not proposal.live or proposal.approvals.get(note.approval.validator) == note.approval:
                return
            proposal.approvals[note.approval.validator] = note.approval
            await self._book.persist(proposal)
        log.info("validator change %s: approval by %s (%d so far)", proposal.id, note.approval.validator,
                 len(proposal.approvals))
        await self._submit_if_ready(proposal)

    def _problem(self, note: ApprovalNote) -> str:
        vset = self._membership.validators
        if note.chain_id != self._ledger.chain_id:
            return f"for chain {note.chain_id!r}"
        if vset is None or note.approval.validator not in vset:
            return f"{note.approval.validator!r} is not a current validator"
        if note.change.base < self._ledger.change_count:
            return f"approved at base {note.change.base}: stale, the ledger has moved on"
        if not approval_valid(self._verifier, vset, self._ledger.genesis_hash, note.change, note.approval):
            return f"the approval by {note.approval.validator} does not verify"
        try:
            check_validator_change(ValidatorSetTx.of(note.change))
        except InvalidTransaction as exc:
            return f"the change is malformed: {exc}"
        problem = added_id_problem(note.change)
        return f"the change is malformed: {problem}" if problem else ""

    # --- submitting and following the ledger --------------------------------------------

    async def _submit_if_ready(self, proposal: Proposal, *, again: bool = False) -> None:
        """Submit the change once approvals from a quorum of the current set are in (``again``:
        even if it was submitted before, as after a restart, which may have lost the mempools)."""
        vset = self._membership.validators
        if not proposal.live or vset is None or (proposal.submitted and not again):
            return
        approvals = tuple(proposal.approvals[k] for k in sorted(proposal.approvals) if k in vset)
        if len(approvals) < vset.quorum:
            return
        verdict = await self._ledger.judge_change(proposal.change)
        if verdict is not None and verdict[0] == "wait":
            # This node lags behind the approvers: tried again after its next commit.
            log.info("validator change %s waits for this node's ledger to catch up: %s", proposal.id, verdict[1])
            return
        if verdict is not None:
            await self._settle(proposal, *verdict)
            return
        tx = ValidatorSetTx.of(proposal.change, approvals)
        try:
            receipt = await self._ledger.submit(tx)
        except NodeError as exc:
            if exc.type == "transaction_exists":
                await self._settle(proposal, "committed", exc.message)
                return
            proposal.error = exc.message[:MAX_ERROR_CHARS]   # approvals judged at another height
            log.warning("validator change %s was not submitted: %s", proposal.id, exc.message)
        else:
            proposal.submitted, proposal.error = True, ""
            proposal.submitted_height = self._ledger.status().height
            log.info("validator change %s submitted with %d approvals as transaction %s", proposal.id,
                     len(approvals), receipt.tx_hash)
        await self._book.persist(proposal)

    async def _settle(self, proposal: Proposal, verdict: str, reason: str) -> None:
        """The ledger's final word on a proposal: committed, or dead (never retried)."""
        if verdict == "committed":
            proposal.committed, proposal.error = True, ""
        else:
            proposal.dead, proposal.error = True, reason[:MAX_ERROR_CHARS]
            log.warning("validator change %s can never commit: %s", proposal.id, reason)
        await self._book.persist(proposal)

    async def _on_commit(self, committed: CommittedBlock) -> None:
        for data in committed.block.txs:
            if peek_type_id(data) != ValidatorSetTx.__wire_type_id__:
                continue
            proposal = self._book.get(change_id(decode_tx(data).change()).hex())
            if proposal is not None and proposal.live:
                await self._settle(proposal, "committed", "")
                log.info("validator change %s committed at height %d", proposal.id,
                         committed.block.height)
        async with self._lock:
            await self._book.expire(self._ledger.change_count)
        height = committed.block.height
        for proposal in list(self._book):
            if not proposal.live:
                continue
            if not proposal.submitted:
                await self._submit_if_ready(proposal)    # one that waited for this node to catch up
            elif (proposal.submitted_height is not None and height - proposal.submitted_height >= RESUBMIT_BLOCKS
                    and not await self._ledger.pending(change_id(proposal.change))):
                # Pending is asked by change id: the mempool may hold the change under other approvals.
                log.info("validator change %s neither committed nor pending: submitting it again",
                         proposal.id)
                await self._submit_if_ready(proposal, again=True)

    async def _announce_loop(self) -> None:
        while True:
            await asyncio.sleep(self._announce_interval)
            async with self._lock:
                await self._book.expire(self._ledger.change_count)
            for proposal in self._book:
                if not proposal.live:
                    continue
                try:
                    own = proposal.approvals.get(self.peer_id)
                    if own is not None:
                        await self._announce(proposal.change, own)
                    if not proposal.submitted:
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
