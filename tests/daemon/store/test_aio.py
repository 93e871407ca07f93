"""AsyncStore: the KVStore as coroutines, on one worker thread, in call order."""

from __future__ import annotations

import asyncio
import threading

import pytest

from daemon.errors import Unavailable
from daemon.store.aio import AsyncStore
from daemon.store.sqlite import SqliteStore


class RecordingKV:
    """A KVStore in a dict that notes which thread ran each call, and in what order."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.calls: list[tuple[str, str]] = []
        self.threads: list[threading.Thread] = []
        self.closed = False

    def _note(self, name: str, key: str) -> None:
        self.calls.append((name, key))
        self.threads.append(threading.current_thread())

    def get(self, key):
        self._note("get", key)
        return self.data.get(key)

    def scan(self, prefix):
        self._note("scan", prefix)
        return sorted((k, v) for k, v in self.data.items() if k.startswith(prefix))

    def write(self, puts, deletes=()):
        self._note("write", ",".join(sorted(puts)))
        for key in deletes:
            self.data.pop(key, None)
        self.data.update(puts)

    def take(self, key):
        self._note("take", key)
        return self.data.pop(key, None)

    def close(self):
        self._note("close", "")
        self.closed = True


def test_calls_run_off_the_loop_thread_in_the_order_made():
    kv = RecordingKV()

    async def main():
        store = AsyncStore(kv)
        results = await asyncio.gather(store.write({"a": b"1"}), store.get("a"), store.take("a"),
                                       store.scan(""))
        await store.close()
        return results

    assert asyncio.run(main()) == [None, b"1", b"1", []]
    assert kv.calls == [("write", "a"), ("get", "a"), ("take", "a"), ("scan", ""), ("close", "")]
    assert len(kv.threads) == len(kv.calls) and len(set(kv.threads)) == 1   # every call, one thread
    assert kv.threads[0] is not threading.main_thread()
    assert kv.threads[0].name.startswith("tssnet-store") and kv.closed


def test_a_call_made_while_closing_is_unavailable_and_never_reaches_the_store():
    kv = RecordingKV()

    async def main():
        store = AsyncStore(kv)
        before = store.write({"a": b"1"})
        # close starts (and marks the store closed) before the get below is even made.
        return await asyncio.gather(before, store.close(), store.get("a"), store.close(),
                                    return_exceptions=True)

    written, closed, got, closed_again = asyncio.run(main())
    assert written is None and closed is None and closed_again is None
    assert isinstance(got, Unavailable) and "shutting down" in got.message
    assert kv.calls == [("write", "a"), ("close", "")]


def test_errors_reach_the_caller(tmp_path):
    async def main():
        store = AsyncStore(SqliteStore(tmp_path / "node.db"))
        try:
            with pytest.raises(TypeError):
                await store.write({"k": "not bytes"})
            await store.write({"k": b"v"})
            assert await store.get("k") == b"v"
        finally:
            await store.close()

    asyncio.run(main())


def test_close_closes_the_store_and_the_worker(tmp_path):
    kv = SqliteStore(tmp_path / "node.db")

    async def main():
        store = AsyncStore(kv)
        await store.close()
        await store.close()                      # a second close is harmless
        with pytest.raises(Unavailable, match="closed"):
            await store.get("k")

    asyncio.run(main())
    with pytest.raises(Exception, match="closed"):
        kv.get("k")
