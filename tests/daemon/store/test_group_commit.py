"""AsyncStore merges writes made while its worker is busy into one commit."""

import asyncio

import pytest

from daemon.errors import Unavailable
from daemon.store.aio import AsyncStore
from daemon.store.sqlite import SqliteStore


class CountingKV(SqliteStore):
    def __init__(self, path) -> None:
        super().__init__(path)
        self.commits = 0

    def write(self, puts, deletes=()) -> None:
        self.commits += 1
        super().write(puts, deletes)


def test_concurrent_writes_share_commits_and_all_land_in_order(tmp_path):
    async def main():
        kv = CountingKV(tmp_path / "db")
        store = AsyncStore(kv)
        await store.write({"k": b"first"})
        writes = [store.write({f"w/{i}": bytes([i])}) for i in range(50)]
        writes.append(store.write({"k": b"second"}))
        writes.append(store.write({}, ["w/3"]))        # a later delete wins over the earlier put
        await asyncio.gather(*writes)
        assert kv.commits < 1 + 52                      # merged, not one fsync per write
        assert await store.get("k") == b"second"
        assert await store.get("w/3") is None
        assert [k for k, _ in await store.scan("w/")] == sorted(f"w/{i}" for i in range(50) if i != 3)
        await store.close()
        reopened = SqliteStore(tmp_path / "db")         # durable once acknowledged
        assert reopened.get("w/49") == bytes([49])
        reopened.close()
    asyncio.run(main())


def test_a_bad_batch_fails_alone(tmp_path):
    async def main():
        store = AsyncStore(SqliteStore(tmp_path / "db"))
        good = [store.write({f"g/{i}": b"x"}) for i in range(5)]
        with pytest.raises(TypeError):
            await store.write({"bad": "not bytes"})
        await asyncio.gather(*good)
        assert len(await store.scan("g/")) == 5
        await store.close()
    asyncio.run(main())


def test_writes_queued_behind_a_close_fail_instead_of_hanging(tmp_path):
    async def main():
        store = AsyncStore(SqliteStore(tmp_path / "db"))
        first = asyncio.ensure_future(store.write({"a": b"1"}))
        await asyncio.sleep(0)
        await store.close()
        await first
        with pytest.raises(Unavailable):
            await asyncio.wait_for(store.write({"b": b"2"}), 5)
    asyncio.run(main())


def test_a_writer_cancelled_while_it_waits_does_not_stall_the_others(tmp_path):
    async def main():
        store = AsyncStore(SqliteStore(tmp_path / "db"))
        blocker = asyncio.ensure_future(store.scan(""))      # keeps the worker busy a moment
        first = asyncio.ensure_future(store.write({"a": b"1"}))
        await asyncio.sleep(0)
        second = asyncio.ensure_future(store.write({"b": b"2"}))
        await asyncio.sleep(0)
        first.cancel()                                     # its flush carries "b" too
        await asyncio.wait_for(second, 5)
        await blocker
        assert await store.get("b") == b"2"
        await store.close()
    asyncio.run(main())
