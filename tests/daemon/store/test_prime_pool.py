"""The safe-prime pool: every prime handed out once, sealed at rest, refilled in the background.

Most tests take primes from a seed file made of the first few 1024-bit primes of
tests/data/safe_primes_1024.txt, with an executor that checks the seed file but never
finishes generating, so nothing is generated (see prime_pool_support). Failures, test
primes and the damaged store are in test_prime_pool_failures.py.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from daemon.errors import BadRequest, Unavailable
from daemon.prime_pool import READY, USED, PooledPrime, prime_id
from daemon.store.sealed import SealedRecordError
from daemon.store.sqlite import SqliteStore
from protocol.primes import is_safe_prime
from tests.daemon.store.prime_pool_support import (
    SMALL_BITS,
    WAIT,
    CountingExecutor,
    StalledExecutor,
    closing,
    make_pool,
    wait_until,
)
from tests.primepool import POOL_FILE, pool_primes


def test_seed_primes_come_first_in_file_order_and_are_distinct_safe_primes(db, seed_file):
    async def main():
        pool, store = make_pool(db, seed_file=seed_file)
        await pool.start()
        assert pool.ready() == 6
        first = await pool.take(2, timeout=1)
        rest = await pool.take(4, timeout=1)
        await closing(pool, store)
        return first, rest

    first, rest = asyncio.run(main())
    assert first + rest == list(pool_primes()[:6])
    assert all(is_safe_prime(p) and p.bit_length() == 1024 for p in first + rest)


def test_a_restart_never_hands_out_a_prime_again(db, seed_file):
    async def run_once(count):
        pool, store = make_pool(db, seed_file=seed_file)
        await pool.start()
        ready = pool.ready()
        taken = await pool.take(count, timeout=1)
        await closing(pool, store)
        return ready, taken

    ready1, first = asyncio.run(run_once(2))
    ready2, second = asyncio.run(run_once(3))
    ready3, third = asyncio.run(run_once(1))
    assert (ready1, ready2, ready3) == (6, 4, 1)
    assert len(set(first + second + third)) == 6


def test_concurrent_takes_never_share_a_prime(db, seed_file):
    async def main():
        pool, store = make_pool(db, seed_file=seed_file)
        other, other_store = make_pool(db, seed_file=seed_file)   # a second pool over the same file
        await pool.start()
        await other.start()
        results = await asyncio.gather(pool.take(2, 1), other.take(2, 1), pool.take(1, 1), other.take(1, 1))
        await closing(pool, store)
        await closing(other, other_store)
        return results

    everything = [p for taken in asyncio.run(main()) for p in taken]
    assert sorted(everything) == sorted(pool_primes()[:6])


def test_a_short_pool_times_out_and_keeps_what_it_had(db, seed_file):
    async def main():
        executor = StalledExecutor()
        pool, store = make_pool(db, seed_file=seed_file, executor=executor)
        await pool.start()
        await pool.take(4, timeout=1)
        with pytest.raises(Unavailable, match="no safe primes ready"):
            await pool.take(3, timeout=0.05)
        assert pool.ready() == 2           # the two it held went back
        assert executor.submitted == 1     # one job at a time, even with a taker waiting
        assert len(await pool.take(2, timeout=0)) == 2
        with pytest.raises(Unavailable):
            await pool.take(1, timeout=0)
        await closing(pool, store)

    asyncio.run(main())


def test_primes_are_sealed_at_rest(db, seed_file):
    async def main():
        pool, store = make_pool(db, seed_file=seed_file)
        await pool.start()
        await pool.take(1, timeout=1)
        await closing(pool, store)

    asyncio.run(main())
    kv = SqliteStore(db)
    values = b"".join(value for _, value in kv.scan(""))
    ready = kv.scan(READY)
    kv.close()
    assert len(ready) == 5
    for p in pool_primes()[:6]:
        assert p.to_bytes(128, "big")[:32] not in values and f"{p:x}"[:64].encode() not in values
    assert {key[len(READY):] for key, _ in ready} == {prime_id(p) for p in pool_primes()[1:6]}
    assert repr(PooledPrime(pool_primes()[0])) == "PooledPrime(<redacted>)"


def test_another_master_key_stops_the_pool_at_start(db, seed_file):
    async def main():
        pool, store = make_pool(db, seed_file=seed_file)
        await pool.start()
        await closing(pool, store)
        pool, store = make_pool(db, master=bytes(32))
        with pytest.raises(SealedRecordError):
            await pool.start()
        await closing(pool, store)

    asyncio.run(main())


def test_seed_primes_are_recorded_as_used(db, seed_file):
    async def main():
        pool, store = make_pool(db, seed_file=seed_file)
        await pool.start()
        await pool.take(6, timeout=1)
        used = [key for key, _ in await store.scan(USED)]
        await closing(pool, store)
        return used

    assert sorted(asyncio.run(main())) == sorted(USED + prime_id(p) for p in pool_primes()[:6])


@pytest.mark.parametrize("line, problem", [
    ("zz", "not a hex integer"),
    (f"{pool_primes()[0] + 2:x}", "not a safe prime"),
    (f"{pool_primes()[1]:x}", "duplicate"),
    ("ff" * 128, "not a safe prime"),
    ("c7", "not 1024 bits"),
])
def test_a_bad_seed_file_is_refused_at_start(db, tmp_path, line, problem):
    path = tmp_path / "bad.txt"
    path.write_text(f"{pool_primes()[1]:x}\n{line}\n")

    async def main():
        pool, store = make_pool(db, seed_file=path)
        with pytest.raises(BadRequest, match=problem) as caught:
            await pool.start()
        await closing(pool, store)
        return caught.value.message

    message = asyncio.run(main())
    assert "line 2" in message and str(path) in message


def test_the_test_pool_file_itself_is_accepted(db):
    async def main():
        pool, store = make_pool(db, seed_file=POOL_FILE, target=4)
        await pool.start()
        ready = pool.ready()
        await closing(pool, store)
        return ready

    assert asyncio.run(main()) == len(pool_primes())


def test_a_fresh_node_generates_its_target_in_a_worker_process(db, caplog):
    async def main():
        # forkserver: a fork of this multi-threaded process (the store's worker thread) is unsafe.
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver")) as executor:
            pool, store = make_pool(db, target=2, bits=SMALL_BITS, executor=executor)
            with caplog.at_level(logging.INFO, logger="tssnet.primes"):
                await pool.start()
            taken = await pool.take(3, timeout=WAIT)   # one more than the target: made on demand
            await wait_until(lambda: pool.ready() == 2)
            await closing(pool, store)
            return taken

    taken = asyncio.run(main())
    assert len(set(taken)) == 3
    assert all(is_safe_prime(p) and p.bit_length() == SMALL_BITS for p in taken)
    assert "generating 2 safe primes in the background (a fresh node does this once)" in caplog.text


def test_generation_runs_one_job_at_a_time_and_stops_at_the_target(db):
    executor = CountingExecutor()

    async def main():
        pool, store = make_pool(db, target=4, bits=SMALL_BITS, executor=executor)
        await pool.start()
        await asyncio.gather(pool.take(2, WAIT), pool.take(2, WAIT))
        await wait_until(lambda: pool.ready() == 4)
        await asyncio.sleep(0.05)      # room for a wrong extra job to start
        await closing(pool, store)
        return pool.ready()

    assert asyncio.run(main()) == 4
    executor.shutdown()
    assert executor.most == 1 and executor.jobs == 8


def test_a_target_of_zero_still_serves_a_taker(db):
    async def main():
        with ThreadPoolExecutor(1) as executor:
            pool, store = make_pool(db, target=0, bits=SMALL_BITS, executor=executor)
            await pool.start()
            assert pool.ready() == 0
            taken = await pool.take(1, timeout=WAIT)
            await closing(pool, store)
            return taken, pool.ready()

    taken, ready = asyncio.run(main())
    assert len(taken) == 1 and ready == 0


def test_a_broken_executor_is_reported_to_takers(db):
    async def main():
        executor = ThreadPoolExecutor(1)
        executor.shutdown()
        pool, store = make_pool(db, target=1, bits=SMALL_BITS, executor=executor)
        await pool.start()
        with pytest.raises(Unavailable, match="generating safe primes failed"):
            await pool.take(1, timeout=WAIT)
        await closing(pool, store)

    asyncio.run(main())


def test_stop_wakes_a_waiting_taker(db):
    async def main():
        pool, store = make_pool(db, target=1)
        await pool.start()
        waiting = asyncio.create_task(pool.take(1, timeout=WAIT))
        await asyncio.sleep(0.01)
        await pool.stop()
        with pytest.raises(Unavailable, match="stopped"):
            await waiting
        await store.close()

    asyncio.run(main())


def test_primes_of_another_size_are_left_unused(db, seed_file):
    async def main():
        pool, store = make_pool(db, seed_file=seed_file)
        await pool.start()
        await closing(pool, store)
        pool, store = make_pool(db, bits=1536, target=0)
        await pool.start()
        ready = pool.ready()
        await closing(pool, store)
        return ready

    assert asyncio.run(main()) == 0
