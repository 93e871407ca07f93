"""What crosses the ledger node's edges: signed envelopes to peers, blocks read back from
the store, and JSON views for the HTTP layer.

Ledger messages are already signed wire bytes (``ledger.messages.Signed``); between
nodes each travels as the ``data`` of one ``LedgerEnvelope``, the only message type
the ledger registers on the node's router. ``gather_effects`` collects what one replica
call produced, on the ledger's worker thread, for the event loop. ``PeerLinks`` sends envelopes: one
ordered queue and one sender task per peer, so a slow or unreachable validator
never holds up the others or the replica. A queue that grows past its byte budget
loses its oldest messages: PBFT is built to survive lost messages (timeouts, view
changes and state transfer resend what matters), but not a node out of memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import asdict, dataclass

from daemon.errors import Conflict
from daemon.identity import peer_id_of
from daemon.ledger_store import KVLedgerStore
from daemon.p2p.transport import Transport, TransportError
from daemon.tasks import cancel_and_wait
from ledger.block import Block, tx_hash
from ledger.certs import sign_body
from ledger.config import ValidatorSet
from ledger.crypto import signing_prefix
from ledger.events import Outgoing, Timer
from ledger.messages import (
    BODIES,
    MAX_SIGNED_BYTES,
    CommitCertificate,
    CommittedBlock,
    Signed,
    Status,
)
from ledger.replica import Replica
from ledger.txs import (
    FutureBase,
    InvalidTransaction,
    KeygenTx,
    SignatureTx,
    StaleChange,
    ValidatorChange,
    change_id,
    decode_tx,
)
from protocol import wire
from protocol.errors import PeerMisbehaved, UsageError

log = logging.getLogger("tssnet.ledger")

#: a signed ledger message: its body, a 64-byte signature and the codec's headers
MAX_ENVELOPE_DATA = MAX_SIGNED_BYTES + 256
#: bytes queued for one peer before its oldest messages are dropped
MAX_QUEUED_BYTES = 64 * 1024 * 1024


@wire.message(0x0580)
@dataclass(frozen=True, slots=True)
class LedgerEnvelope:
    """One signed ledger message (``ledger.messages.Signed`` bytes) between validators."""

    data: bytes = wire.field(wire.Bytes(max_size=MAX_ENVELOPE_DATA))


class ReplicaSigner:
    """The node identity as ``ledger.crypto.Signer``: the replica's id is the peer id."""

    __slots__ = ("node_id", "public_key", "_signer")

    def __init__(self, node_id: str, signer) -> None:
        self.node_id = node_id
        self.public_key = signer.public_key
        self._signer = signer

    def sign(self, message: bytes) -> bytes:
        return self._signer.sign(message)

    def __repr__(self) -> str:
        return f"ReplicaSigner({self.node_id!r}, <redacted>)"


def signed_status(signer: ReplicaSigner, chain_id: str, height: int, view: int) -> Outgoing:
    """A ``Status`` for every validator, as ``Replica.start`` makes one."""
    body = Status(height, view, signer.node_id)
    return Outgoing(None, sign_body(body, signer.sign, signing_prefix(chain_id)), body)


def submit_one(replica: Replica, h: bytes, data: bytes, now: int) -> tuple[list[Outgoing], str | None]:
    """On the worker: hand one transaction to the replica; its messages and the reason it was
    refused (None when it was taken). Conflict when it is in the ledger already."""
    if h in replica.state.tx_hashes:
        raise Conflict("this transaction is already in the ledger", type="transaction_exists")
    out, rejected = replica.submit_batch([data], now=now)
    return out, rejected[0][1] if rejected else None


def initial_status(chain_id: str, genesis_hash: str, members: frozenset[str]) -> LedgerStatus:
    """The status shown before the replica has run: the genesis validators, height 0."""
    ids = tuple(sorted(members))
    return LedgerStatus(chain_id, genesis_hash, "new", 0, genesis_hash, 0, False, ids[0], ids)


