"""The prime pool when things go wrong: test primes, a flaky or damaged store, a wrong key."""

from __future__ import annotations

import asyncio
import logging

import pytest

import daemon.prime_pool
from daemon import config as node_config
from daemon.errors import BadRequest, Unavailable
from daemon.prime_pool import READY, PooledPrime, PrimePool, prime_id
from daemon.store.aio import AsyncStore
from daemon.store.sealed import SealedRecordError, Sealer
from daemon.store.sqlite import SqliteStore
from protocol import wire
from protocol.primes import is_safe_prime
from tests.daemon.store.prime_pool_support import (
    MASTER,
    SMALL_BITS,
    WAIT,
    CountingExecutor,
    StalledExecutor,
    closing,
    make_pool,
    wait_until,
)
from tests.primepool import pool_primes


def test_a_seed_file_is_checked_in_the_executor_and_logged_as_an_error(db, seed_file, caplog):
    async def main():
        executor = StalledExecutor()
        pool, store = make_pool(db, seed_file=seed_file, executor=executor)
        with caplog.at_level(logging.INFO, logger="tssnet.primes"):
            await pool.start()
        await closing(pool, store)
        return executor.ran

    assert asyncio.run(main()) == ["read_seed_file"]   # the safe-prime checks ran off the loop
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "test primes in use: never hold real funds on this node" in errors[0]
    assert str(seed_file) in errors[0]


def test_no_seed_file_no_test_prime_error(db, caplog):
    async def main():
        pool, store = make_pool(db)
        with caplog.at_level(logging.INFO, logger="tssnet.primes"):
            await pool.start()
        await closing(pool, store)

    asyncio.run(main())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_config_refuses_a_seed_file_without_the_insecure_flag(tmp_path):
    with pytest.raises(BadRequest, match="insecure_test_primes = true") as caught:
        node_config.build({"prime_pool_file": str(tmp_path / "primes.txt")})
    assert "never holds real funds" in caught.value.message
    with pytest.raises(BadRequest, match="insecure_test_primes"):
        node_config.build({"prime_pool_file": str(tmp_path / "primes.txt"), "insecure_test_primes": False})
    config = node_config.build({"prime_pool_file": str(tmp_path / "primes.txt"), "insecure_test_primes": True})
    assert config.insecure_test_primes and config.prime_pool_file == tmp_path / "primes.txt"
    assert node_config.build({}).insecure_test_primes is False
    with pytest.raises(BadRequest):
        node_config.build({"insecure_test_primes": "yes"})   # a bool, not a string


class FlakyStore(AsyncStore):
    """An AsyncStore whose next ``failures`` writes fail as an unreachable store would."""

    def __init__(self, kv, failures: int) -> None:
        super().__init__(kv)
        self.failures = failures

    async def write(self, puts, deletes=()):
        if self.failures:
            self.failures -= 1
            raise Unavailable("the store's redis server is unreachable")
        await super().write(puts, deletes)


def test_an_unavailable_store_delays_generation_without_losing_the_prime(db, monkeypatch, caplog):
    monkeypatch.setattr(daemon.prime_pool, "_RETRY_FIRST_S", 0.001)
    executor = CountingExecutor()

    async def main():
        store = FlakyStore(SqliteStore(db), failures=3)
        pool = PrimePool(store, Sealer(MASTER), bits=SMALL_BITS, target=2, seed_file=None,
                         executor=executor)
        with caplog.at_level(logging.WARNING, logger="tssnet.primes"):
            await pool.start()
            taken = await pool.take(1, timeout=WAIT)
            await wait_until(lambda: pool.ready() == 2)
        await closing(pool, store)
        return taken

    taken = asyncio.run(main())
    executor.shutdown()
    assert len(taken) == 1 and is_safe_prime(taken[0])
    assert executor.jobs == 3        # three primes made; the failed writes made none again
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 3 and "unreachable" in retries[0]


@pytest.mark.parametrize("damage", ["another prime", "not a prime record"])
def test_a_damaged_pool_record_is_unavailable_not_a_bad_request(db, damage):
    sealer = Sealer(MASTER)
    ident = prime_id(pool_primes()[0])
    content = wire.encode(PooledPrime(pool_primes()[1])) if damage == "another prime" else b"\x00garbage"
    kv = SqliteStore(db)
    kv.write({READY + ident: sealer.seal(READY + ident, content)})
    kv.close()

    async def main():
        pool, store = make_pool(db)
        with pytest.raises(Unavailable, match="the store is damaged") as caught:
            await pool.start()
        await closing(pool, store)
        return caught.value

    error = asyncio.run(main())
    assert error.status == 503


def test_a_sealed_record_error_is_a_node_error(db, seed_file):
    async def main():
        pool, store = make_pool(db, seed_file=seed_file)
        await pool.start()
        await closing(pool, store)
        pool, store = make_pool(db, master=bytes(32))
        with pytest.raises(SealedRecordError) as caught:
            await pool.start()
        await closing(pool, store)
        return caught.value

    error = asyncio.run(main())
    assert error.status == 500 and error.type == "sealed_record_invalid"
    assert error.to_json()["error"]["type"] == "sealed_record_invalid"
