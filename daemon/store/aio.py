"""The store as coroutines: every call runs on one worker thread of its own.

The event loop never waits on a disk or a Redis round trip, and because there is
exactly one worker, calls reach the ``KVStore`` one at a time and in the order
they were made, which is what the ``KVStore`` contract asks of its callers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from daemon.errors import Unavailable
from daemon.store.kv import KVStore


class AsyncStore:
    def __init__(self, kv: KVStore) -> None:
        self.kv = kv
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="tssnet-store")
        self._closed = False

    async def get(self, key: str) -> bytes | None:
        return await self._run(self.kv.get, key)

    async def scan(self, prefix: str) -> list[tuple[str, bytes]]:
        return await self._run(self.kv.scan, prefix)

    async def write(self, puts: Mapping[str, bytes] = {}, deletes: Iterable[str] = ()) -> None:
        # Copied here: the caller may change its dict while the worker writes.
        await self._run(partial(self.kv.write, dict(puts), list(deletes)))

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