def judge_change(replica: Replica, change: ValidatorChange) -> tuple[str, str] | None:
    """None when ``change`` would pass every rule of the next block but its approvals (a dry
    run through the ledger's own ``BlockChecker``); else (verdict, reason), the verdict
    ``committed`` (it is in the ledger), ``wait`` (at a base this replica has not reached: it
    lags, and the change may pass once it catches up), ``stale`` (approved at an older base:
    it can never commit) or ``invalid`` (refused by the rules now, or adding a validator whose
    id is not the peer id of its key)."""
    if change_id(change) in replica.state.changes:
        return "committed", "the change is committed already"
    problem = added_id_problem(change)
    if problem:
        return "invalid", problem
    try:
        replica.state.checker().check_change(change)
    except FutureBase as exc:
        return "wait", str(exc)
    except StaleChange as exc:
        return "stale", str(exc)
    except InvalidTransaction as exc:
        return "invalid", str(exc)
    return None


def added_id_problem(change: ValidatorChange) -> str:
    """Why an added validator's id is not the libp2p peer id of its key, or ""."""
    for v in change.add:
        try:
            derived = peer_id_of(v.public_key)
        except ValueError:
            return f"the key of {v.id[:64]!r} is not a valid Ed25519 public key"
        if derived != v.id:
            return f"{v.id[:64]!r} is not the peer id of its key (that is {derived})"
    return ""


def load_block(store: KVLedgerStore, height: int) -> CommittedBlock | None:
    found = store.get_block(height)
    if found is None:
        return None
    return CommittedBlock(wire.decode(found[0], Block), wire.decode(found[1], CommitCertificate))


@dataclass(frozen=True)
class Effects:
    """What one replica call produced, gathered on the worker for the loop."""

    sends: list[tuple[str | None, bytes]]   # (peer or None for all, envelope bytes)
    timer: Timer | None
    committed: list[tuple[CommittedBlock, tuple[bytes, ...]]]  # with the blocks' tx hashes
    status: LedgerStatus
    members: frozenset[str]  # whom we hear and tell: voting now or scheduled to
    current: ValidatorSet    # voting on the next block
    evidence: list[PeerMisbehaved]
    change_count: int        # validator-set changes committed: the base of a new one


def gather_effects(replica: Replica, out: list[Outgoing], genesis_hash: str) -> Effects:
    """On the worker, right after a replica call: its messages as envelopes, its timer, the
    blocks it committed, the evidence it found, and a status snapshot."""
    sends = []
    for msg in out:
        try:
            sends.append((msg.to, wire.encode(LedgerEnvelope(msg.data))))
        except UsageError:
            log.error("ledger message %s of %d bytes is too large to send",
                      type(msg.message).__name__, len(msg.data))
    committed = [(c, tuple(tx_hash(t) for t in c.block.txs)) for c in replica.take_committed()]
    evidence = list(replica.evidence)
    replica.evidence.clear()
    replica.dropped.clear()  # stale traffic, normal in PBFT
    # Scheduled validators are heard and told too, so they can catch up before they vote.
    members = frozenset(replica.validators.ids) | frozenset(replica.state.latest().ids)
    status = LedgerStatus(replica.config.chain_id, genesis_hash, "running",
                          replica.height, replica.state.last_hash.hex(), replica.view,
                          replica.changing, replica.primary, replica.validators.ids)
    return Effects(sends, replica.timer, committed, status, members, replica.validators, evidence,
                   replica.state.change_count)


