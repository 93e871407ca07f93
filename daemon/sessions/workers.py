"""The worker slots sessions run on: long-lived single-worker executors, routed per session.

Each slot is a ``ProcessPoolExecutor`` with one process (or, for tests, a
one-thread ``ThreadPoolExecutor`` running the very same functions), so CPU-heavy
rounds never run on the event loop. A session always goes to the slot of its
route (``route_of``): calls for one session run one after the other in one place.
Keygens route by key id; presign and sign sessions by session id, so one busy key
spreads over every slot, each slot building the key's ``KeyMaterial`` once and
reusing it. Processes are spawned, not forked: the node runs threads (the libp2p
bridge, the store) a fork would copy mid-flight.

A worker process that dies (killed, out of memory) breaks its executor: the slot is
respawned at once, the call that met it raises ``WorkerFailed``, and ``on_broken``
tells the engine, which fails every session that lived on that slot (their runs
died with the process). A slow poll notices a death no call has met yet.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import secrets
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from daemon.errors import SessionFailed
from daemon.orphans import start_worker
from daemon.sessions import worker
from daemon.tasks import cancel_and_wait

log = logging.getLogger("tssnet.sessions")

#: how often a slot's process is checked for life when no call meets its death
WATCH_SECONDS = 1.0


class WorkerFailed(SessionFailed):
    type = "worker_failed"


#: the route of the fast lane: one slot of its own for one-round signing on a pooled
#: presignature (and FROST signing), so a signature never queues behind a presign or
#: an aux-info round that takes a CPU for hundreds of milliseconds
FAST_LANE = "fast-lane"
#: the route of the background lane: presigning, which fills pools ahead of need, in a
#: slot that yields the CPU to everything a user is waiting for (signing, a keygen)
BACKGROUND_LANE = "background-lane"
#: heavy slots yield the CPU to the fast lane and the event loops
HEAVY_NICENESS = 5
BACKGROUND_NICENESS = 15


def _init_process(owner: str, seed: bytes, niceness: int) -> None:
    start_worker(niceness)   # a SIGKILLed node must not leave its workers behind
    worker.init(owner, seed)


class WorkerSlots:
    def __init__(self, *, seed: bytes, count: int, processes: bool = True) -> None:
        self._seed = seed
        self._count = count or os.cpu_count() or 1
        self._processes = processes
        # Threads of one test process share the worker table: each node is its own owner.
        self.owner = secrets.token_hex(8)
        self._slots: list[Executor] = []
        #: called with a slot's index when its worker died and the slot was respawned
        self.on_broken: Callable[[int], None] | None = None
        self._watch: asyncio.Task | None = None

    def _spawn(self, index: int) -> Executor:
        if self._processes:
            niceness = {self._count: 0, self._count + 1: BACKGROUND_NICENESS}.get(index, HEAVY_NICENESS)
            return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_init_process,
                                       initargs=(self.owner, self._seed, niceness))
        return ThreadPoolExecutor(1, initializer=worker.init, initargs=(self.owner, self._seed))

    async def start(self) -> None:
        """Start every slot, then the fast lane and the background lane, and wait until each
        worker is up (so no session pays for a spawn)."""
        self._slots = [self._spawn(index) for index in range(self._count + 2)]
        loop = asyncio.get_running_loop()
        up = await asyncio.gather(*(loop.run_in_executor(s, worker.ready, self.owner) for s in self._slots))
        if not all(up):
            raise RuntimeError("a session worker did not take its initializer")
        if self._processes:
            self._watch = loop.create_task(self._watch_processes(), name="worker-watch")
        log.info("session workers started: %d %s, a fast lane for one-round signing and a "
                 "background lane for presigning", self._count,
                 "processes" if self._processes else "threads")

    def index_of(self, route: str) -> int:
        if route == FAST_LANE:
            return self._count
        if route == BACKGROUND_LANE:
            return self._count + 1
        return int.from_bytes(hashlib.sha256(route.encode()).digest()[:4], "big") % self._count

    def pids(self, index: int) -> list[int]:
        """The worker process ids of slot ``index`` (none for thread slots)."""
        processes = getattr(self._slots[index], "_processes", None) or {}
        return list(processes)

    async def call(self, route: str, fn, *args):
        """``fn(owner, *args)`` on the slot of ``route``; WorkerFailed when its worker died."""
        if not self._slots:
            raise RuntimeError("the session workers are stopped")
        index = self.index_of(route)
        slot = self._slots[index]
        try:
            return await asyncio.get_running_loop().run_in_executor(slot, fn, self.owner, *args)
        except BrokenProcessPool:
            self._respawn(index, slot)
            raise WorkerFailed("the worker process running this session died; the session is lost "
                               "(the node replaced the worker: try again)") from None

    def _respawn(self, index: int, broken: Executor) -> None:
        """Replace slot ``index`` if it still holds ``broken`` (one respawn however many calls met it)."""
        if index >= len(self._slots) or self._slots[index] is not broken:
            return
        log.error("session worker %d died; starting a new one and failing its sessions", index)
        broken.shutdown(wait=False, cancel_futures=True)
        self._slots[index] = self._spawn(index)
        if self.on_broken is not None:
            self.on_broken(index)

    def _dead(self, slot: Executor) -> bool:
        processes = getattr(slot, "_processes", None)
        return bool(getattr(slot, "_broken", False)) or any(
            p.exitcode is not None for p in (processes or {}).values())

    async def _watch_processes(self) -> None:
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            for index, slot in enumerate(list(self._slots)):
                if self._dead(slot):
                    self._respawn(index, slot)

    async def call_all(self, fn, *args) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(s, fn, self.owner, *args) for s in self._slots),
                             return_exceptions=True)

    async def stop(self) -> None:
        await cancel_and_wait([self._watch])
        self._watch = None
        slots, self._slots = self._slots, []
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(s, worker.drop_owner, self.owner) for s in slots),
                             return_exceptions=True)
        for slot in slots:
            slot.shutdown(wait=False, cancel_futures=True)
