"""What the prime pool tests share: executors that stall or count, a pool over SQLite.

``StalledExecutor`` checks seed files at once but never finishes a generation job, so
a pool over it hands out seed primes only. Background tests generate ``SMALL_BITS``
safe primes: about 15 ms each instead of about half a second at 1024 bits, and the
code path does not depend on the size (protocol.primes accepts 16 bits and up).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor

from daemon.prime_pool import PrimePool, read_seed_file
from daemon.store.aio import AsyncStore
from daemon.store.sealed import Sealer
from daemon.store.sqlite import SqliteStore

MASTER = bytes(range(32))
SMALL_BITS = 256
WAIT = 30.0   # a bound on waiting for background work, never a speed assertion


class StalledExecutor(Executor):
    """Checks seed files at once; generation jobs it accepts and never runs (always in progress)."""

    def __init__(self) -> None:
        self.submitted = 0
        self.ran: list[str] = []

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        if fn is read_seed_file:
            self.ran.append(fn.__name__)
            try:
                future.set_result(fn(*args, **kwargs))
            except Exception as exc:
                future.set_exception(exc)
            return future
        self.submitted += 1
        return future


class CountingExecutor(ThreadPoolExecutor):
    """Runs jobs on threads and remembers the most that ever ran at once."""

    def __init__(self) -> None:
        super().__init__(4)
        self.running = self.most = self.jobs = 0
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):
        def counted():
            with self._lock:
                self.running += 1
                self.jobs += 1
                self.most = max(self.most, self.running)
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self.running -= 1
        return super().submit(counted)


def make_pool(db, *, seed_file=None, target=2, bits=1024, executor=None, master=MASTER):
    store = AsyncStore(SqliteStore(db))
    pool = PrimePool(store, Sealer(master), bits=bits, target=target, seed_file=seed_file,
                     executor=executor or StalledExecutor())
    return pool, store


async def closing(pool, store):
    await pool.stop()
    await store.close()


async def wait_until(condition) -> None:
    async with asyncio.timeout(WAIT):
        while not condition():
            await asyncio.sleep(0.01)