class PeerLinks:
    """Ordered, non-blocking delivery of envelopes, one queue and sender task per peer."""

    def __init__(self, transport: Transport, send_timeout: float,
                 max_queued_bytes: int = MAX_QUEUED_BYTES) -> None:
        self._transport = transport
        self._timeout = send_timeout
        self._budget = max_queued_bytes
        self._queues: dict[str, _Queue] = {}
        self._tasks: list[asyncio.Task] = []
        self.sent = 0
        self.failed = 0
        self.overflowed = 0

    def send(self, peer_id: str, payload: bytes) -> None:
        queue = self._queues.get(peer_id)
        if queue is None:
            queue = self._queues[peer_id] = _Queue()
            self._tasks.append(asyncio.get_running_loop().create_task(self._run(peer_id, queue)))
        self.overflowed += queue.push(payload, self._budget)

    async def close(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        self._queues.clear()

    async def _run(self, peer_id: str, queue: _Queue) -> None:
        failing = False
        while True:
            payload = await queue.pop()
            try:
                await self._transport.send(peer_id, payload, self._timeout)
            except TransportError as exc:
                self.failed += 1
                # Once per outage, not once per message: a validator down for a minute
                # would otherwise fill the log with every vote it missed.
                if not failing:
                    log.warning("ledger peer %s unreachable, its messages are dropped: %s", peer_id, exc)
                failing = True
            except Exception:
                self.failed += 1
                log.exception("sending a ledger message to %s failed", peer_id)
            else:
                self.sent += 1
                if failing:
                    log.info("ledger peer %s reachable again", peer_id)
                failing = False


class _Queue:
    """A FIFO of payloads with a byte budget; ``push`` drops the oldest to stay within it."""

    def __init__(self) -> None:
        self._items: deque[bytes] = deque()
        self._bytes = 0
        self._ready = asyncio.Event()

    def push(self, payload: bytes, budget: int) -> int:
        dropped = 0
        while self._items and self._bytes + len(payload) > budget:
            self._bytes -= len(self._items.popleft())
            dropped += 1
        self._items.append(payload)
        self._bytes += len(payload)
        self._ready.set()
        return dropped

    async def pop(self) -> bytes:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        payload = self._items.popleft()
        self._bytes -= len(payload)
        return payload


# --- JSON views for the HTTP layer ------------------------------------------------------


@dataclass(frozen=True)
class LedgerStatus:
    chain_id: str
    genesis_hash: str           # hex
    state: str                  # "new" | "starting" | "running" | "stopped" | "halted"
    height: int
    last_block_hash: str        # hex; the genesis hash before block 1
    view: int
    view_changing: bool
    primary: str                # peer id of the view's primary
    validators: tuple[str, ...]  # peer ids voting on the next block

    def to_json(self) -> dict:
        return asdict(self) | {"validators": list(self.validators)}


@dataclass(frozen=True)
class TxReceipt:
    tx_hash: str                # hex
    height: int | None          # the block it committed in, once known

    def to_json(self) -> dict:
        return asdict(self)


def block_view(committed: CommittedBlock) -> dict:
    """A committed block as the API shows it: header, transactions and commit certificate."""
    block, cert = committed.block, committed.certificate
    header = block.header
    return {
        "height": header.height,
        "hash": block.hash().hex(),
        "prev_hash": header.prev_hash.hex(),
        "timestamp_ms": header.timestamp_ms,
        "proposer": header.proposer,
        "tx_root": header.tx_root.hex(),
        "transactions": [_tx_view(data) for data in block.txs],
        "certificate": {
            "view": cert.view,
            "height": cert.seq,
            "block_hash": cert.digest.hex(),
            "signers": [_signer_of(raw) for raw in cert.commits],
            "commits": [raw.hex() for raw in cert.commits],
        },
    }


def _tx_view(data: bytes) -> dict:
    view = {"hash": tx_hash(data).hex(), "data": data.hex()}
    tx = decode_tx(data)  # every committed transaction decoded when its block was checked
    if isinstance(tx, KeygenTx):
        return view | {"type": "keygen", "key_id": tx.key_id, "scheme": tx.scheme,
                       "public_key": tx.public_key.hex(), "threshold": tx.threshold}
    if isinstance(tx, SignatureTx):
        return view | {"type": "signature", "key_id": tx.key_id,
                       "signature": tx.signature.hex(), "message": tx.message.hex()}
    return view | {"type": "validator_set", "add": [v.id for v in tx.add], "remove": list(tx.remove),
                   "nonce": tx.nonce.hex(), "approvers": [a.validator for a in tx.approvals]}


def _signer_of(raw: bytes) -> str:
    return BODIES.decode(wire.decode(raw, Signed).body).replica
