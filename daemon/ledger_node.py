"""The PBFT ledger replica inside the node: its thread, timers, transport and store.

``ledger.replica.Replica`` does no I/O; this class drives it. Every call into the replica,
and every use of its ``KVLedgerStore``, happens on one worker thread (the replica verifies
signatures and writes to disk; the store is single-threaded). After each call the worker
gathers what the replica produced (messages, timer, committed blocks, a status snapshot)
and hands it to the loop with ``call_soon_threadsafe``, in call order: messages leave in
the order the replica made them, after it wrote its votes to the store.

A node with the chain's genesis that is not (yet) one of its validators runs the replica
as a follower: it votes on nothing, and once a validator change schedules it, the
validators talk to it and it fetches the blocks it lacks. After every call the node's
``Membership`` learns the set voting on the next block, the one source of truth for
who is a validator (``daemon.membership``); until the store is replayed it admits nobody.

If the replica raises anything it does not expect (a failed disk write, a bug) the
ledger halts: its memory may no longer match its store, and only a restart, which
rebuilds the replica from the store, is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from daemon.errors import BadRequest, Conflict, NotFound, Unavailable
from daemon.identity import NodeIdentity
from daemon.ledger_genesis import LedgerGenesis, ledger_config
from daemon.ledger_store import KVLedgerStore
from daemon.ledger_wire import (
    Effects,
    LedgerEnvelope,
    LedgerStatus,
    PeerLinks,
    ReplicaSigner,
    TxReceipt,
    gather_effects,
    initial_status,
    judge_change,
    load_block,
    signed_status,
    submit_one,
)
from daemon.membership import Membership
from daemon.p2p.transport import Transport
from daemon.router import Router
from daemon.store.kv import KVStore
from ledger.block import tx_hash
from ledger.config import ValidatorSet
from ledger.events import Outgoing, Timer
from ledger.messages import CommittedBlock
from ledger.replica import Replica
from ledger.txs import Tx, ValidatorChange
from protocol import wire
from protocol.errors import UsageError

log = logging.getLogger("tssnet.ledger")

CommitCallback = Callable[[CommittedBlock], Awaitable[None]]
#: blocks one ``blocks()`` call returns at most
MAX_BLOCKS_PER_PAGE = 100


class LedgerNode:
    """One validator's ledger: ``await start()``, then ``submit``, ``status``, ``block(s)`` and
    ``on_commit``; ``await stop()`` also closes ``kv``. It registers ``LedgerEnvelope`` on
    ``router`` when built; envelopes that arrive before ``start`` are dropped."""

    def __init__(self, *, genesis: LedgerGenesis, identity: NodeIdentity, kv: KVStore,
                 transport: Transport, router: Router, clock: Callable[[], float] = time.time,
                 send_timeout: float = 5.0, status_interval: float = 5.0,
                 membership: Membership | None = None) -> None:
        self.genesis = genesis
        self.peer_id = identity.peer_id
        self._config = ledger_config(genesis)
        self._signer = ReplicaSigner(identity.peer_id, identity.signer())
        self._kv = kv
        self._clock = clock
        self._status_interval = status_interval
        self._links = PeerLinks(transport, send_timeout)
        self._state = "new"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: ThreadPoolExecutor | None = None
        self._replica: Replica | None = None     # worker thread only
        self._store: KVLedgerStore | None = None  # worker thread only
        self._timer: asyncio.TimerHandle | None = None
        self._armed: int | None = None
        self._tasks: set[asyncio.Task] = set()
        self._subscribers: list[CommitCallback] = []
        self._commits: asyncio.Queue[CommittedBlock] = asyncio.Queue()
        self._waiters: dict[bytes, list[asyncio.Future]] = {}
        self._members = frozenset(v.peer_id for v in genesis.validators)
        self.membership = membership if membership is not None else Membership()
        self.membership.close(self._members)   # nobody admitted on the genesis' word: replay first
        self._warned: set[str] = set()
        self._genesis_hash = genesis.hash().hex()
        self._change_count = 0
        self._status = initial_status(self._config.chain_id, self._genesis_hash, self._members)
        self.stats = {"received": 0, "foreign": 0, "evidence": 0}
        router.register(LedgerEnvelope, self._on_envelope)

    # --- life cycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Rebuild the replica from the store (on the worker) and announce ourselves."""
        if self._state != "new":
            raise Conflict("the ledger node was started already")
        self._loop = asyncio.get_running_loop()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="tssnet-ledger")
        self._state = "starting"
        try:
            current, height, scheduled, self._change_count = await self._loop.run_in_executor(
                self._worker, self._open)
        except BaseException:
            await self.stop()
            raise
        if self._state != "starting":
            raise Unavailable("the ledger was stopped while it started")
        self.membership.follow(current, height, scheduled)
        self._state = "running"
        self._spawn(self._notify())
        self._spawn(self._heartbeat())
        await self._call(lambda r, now: (r.start(now=now), None))
        log.info("ledger %s started at height %d view %d", self._config.chain_id,
                 self._status.height, self._status.view)

    async def stop(self) -> None:
        """Stop timers and senders, let the call in progress finish, close the store."""
        if self._state == "stopped":
            return
        self._state = "stopped"
        self._disarm()
        for task in list(self._tasks):
            task.cancel()
        await self._links.close()
        for waiters in self._waiters.values():
            for future in waiters:
                if not future.done():
                    future.set_exception(Unavailable("the ledger stopped"))
        self._waiters.clear()
        self._status = replace(self._status, state="stopped")
        if self._worker is None:
            self._kv.close()
            return
        try:  # queued behind every call already made: the worker is idle once this ran
            await self._loop.run_in_executor(self._worker, self._close)
        finally:
            self._worker.shutdown(wait=False)

    def _open(self) -> tuple[ValidatorSet, int, frozenset[str], int]:
        """On the worker: rebuild the replica from the store; the replayed membership."""
        self._store = KVLedgerStore(self._kv)
        replica = Replica(self._config, self._signer, self._store)
        if replica.state.key_of(self.peer_id) is None:
            log.info("this node (%s) is no validator of ledger %r: it follows the chain until an "
                     "approved validator change adds it", self.peer_id, self._config.chain_id)
        self._replica = replica
        return (replica.validators, replica.height, frozenset(replica.state.latest().ids),
                replica.state.change_count)

    def _close(self) -> None:
        self._replica = self._store = None
        self._kv.close()

    # --- the API ---------------------------------------------------------------------

    def on_commit(self, callback: CommitCallback) -> None:
        """``callback(block)`` for every block committed from now on, in height order."""
        self._subscribers.append(callback)

    def status(self) -> LedgerStatus:
        return self._status

    @property
    def chain_id(self) -> str:
        return self._config.chain_id

    @property
    def genesis_hash(self) -> bytes:
        return bytes.fromhex(self._genesis_hash)

    @property
    def change_count(self) -> int:
        """Validator-set changes committed as of the last replica call: a new change's base."""
        return self._change_count

    async def committed_changes(self, change_ids: tuple[bytes, ...]) -> set[bytes]:
        """Which of these validator-change ids (``ledger.txs.change_id``) are committed."""
        return await self._inspect(lambda r: {c for c in change_ids if c in r.state.changes})

    async def judge_change(self, change: ValidatorChange) -> tuple[str, str] | None:
        """``ledger_wire.judge_change`` on the worker: the ledger's own verdict on ``change``."""
        return await self._inspect(lambda r: judge_change(r, change))

    async def pending(self, h: bytes) -> bool:
        """Whether the transaction with id ``h`` waits in this replica's mempool."""
        return await self._inspect(lambda r: h in r.mempool)

    async def submit(self, tx: Tx | bytes, *, wait: float | None = None) -> TxReceipt:
        """Check ``tx`` and forward it to the validators; ``wait``: seconds to wait for its block.

        BadRequest for a transaction that can never commit (it never enters a block),
        Conflict for one already in the ledger.
        """
        self._check_running()
        try:
            data = tx if isinstance(tx, bytes) else wire.encode(tx)
        except UsageError as exc:
            raise BadRequest(f"invalid ledger transaction: {exc}") from None
        h = tx_hash(data)
        waiter = self._loop.create_future() if wait is not None else None
        if waiter is not None:
            self._waiters.setdefault(h, []).append(waiter)
        try:
            rejected = await self._call(lambda r, now: submit_one(r, h, data, now))
            if rejected:
                raise BadRequest(f"invalid ledger transaction: {rejected}", type="invalid_transaction")
            if waiter is None:
                return TxReceipt(h.hex(), None)
            with contextlib.suppress(TimeoutError):
                return TxReceipt(h.hex(), await asyncio.wait_for(waiter, wait))
            return TxReceipt(h.hex(), None)
        finally:
            if waiter is not None and waiter in self._waiters.get(h, ()):
                self._waiters[h].remove(waiter)
                if not self._waiters[h]:
                    del self._waiters[h]

    async def block(self, height: int) -> CommittedBlock:
        """The committed block at ``height`` with its commit certificate; NotFound past the tip."""
        if isinstance(height, bool) or not isinstance(height, int) or height < 1:
            raise BadRequest("a block height is an integer of at least 1")
        found = await self._read(lambda store: load_block(store, height))
        if found is None:
            raise NotFound(f"no ledger block at height {height}", type="block_not_exists")
        return found

    async def blocks(self, from_height: int, limit: int) -> list[CommittedBlock]:
        """Up to ``limit`` committed blocks from ``from_height`` on (fewer at the tip)."""
        if isinstance(from_height, bool) or not isinstance(from_height, int) or from_height < 1:
            raise BadRequest("from is a block height of at least 1")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_BLOCKS_PER_PAGE:
            raise BadRequest(f"limit is an integer from 1 to {MAX_BLOCKS_PER_PAGE}")

        def load(store: KVLedgerStore) -> list[CommittedBlock]:
            last = min(store.last_height(), from_height + limit - 1)
            return [load_block(store, height) for height in range(from_height, last + 1)]

        return await self._read(load)

    # --- input from peers and timers ---------------------------------------------------

    async def _on_envelope(self, peer_id: str, envelope: LedgerEnvelope) -> None:
        if self._state != "running":
            return
        if peer_id not in self._members or peer_id == self.peer_id:
            self.stats["foreign"] += 1
            if peer_id not in self._warned and len(self._warned) < 1024:
                self._warned.add(peer_id)
                log.warning("dropped a ledger message from %s: not a validator of %s",
                            peer_id, self._config.chain_id)
            return
        self.stats["received"] += 1
        with contextlib.suppress(Unavailable):  # stopping, or halted (logged where it happened)
            await self._call(lambda r, now: (r.receive(peer_id, envelope.data, now=now), None))

    def _arm(self, timer: Timer | None) -> None:
        """Follow ``Replica.timer``: a new token restarts the timer, None stops it."""
        token = None if timer is None else timer.token
        if token is not None and token != self._armed:
            self._disarm()
            self._timer = self._loop.call_later(timer.seconds, self._fire, timer.view, token)
        elif token is None:
            self._disarm()
        self._armed = token

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self, view: int, token: int) -> None:
        self._timer = None
        if token != self._armed or self._state != "running":
            return
        self._armed = None
        self._spawn(self._quietly(self._call(lambda r, now: (r.on_timeout(view, now=now), None))))

    async def _heartbeat(self) -> None:
        """Tell every validator where we are, now and then: one that missed blocks (its
        start-up status lost, a partition healed while the chain was idle) learns it is
        behind, or tells us that we are, and the replicas fetch what is missing."""
        while True:
            await asyncio.sleep(self._status_interval)
            with contextlib.suppress(Unavailable):
                await self._call(lambda r, now: (
                    [signed_status(self._signer, self._config.chain_id, r.height, r.view)], None))

    # --- running calls on the worker -----------------------------------------------------

    async def _call(self, action: Callable[[Replica, int], tuple[list[Outgoing], Any]]) -> Any:
        """Run ``action(replica, now_ms)`` on the worker; returns its second item."""
        self._check_running()
        return await self._loop.run_in_executor(self._worker, self._step, action)

    async def _read(self, read: Callable[[KVLedgerStore], Any]) -> Any:
        self._check_running()
        return await self._loop.run_in_executor(self._worker, lambda: read(self._store))

    async def _inspect(self, read: Callable[[Replica], Any]) -> Any:
        """``read(replica)`` on the worker, for reads that change nothing."""
        self._check_running()

        def run() -> Any:
            if self._replica is None:
                raise Unavailable("the ledger is stopped")
            return read(self._replica)
        return await self._loop.run_in_executor(self._worker, run)

    def _check_running(self) -> None:
        if self._state == "halted":
            raise Unavailable("the ledger halted after an internal error; restart the node")
        if self._state != "running":
            raise Unavailable(f"the ledger is not running ({self._state})")

    def _step(self, action) -> Any:
        """On the worker: one replica call, then its effects queued for the loop in order."""
        replica = self._replica
        if replica is None:
            raise Unavailable("the ledger is stopped")
        try:
            out, result = action(replica, int(self._clock() * 1000))
            effects = gather_effects(replica, out, self._genesis_hash)
        except Conflict:  # refused before the replica was touched
            raise
        except BaseException as exc:
            self._replica = None
            self._loop.call_soon_threadsafe(self._halt, exc)
            raise Unavailable("the ledger halted after an internal error; restart the node") from None
        self._loop.call_soon_threadsafe(self._apply, effects)
        return result

    def _apply(self, effects: Effects) -> None:
        """On the loop, in call order: send, re-arm the timer, publish commits."""
        if self._state != "running":
            return  # stopped meanwhile; what the replica signed is in its store
        self._members = effects.members
        self._status = effects.status
        self._change_count = effects.change_count
        self.membership.follow(effects.current, effects.status.height, effects.members)
        for evidence in effects.evidence:
            self.stats["evidence"] += 1
            log.warning("ledger evidence: %s", evidence)
        for to, payload in effects.sends:
            targets = [to] if to is not None else sorted(effects.members - {self.peer_id})
            for peer in targets:
                if peer != self.peer_id:
                    self._links.send(peer, payload)
        self._arm(effects.timer)
        for committed, hashes in effects.committed:
            self._commits.put_nowait(committed)
            for h in hashes:
                for future in self._waiters.pop(h, ()):
                    if not future.done():
                        future.set_result(committed.block.height)

    def _halt(self, exc: BaseException) -> None:
        if self._state != "running":
            return
        log.error("ledger halted; restart the node to resume from its store",
                  exc_info=(type(exc), exc, exc.__traceback__))
        self._state = "halted"
        self._status = replace(self._status, state="halted")
        self._disarm()

    async def _notify(self) -> None:
        while True:
            committed = await self._commits.get()
            for callback in list(self._subscribers):
                try:
                    await callback(committed)
                except Exception:
                    log.exception("a ledger commit subscriber failed on block %d", committed.block.height)

    @staticmethod
    async def _quietly(call: Awaitable[Any]) -> None:
        with contextlib.suppress(Unavailable):  # halted or stopped: logged where it happened
            await call

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = self._loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
