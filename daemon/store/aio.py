"""The store as coroutines: every call runs on one worker thread of its own.

The event loop never waits on a disk or a Redis round trip, and because there is
exactly one worker, calls reach the ``KVStore`` one at a time and in the order
they were made, which is what the ``KVStore`` contract asks of its callers.

Group commit: writes made while the worker is busy are merged, in order, into one
batch that commits with one fsync. Each caller's own batch is checked alone first
(a bad batch fails only its caller), and each caller is answered only after the
merged batch is durable, so an acknowledged write is never lost. Concurrent
signing sessions each write a few records; one fsync per write capped a node at
about 40 signatures a second.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor

from daemon.errors import Unavailable
from daemon.store import check_batch
from daemon.store.kv import KVStore


class AsyncStore:
    def __init__(self, kv: KVStore) -> None:
        self.kv = kv
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="tssnet-store")
        self._closed = False
        self._lock = threading.Lock()
        self._pending: list[tuple[dict[str, bytes], list[str], asyncio.Future]] = []
        self._flush_queued = False

    async def get(self, key: str) -> bytes | None:
        return await self._run(self.kv.get, key)

    async def scan(self, prefix: str) -> list[tuple[str, bytes]]:
        return await self._run(self.kv.scan, prefix)

    async def keys(self, prefix: str) -> list[str]:
        return await self._run(self.kv.keys, prefix)

    async def write(self, puts: Mapping[str, bytes] = {}, deletes: Iterable[str] = ()) -> None:
        # Copied here: the caller may change its dict while the worker writes.
        puts, deletes = dict(puts), check_batch(puts, deletes)
        if self._closed:
            raise Unavailable("the node's store is closed: the node is shutting down")
        done = asyncio.get_running_loop().create_future()
        with self._lock:
            self._pending.append((puts, deletes, done))
            flush_queued, self._flush_queued = self._flush_queued, True
        if not flush_queued:
            # Submitted, not awaited: a writer cancelled while it waits must not take the
            # flush of everyone queued behind it down with it.
            try:
                self._worker.submit(self._flush)
            except RuntimeError:   # the worker is shut down: nobody queued may hang
                self._fail_pending(Unavailable("the node's store is closed: the node is shutting down"))
        await done

    def _fail_pending(self, error: Exception) -> None:
        with self._lock:
            batch, self._pending, self._flush_queued = self._pending, [], False
        for _, _, done in batch:
            _settle(done, error)

    def _flush(self) -> None:
        """On the worker: commit every write queued so far as one batch, then answer each."""
        with self._lock:
            batch, self._pending, self._flush_queued = self._pending, [], False
        merged_puts: dict[str, bytes] = {}
        merged_deletes: set[str] = set()
        for puts, deletes, _ in batch:   # later writes win, as if applied one by one
            for key in deletes:
                merged_puts.pop(key, None)
                merged_deletes.add(key)
            for key, value in puts.items():
                merged_deletes.discard(key)
                merged_puts[key] = value
        try:
            self.kv.write(merged_puts, sorted(merged_deletes))
            error = None
        except Exception as exc:
            error = exc
        for _, _, done in batch:
            done.get_loop().call_soon_threadsafe(_settle, done, error)

    async def take(self, key: str) -> bytes | None:
        return await self._run(self.kv.take, key)

    async def close(self) -> None:
        """Close the store after every call already made, then stop the worker.

        Marked closed before the close is queued: a call made while it runs gets
        ``Unavailable`` instead of reaching a closed backend.
        """
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._worker, self.kv.close)
        finally:
            self._worker.shutdown(wait=False)

    async def _run(self, call, *args):
        if self._closed:
            raise Unavailable("the node's store is closed: the node is shutting down")
        return await asyncio.get_running_loop().run_in_executor(self._worker, call, *args)

    def __repr__(self) -> str:
        return f"AsyncStore({self.kv!r})"


def _settle(done: asyncio.Future, error: BaseException | None) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
