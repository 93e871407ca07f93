"""The worker slots sessions run on: long-lived single-worker executors, routed by key id.

Each slot is a ``ProcessPoolExecutor`` with one process (or, for tests, a
one-thread ``ThreadPoolExecutor`` running the very same functions), so CPU-heavy
rounds never run on the event loop. A session always goes to the slot of its key
id: calls for one session run one after the other in one place, and the key's
``KeyMaterial`` is built once per slot and reused. Processes are spawned, not
forked: the node runs threads (the libp2p bridge, the store) a fork would copy
mid-flight.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import secrets
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

from daemon.orphans import exit_with_parent
from daemon.sessions import worker

log = logging.getLogger("tssnet.sessions")


def _init_process(owner: str, seed: bytes) -> None:
    exit_with_parent()   # a SIGKILLed node must not leave its workers behind
    worker.init(owner, seed)


class WorkerSlots:
    def __init__(self, *, seed: bytes, count: int, processes: bool = True) -> None:
        self._seed = seed
        self._count = count or os.cpu_count() or 1
        self._processes = processes
        # Threads of one test process share the worker table: each node is its own owner.
        self.owner = secrets.token_hex(8)
        self._slots: list[Executor] = []

    async def start(self) -> None:
        """Start every slot and wait until each worker is up (so no session pays for a spawn)."""
        context = multiprocessing.get_context("spawn")
        for _ in range(self._count):
            if self._processes:
                slot = ProcessPoolExecutor(1, mp_context=context, initializer=_init_process,
                                           initargs=(self.owner, self._seed))
            else:
                slot = ThreadPoolExecutor(1, initializer=worker.init, initargs=(self.owner, self._seed))
            self._slots.append(slot)
        loop = asyncio.get_running_loop()
        up = await asyncio.gather(*(loop.run_in_executor(s, worker.ready, self.owner) for s in self._slots))
        if not all(up):
            raise RuntimeError("a session worker did not take its initializer")
        log.info("session workers started: %d %s", self._count,
                 "processes" if self._processes else "threads")

    def _slot(self, route: str) -> Executor:
        index = int.from_bytes(hashlib.sha256(route.encode()).digest()[:4], "big") % len(self._slots)
        return self._slots[index]

    async def call(self, route: str, fn, *args):
        """``fn(owner, *args)`` on the slot of ``route`` (a key id)."""
        if not self._slots:
            raise RuntimeError("the session workers are stopped")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._slot(route), fn, self.owner, *args)

    async def call_all(self, fn, *args) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(s, fn, self.owner, *args) for s in self._slots),
                             return_exceptions=True)

    async def stop(self) -> None:
        slots, self._slots = self._slots, []
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(s, worker.drop_owner, self.owner) for s in slots),
                             return_exceptions=True)
        for slot in slots:
            slot.shutdown(wait=False, cancel_futures=True)
