"""PBFT's normal case: pre-prepare, prepare, commit, and execution in order.

Mixed into ``Replica``; it uses the replica's ``state``, ``log``, ``votes``,
``mempool``, ``checkpoints``, ``view`` / ``changing`` and the shared helpers.

Sequence numbers are block heights, and a replica votes on height s only once it
has executed s-1 (so it can check the block against its own chain tip). The
primary proposes s+1 once s is executed: one block is in flight, and batching
many transactions per block is what gives throughput.

A block executes once a quorum of commits for one (view, seq, digest) is in,
whatever the view: those signed commits form its certificate, which is stored
with it and is what state transfer later hands to others.
"""

from __future__ import annotations

from ledger.block import make_block
from ledger.events import Drop, Dropped
from ledger.log import Proposal
from ledger.messages import (
    COMMIT,
    PREPARE,
    PREPREPARE,
    Commit,
    CommitCertificate,
    Prepare,
    PreparedProof,
    PrePrepare,
    TxBatch,
)
from ledger.txs import InvalidTransaction
from protocol.errors import EncodingError, InvalidProof

# Votes this many views from ours are kept (ahead: for when we get there); further ones are dropped.
MAX_VIEWS_AHEAD = 8


class Agreement:
    # --- inputs ------------------------------------------------------------------

    def _on_txs(self, sender: str, msg: TxBatch, raw: bytes) -> None:
        refused = 0
        for data in msg.txs:
            try:
                self._admit(data)
            except (InvalidTransaction, EncodingError):
                refused += 1  # the state may differ between replicas: not blame
        if refused:
            self.dropped.append(Dropped(sender, f"{refused} forwarded transactions refused"))
        self._progress()

    def _on_preprepare(self, sender: str, pp: PrePrepare, raw: bytes) -> None:
        vset = self._check_seq(sender, pp.seq)
        if sender != vset.primary(pp.view) or pp.block.height != pp.seq:
            raise InvalidProof("pre-prepare", "not from the view's primary, or for another height")
        self._check_view(pp.view)
        digest = pp.block.hash()
        earlier = self.log.add_proposal(Proposal(pp.view, pp.seq, pp.block, digest, raw))
        if earlier is not None:
            self._blame(sender, f"two pre-prepares for view {pp.view} seq {pp.seq}", earlier, raw)
            if pp.view == self.view and not self.changing:
                self._start_view_change(self.view + 1)
            return
        self._progress()

    def _on_prepare(self, sender: str, msg: Prepare, raw: bytes) -> None:
        vset = self._check_seq(sender, msg.seq)
        if sender == vset.primary(msg.view):
            raise InvalidProof("prepare", "the primary of a view does not prepare")
        self._check_view(msg.view)
        self._add_vote(sender, PREPARE, msg, raw)

    def _on_commit(self, sender: str, msg: Commit, raw: bytes) -> None:
        self._check_seq(sender, msg.seq)
        # Commits of recent earlier views still certify a block, so they are kept.
        if abs(msg.view - self.view) > MAX_VIEWS_AHEAD:
            raise Drop(f"commit for view {msg.view}, far from ours")
        self._add_vote(sender, COMMIT, msg, raw)

    def _add_vote(self, sender: str, phase: int, msg, raw: bytes) -> None:
        earlier = self.log.add_vote(phase, msg.view, msg.seq, sender, msg.digest, raw)
        if earlier is not None:
            self._blame(sender, f"conflicting votes for view {msg.view} seq {msg.seq}", earlier, raw)
            return
        self._progress()

    def _check_seq(self, sender: str, seq: int):
        """Window and membership checks shared by the three phases; returns the voting set."""
        if seq <= self.height and seq not in self.log.committed:
            raise Drop(f"sequence number {seq} already executed and collected")
        if seq > self.height + 2:
            self._behind(sender)  # a quorum went past a block we do not have
        if not self.checkpoints.in_window(seq):
            raise Drop(f"sequence number {seq} outside the window")
        vset = self._set_for(seq)
        if sender not in vset:
            raise InvalidProof("vote", f"{sender!r} does not vote at height {seq}")
        return vset

    def _check_view(self, view: int) -> None:
        if view < self.view:
            raise Drop(f"message for view {view}, we are in {self.view}")
        if view > self.view + MAX_VIEWS_AHEAD:
            raise Drop(f"message for view {view}, far beyond ours")

    # --- progress ------------------------------------------------------------------

    def _progress(self) -> None:
        """Vote on and execute the next heights as far as the log allows, then propose."""
        while True:
            self._vote(self.height + 1)
            if not self._try_execute():
                break
        self._propose()

    def _vote(self, seq: int) -> None:
        """Prepare the current view's proposal at ``seq``, and commit it once prepared."""
        if self.changing:
            return
        vset = self.state.validators_at(seq)
        proposal = self.log.proposal(seq, self.view)
        if self.id not in vset or proposal is None or not self._acceptable(proposal):
            return
        primary = vset.primary(self.view)
        digest = proposal.digest
        if self.id != primary:
            raw = self._cast(PREPARE, self.view, seq, digest, Prepare(self.view, seq, digest, self.id))
            if raw is None:
                return
            self.log.add_vote(PREPARE, self.view, seq, self.id, digest, raw)
        if not self.log.prepared(seq, self.view, digest, vset.quorum, primary):
            return
        if self.votes.get(self.view, seq, COMMIT) is None:
            backups = self.log.voters(PREPARE, self.view, seq, digest)
            backups.pop(primary, None)
            self.votes.record_prepared(seq, self.view, PreparedProof(proposal.raw, tuple(backups.values())))
        raw = self._cast(COMMIT, self.view, seq, digest, Commit(self.view, seq, digest, self.id))
        if raw is not None:
            self.log.add_vote(COMMIT, self.view, seq, self.id, digest, raw)

    def _acceptable(self, proposal: Proposal) -> bool:
        """May we vote for it? Executed heights only for the block we executed there."""
        if proposal.seq <= self.height:
            return self.log.committed.get(proposal.seq) == proposal.digest
        if proposal.seq > self.height + 1 or proposal.rejected:
            return False
        if proposal.delta is None:
            try:
                proposal.delta = self._check_block(proposal.block, crypto_checked=False, clock=True)
            except (InvalidProof, EncodingError) as exc:
                proposal.rejected = True
                culprit = self.state.validators_at(proposal.seq).primary(proposal.view)
                self._blame(culprit, f"proposed an invalid block: {exc}", proposal.raw)
                if proposal.view == self.view:
                    self._start_view_change(self.view + 1)
                return False
        return True

    def _try_execute(self) -> bool:
        """Execute height + 1 if a quorum committed a block we hold; True if it did."""
        seq = self.height + 1
        found = self.log.commit_quorum(seq, self.state.validators_at(seq).quorum)
        if found is None:
            return False
        view, digest, commits = found
        proposal = self.log.block(seq, digest)
        if proposal is None:
            # Certified but never seen (its pre-prepare was lost): fetch it from a committer.
            peers = sorted(a for a in self.log.voters(COMMIT, view, seq, digest) if a != self.id)
            if peers:
                self._behind(peers[0])
            return False
        if proposal.delta is None:
            try:  # the certificate vouches for the transactions, not for our chain tip
                proposal.delta = self._check_block(proposal.block, crypto_checked=True, clock=False)
            except (InvalidProof, EncodingError) as exc:
                self._blame(proposal.block.header.proposer, f"certified an invalid block: {exc}")
                return False
        quorum = self.state.validators_at(seq).quorum
        cert = CommitCertificate(view, seq, digest, tuple(commits[:quorum]))
        self._execute(proposal.block, proposal.delta, cert)
        return True

    def _propose(self) -> None:
        """As primary with nothing in flight, put pending transactions into the next block."""
        seq = self.height + 1
        vset = self.state.current()
        if (self.changing or vset.primary(self.view) != self.id or not len(self.mempool)
                or self.log.proposal(seq, self.view) is not None
                or self.votes.get(self.view, seq, PREPREPARE) is not None
                or not self.checkpoints.in_window(seq)):
            return
        checker = self.state.checker()
        txs, hashes, stale, size = [], [], [], 0
        for h, data, tx in self.mempool.pending():
            if len(txs) == self.config.max_txs_per_block or size + len(data) > self.config.max_block_bytes:
                break
            try:
                checker.check(tx, h, crypto_checked=True)
            except InvalidTransaction:
                stale.append(h)
                continue
            txs.append(data)
            hashes.append(h)
            size += len(data)
        self.mempool.discard(stale)
        if not txs:
            return
        timestamp = max(self._now_ms or 0, self.state.last_timestamp_ms)
        block = make_block(seq, self.state.last_hash, timestamp, self.id, txs, hashes)
        digest = block.hash()
        raw = self._cast(PREPREPARE, self.view, seq, digest, PrePrepare(self.view, seq, block, self.id))
        if raw is not None:
            delta = checker.delta(block.header, digest)
            self.log.add_proposal(Proposal(self.view, seq, block, digest, raw, delta))
