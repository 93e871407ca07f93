"""A PBFT replica (Castro–Liskov, OSDI 1999 / TOCS 2002) as a sans-I/O state machine.

Inputs are the caller's: transactions (``submit``), signed bytes from peers
(``receive``) and timer expiries (``on_timeout``); the caller also passes the
time with them. Outputs are ``Outgoing`` messages returned by each call, the
``timer`` to run, and ``committed`` blocks with their certificates. Nothing here
opens a socket, starts a thread or reads a clock.

The normal case lives in ``agreement``, view changes in ``views`` and state
transfer in ``transfer``; this module holds what they share: start-up from the
store, input dispatch, signing, execution, checkpoints and the timer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from itertools import islice

from ledger.agreement import Agreement
from ledger.block import Block, tx_hash
from ledger.certs import sign_body
from ledger.checkpoint import Checkpoints
from ledger.config import LedgerConfig, ValidatorSet
from ledger.crypto import Signer, Verifier
from ledger.events import Drop, Dropped, Outgoing, Timer
from ledger.log import MessageLog, Proposal
from ledger.mempool import Mempool
from ledger.messages import (
    BODIES,
    COMMIT,
    PREPARE,
    PREPREPARE,
    BlockBatch,
    Checkpoint,
    Commit,
    CommitCertificate,
    CommittedBlock,
    FetchBlocks,
    NewView,
    Prepare,
    PrePrepare,
    Signed,
    Status,
    TxBatch,
    ViewChange,
)
from ledger.state import Delta, LedgerState
from ledger.store import LedgerStore
from ledger.transfer import StateTransfer
from ledger.txs import InvalidTransaction, Tx, decode_tx
from ledger.validate import check_block
from ledger.views import ViewChanges
from ledger.votes import OwnVotes
from protocol import wire
from protocol.errors import EncodingError, InvalidProof, PeerMisbehaved

# Evidence and drop records kept for the caller to read (the oldest go first).
MAX_RECORDS_KEPT = 4096


class Replica(Agreement, ViewChanges, StateTransfer):
    """One validator's consensus state machine.

    ``config`` is the chain's configuration, ``signer`` the node identity (its
    ``node_id`` is this replica's validator id) and ``store`` its persistence.
    Building a Replica over a store that already holds data resumes from it; the
    caller then calls ``start`` once and sends what it returns.
    """

    def __init__(self, config: LedgerConfig, signer: Signer, store: LedgerStore) -> None:
        self.config = config
        self.id = signer.node_id
        self._signer = signer
        self._store = store
        self._verifier = Verifier(config.chain_id)
        self.state = LedgerState(config)
        self.log = MessageLog()
        self.mempool = Mempool()
        self.checkpoints = Checkpoints(config.checkpoint_interval, config.window, store)
        self.votes = OwnVotes(store)
        self.committed: list[CommittedBlock] = []
        self.evidence: deque[PeerMisbehaved] = deque(maxlen=MAX_RECORDS_KEPT)
        self.dropped: deque[Dropped] = deque(maxlen=MAX_RECORDS_KEPT)
        self.timer: Timer | None = None
        self.view, self.changing = store.get_view()
        self._outbox: list[Outgoing] = []
        self._now_ms: int | None = None
        self._timer_key: tuple | None = None
        self._timer_token = 0
        self._progress_view = self.view
        self._last_cert: CommitCertificate | None = None
        self._new_view_raw: bytes | None = None
        # author -> (its latest view change, the pre-prepares it proves, its signed bytes)
        self._view_changes: dict[str, tuple[ViewChange, list[PrePrepare], bytes]] = {}
        self._fetch_at = 0
        self._helped: dict[str, tuple[int, int]] = {}
        self._handlers = {
            PrePrepare: self._on_preprepare, Prepare: self._on_prepare, Commit: self._on_commit,
            Checkpoint: self._on_checkpoint, ViewChange: self._on_view_change,
            NewView: self._on_new_view, TxBatch: self._on_txs, Status: self._on_status,
            FetchBlocks: self._on_fetch, BlockBatch: self._on_blocks,
        }
        self._restore()

    # --- the caller's API ------------------------------------------------------

    @property
    def height(self) -> int:
        return self.state.height

    @property
    def validators(self) -> ValidatorSet:
        return self.state.current()

    @property
    def primary(self) -> str:
        return self.validators.primary(self.view)

    def timeout_for(self, view: int) -> float:
        """Base timeout, doubled for every view entered since the last committed block."""
        doublings = min(max(view - self._progress_view, 0), self.config.max_timeout_doublings)
        return self.config.base_timeout * 2**doublings

    def start(self, *, now: int | None = None) -> list[Outgoing]:
        """Announce where we are, so peers send what we missed while down."""
        self._tick(now)
        self._emit(None, Status(self.height, self.view, self.id))
        if self.changing:
            self._send_view_change()
        else:  # what we signed before a crash may never have left: send it again, unchanged
            for record in self.votes.records():
                if record.seq > self.height and record.view == self.view:
                    self._resend(None, record.message)
        self._progress()
        return self._flush()

    def submit(self, tx: Tx | bytes, *, now: int | None = None) -> list[Outgoing]:
        """Accept a transaction from the local user; InvalidTransaction if it can never commit."""
        out, rejected = self.submit_batch([tx], now=now)
        if rejected:
            raise InvalidTransaction(rejected[0][1])
        return out

    def submit_batch(self, txs: Iterable[Tx | bytes], *, now: int | None = None
                     ) -> tuple[list[Outgoing], list[tuple[int, str]]]:
        """Accept many transactions at once (one forwarded batch); returns the outgoing
        messages and (index, reason) for each transaction refused."""
        self._tick(now)
        accepted, rejected = [], []
        for i, tx in enumerate(txs):
            data = tx if isinstance(tx, bytes) else wire.encode(tx)
            try:
                self._admit(data)
            except (InvalidTransaction, EncodingError) as exc:
                rejected.append((i, str(exc)))
            else:
                accepted.append(data)
        if accepted:
            self._emit(None, TxBatch(tuple(accepted), self.id))
            self._progress()
        return self._flush(), rejected

    def receive(self, sender: str, data: bytes, *, now: int | None = None) -> list[Outgoing]:
        """Handle bytes from validator ``sender`` (as authenticated by the transport)."""
        self._tick(now)
        try:
            body = self._open(sender, data)
            self._handlers[type(body)](sender, body, data)
        except Drop as exc:
            self.dropped.append(Dropped(sender, str(exc)))
        except (EncodingError, InvalidProof) as exc:
            self._blame(sender, str(exc), data)
        return self._flush()

    def on_timeout(self, view: int, *, now: int | None = None) -> list[Outgoing]:
        """The timer for ``view`` fired: resend what peers may have lost, then change view."""
        self._tick(now)
        if self.timer is None or view != self.view:
            return self._flush()
        self._timer_key = None  # whatever happens next, the caller gets a fresh timer
        if self._fetch_at == self.height + 1:
            # Still waiting for blocks: ask everyone, and do not blame the primary for it yet.
            self._fetch_at = 0
            self._emit(None, FetchBlocks(self.height + 1, self.id))
            return self._flush()
        if self.checkpoints.own is not None:
            self._resend(None, self.checkpoints.own)
        # The next block's worth of our pending transactions, in case the others never got them.
        pending = tuple(data for _, data, _ in islice(self.mempool.pending(),
                                                      self.config.max_txs_per_block))
        if pending:
            self._emit(None, TxBatch(pending, self.id))
        if not self.changing or self._view_change_quorum():
            self._start_view_change(self.view + 1)
            return self._flush()
        # Too few have left the view for us to give up on the next one: repeat, wait, and
        # make sure we are not simply missing blocks the others went on with.
        self._emit(None, FetchBlocks(self.height + 1, self.id))
        own = self._view_changes.get(self.id)
        if own is not None and (own[0].new_view, own[0].height) == (self.view, self.height):
            self._resend(None, own[2])
        else:  # ours is gone (restart) or out of date (blocks executed since): make it anew
            self._send_view_change()
        return self._flush()

    def take_committed(self) -> list[CommittedBlock]:
        """The blocks committed since the last call, oldest first."""
        done, self.committed = self.committed, []
        return done

    # --- shared plumbing ---------------------------------------------------------

    def _tick(self, now: int | None) -> None:
        if now is not None:
            self._now_ms = max(self._now_ms or 0, int(now))

    def _flush(self) -> list[Outgoing]:
        self._refresh_timer()
        out, self._outbox = self._outbox, []
        return out

    def _open(self, sender: str, data: bytes):
        signed = wire.decode(data, Signed)
        body = BODIES.decode(signed.body)
        # A new-view proves itself, so any replica may pass it on; all else comes from its author.
        if body.replica != sender and not isinstance(body, NewView):
            raise InvalidProof("message", f"signed by {body.replica!r} but sent by {sender!r}")
        key = self.state.key_of(body.replica)
        if key is None or self.state.key_of(sender) is None:
            # Nothing to prove it by: it may even be a validator added in blocks we lack.
            raise Drop(f"{body.replica!r} is not a validator we know of")
        if not self._verifier.verify(key, signed.body, signed.signature):
            raise InvalidProof("message", f"bad signature by {body.replica!r}")
        return body

    def _blame(self, culprit: str, reason: str, *messages: bytes) -> None:
        self.evidence.append(PeerMisbehaved((culprit,), reason, messages))

    def _emit(self, to: str | None, body) -> bytes:
        raw = sign_body(body, self._signer.sign, self._verifier.prefix)
        self._outbox.append(Outgoing(to, raw, body))
        return raw

    def _cast(self, phase: int, view: int, seq: int, digest: bytes, body, *, send: bool = True
              ) -> bytes | None:
        """Sign a vote, persist it, then send it; None if it would contradict an earlier one."""
        known = self.votes.get(view, seq, phase)
        if known is not None:
            return known.message if known.digest == digest else None
        raw = sign_body(body, self._signer.sign, self._verifier.prefix)
        self.votes.record(view, seq, phase, digest, raw)
        if send:
            self._outbox.append(Outgoing(None, raw, body))
        return raw

    def _set_for(self, seq: int) -> ValidatorSet:
        if not self.state.knows_validators_at(seq):
            raise Drop(f"sequence number {seq} too far ahead to know its validators")
        return self.state.validators_at(seq)

    def _check_block(self, block: Block, *, crypto_checked: bool, clock: bool) -> Delta:
        return check_block(block, self.state, self.config, self.mempool,
                           crypto_checked=crypto_checked, now_ms=self._now_ms if clock else None)

    def _admit(self, data: bytes) -> None:
        h = tx_hash(data)
        if h in self.mempool or h in self.state.tx_hashes:
            return
        self.mempool.admit(h, data, decode_tx(data), self.state)

    # --- execution and checkpoints -----------------------------------------------

    def _execute(self, block: Block, delta: Delta, cert: CommitCertificate) -> None:
        """Make ``block`` final: store it first, then apply it and report it."""
        height = block.height
        self._store.put_block(height, wire.encode(block), wire.encode(cert))
        self.state.apply(delta)
        self.log.committed[height] = delta.hash
        self._last_cert = cert
        self._progress_view = self.view
        self.mempool.after_commit(delta.tx_hashes, self.state)
        self.committed.append(CommittedBlock(block, cert))
        if self.checkpoints.due(height) and self.id in self.state.validators_at(height):
            body = Checkpoint(height, delta.hash, self.id)
            raw = self._emit(None, body)
            self.checkpoints.own = raw
            self.checkpoints.add(height, self.id, delta.hash, raw)
        self._stabilise()

    def _on_checkpoint(self, sender: str, msg: Checkpoint, raw: bytes) -> None:
        if not self.checkpoints.in_window(msg.seq):
            raise Drop(f"checkpoint {msg.seq} outside the window")
        if sender not in self._set_for(msg.seq) or not self.checkpoints.due(msg.seq):
            raise InvalidProof("checkpoint", "not a validator at that height, or off the interval")
        earlier = self.checkpoints.add(msg.seq, sender, msg.digest, raw)
        if earlier is not None:
            self._blame(sender, f"two checkpoints for {msg.seq}", earlier, raw)
        if msg.seq > self.height:
            self._behind(sender)
        self._stabilise()

    def _stabilise(self) -> None:
        for seq in self.checkpoints.pending():
            digest = self.log.committed.get(seq)
            if digest is not None and self.checkpoints.stabilise(
                    seq, digest, self.state.validators_at(seq).quorum):
                self.log.gc(seq)
                self.votes.prune(seq)

    # --- timer ---------------------------------------------------------------------

    def _waiting(self) -> bool:
        """PBFT runs the timer while a replica waits for something to execute. Here: known
        transactions, a live proposal for the next height, votes on it from more than f
        replicas (so some honest one accepted a proposal), a fetch, or a view change. Votes
        of f replicas do not count, or the faulty ones could keep everyone changing views."""
        seq = self.height + 1
        if self._fetch_at == seq:
            return True
        if self.id not in self.state.current():
            return False  # a node that does not vote yet only follows
        proposal = self.log.proposal(seq, self.view)
        return (self.changing or len(self.mempool) > 0
                or (proposal is not None and not proposal.rejected)
                or len(self.log.voters_at(seq)) > self.state.validators_at(seq).f)

    def _refresh_timer(self) -> None:
        if not self._waiting():
            self.timer, self._timer_key = None, None
            return
        key = (self.view, self.changing, self.height)
        if key != self._timer_key:
            self._timer_key = key
            self._timer_token += 1
            self.timer = Timer(self.view, self.timeout_for(self.view), self._timer_token)

    # --- start-up ------------------------------------------------------------------

    def _restore(self) -> None:
        """Rebuild the state from stored blocks and reload our own votes (cometbft's WAL replay)."""
        for height in range(1, self._store.last_height() + 1):
            block_data, cert_data = self._store.get_block(height)
            block = wire.decode(block_data, Block)
            delta = self._check_block(block, crypto_checked=True, clock=False)
            self.state.apply(delta)
            if height > self.checkpoints.stable:
                self.log.committed[height] = delta.hash
            self._last_cert = wire.decode(cert_data, CommitCertificate)
        for record in self.votes.records():
            if record.seq <= self.height:
                continue
            body = BODIES.decode(wire.decode(record.message, Signed).body)
            if record.phase == PREPREPARE:
                self.log.add_proposal(Proposal(body.view, body.seq, body.block, record.digest,
                                               record.message))
            elif record.phase in (PREPARE, COMMIT):
                self.log.add_vote(record.phase, record.view, record.seq, self.id, record.digest,
                                  record.message)
