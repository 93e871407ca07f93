"""A session's life at its edges: a worker that breaks, a timeout while opening or storing,
secrets gone at the end, presignatures dropped at start, primes taken only for the aux phase,
bounded inboxes and pruned records."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from daemon.errors import Conflict
from daemon.records import SessionRecord, valid_session_id
from daemon.service import KeygenRequest, SignRequest
from daemon.sessions import session as session_module
from daemon.sessions import worker
from tests.daemon.sessions.harness import Cluster, Primes, run


async def _until(predicate, what: str, tries: int = 500) -> None:
    for _ in range(tries):
        if await predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def _runs(node) -> list[str]:
    return list(worker._OWNERS[node.engine.slots.owner].runs)


def test_a_broken_worker_ends_the_session_and_wakes_its_waiters():
    async def main():
        async with Cluster(3, keygen_timeout=3.0) as c:
            slots = c.nodes[0].engine.slots
            real, calls = slots.call, []

            async def breaking(route, fn, *args):
                calls.append(fn.__name__)
                if len(calls) > 1:   # the worker died after the session opened
                    raise BrokenProcessPool("worker died")
                return await real(route, fn, *args)
            slots.call = breaking
            sid = await c.services[0].start_keygen(KeygenRequest(scheme="eddsa", threshold=1, key_id="x"))
            live = c.nodes[0].engine.session(sid)
            await asyncio.wait_for(live.done.wait(), 8)
            assert live.error is not None and live.job is None
            assert "abandon" in calls   # tried, failed, and the end went on
            assert (await c.services[0].session(sid)).state == "failed"
    run(main())


def test_a_timeout_while_the_worker_opens_still_erases_the_run(monkeypatch):
    real = worker.open_session

    def slow(owner, job, frames=()):
        time.sleep(1.5)
        return real(owner, job, frames)
    monkeypatch.setattr(worker, "open_session", slow)

    async def main():
        async with Cluster(3, keygen_timeout=1.0) as c:
            sid = await c.services[0].start_keygen(KeygenRequest(scheme="eddsa", threshold=1, key_id="x"))
            view = await c.services[0].wait_session(sid, 10)
            assert view.state == "failed" and view.error.type == "session_timeout"
            assert c.nodes[0].peer_id not in view.error.message   # never itself as the one missing

            async def erased():
                return all(not _runs(n) for n in c.nodes)
            await _until(erased, "every worker dropped the run", tries=1000)
            assert c.nodes[0].engine.session(sid).job is None
    run(main())


def test_a_timeout_while_the_key_is_stored_keeps_the_session_done(monkeypatch):
    async def main():
        async with Cluster(3, keygen_timeout=1.5) as c:
            keys = c.nodes[0].engine.keys
            real = keys.put_key

            async def slow(record, share):
                await asyncio.sleep(2.0)
                await real(record, share)
            monkeypatch.setattr(keys, "put_key", slow)
            sid = await c.services[0].start_keygen(KeygenRequest(scheme="eddsa", threshold=1, key_id="x"))
            view = await c.services[0].wait_session(sid, 10)
            assert view.state == "done", view
            assert (await c.services[0].key("x")).public_key == view.public_key
    run(main())


def test_a_presignature_finishing_after_its_key_was_deleted_is_not_stored(ecdsa_key):
    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            keys = c.nodes[0].engine.keys
            await keys.delete_key("k1")
            with pytest.raises(Conflict):
                await keys.put_presignature("k1", 0, (1, 2), b"\1" * 32, b"secret")
            assert not [k for k in await c.nodes[0].dump() if k.startswith("presig/")]
    run(main())


def test_stored_presignatures_are_deleted_at_start(ecdsa_key, caplog):
    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            await c.services[0].presign("k1", 2, None)

            async def stored_by_the_other_signer():
                # The coordinator answers once its own halves are stored; the other
                # signer stores its halves as its own runs end, a moment later.
                return (await c.services[1].key("k1")).presignatures == 2
            await _until(stored_by_the_other_signer, "the second signer stores both presignatures")
            with caplog.at_level(logging.INFO, logger="tssnet.sessions"):
                await c.restart(1)
            assert (await c.services[1].key("k1")).presignatures == 0
            assert "deleted 2 stored presignatures" in caplog.text
    run(main())


class GatedPrimes(Primes):
    """Primes that wait for ``gate``: a node whose pool is empty for now."""

    def __init__(self, primes) -> None:
        super().__init__(primes)
        self.gate, self.asked = asyncio.Event(), 0

    async def take(self, count, timeout):
        self.asked += 1
        await self.gate.wait()
        return await super().take(count, timeout)


def test_keygen_waits_for_primes_with_its_session_open_and_takes_them_only_for_aux(ecdsa_key):
    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            # a keygen refused at once (node 2 holds "k1") costs no one a prime
            before = [len(n.primes) for n in c.nodes]
            await c.services[0].delete_share("k1")
            await c.services[1].delete_share("k1")
            sid = await c.services[0].start_keygen(KeygenRequest(threshold=1, key_id="k1"))
            view = await c.services[0].wait_session(sid, 30)
            assert view.state == "failed" and view.error.type == "key_id_exists"
            assert [len(n.primes) for n in c.nodes] == before
            # a node with no primes yet: its session (and inbox) exists while it waits for them
            slow = c.nodes[2]
            slow.engine.prime_pool = gated = GatedPrimes(slow.primes._primes)
            sid = await c.services[0].start_keygen(KeygenRequest(threshold=1, key_id="k9"))

            async def waiting():
                return gated.asked == 1 and slow.engine.session(sid) is not None
            await _until(waiting, "node 2 waits for primes inside its session", tries=3000)
            await asyncio.sleep(0.2)    # peers' aux frames arrive meanwhile and are kept
            gated.gate.set()
            view = await c.services[0].wait_session(sid, 30)
            assert view.state == "done", view
            assert (await c.services[2].key("k9")).public_key == view.public_key
    run(main())


def test_a_session_inbox_is_bounded(monkeypatch):
    async def main():
        async with Cluster(3, session_timeout=2.0) as c:
            sid = await c.services[0].start_keygen(KeygenRequest(scheme="eddsa", threshold=1, key_id="e"))
            assert (await c.services[0].wait_session(sid, 30)).state == "done"
            monkeypatch.setattr(session_module, "MAX_INBOX", 3)
            c.net.tap = lambda s, r, p: None if s == c.nodes[1].peer_id else p   # node 1 falls silent
            task = asyncio.create_task(c.services[0].sign(SignRequest("e", message=b"m", players=(0, 1))))
            engine = c.nodes[0].engine

            async def live():
                return engine.live_sessions() == 1
            await _until(live, "the sign runs")
            session = next(s for s in engine._sessions.values() if not s.done.is_set())
            for _ in range(10):
                session.frame(c.nodes[1].peer_id, 0, b"junk")
            assert engine.stats["frames_dropped"] >= 7
            with pytest.raises(Exception):   # noqa: B017 - it times out or blames; either ends it
                await task
    run(main())


def test_finished_session_records_are_pruned_but_not_within_the_replay_window():
    async def main():
        async with Cluster(2) as c:
            keys = c.nodes[0].engine.keys
            peer = c.nodes[0].peer_id
            now = 10 ** 12
            ages = {"a": 48 * 3600_000, "b": 3600_000, "c": 60_000, "d": 50 * 3600_000}
            for tag, age in ages.items():
                state = "running" if tag == "d" else "done"
                await keys.put_session(SessionRecord(tag * 32, "sign", state, now - age, (peer,), peer))
            pruned = await keys.prune_sessions(now_ms=now, max_age_ms=24 * 3600_000, keep=2,
                                               replay_window_ms=120_000)
            left = sorted(r.session_id[0] for r in await keys.sessions())
            # a: too old; b: beyond the 2 kept (d is live and counts); c: inside the replay window
            assert pruned == 2 and left == ["c", "d"]
    run(main())


def test_session_ids_have_one_rule():
    assert valid_session_id("0123456789abcdef" * 2)
    for bad in ("deadbeef", "0123456789ABCDEF" * 2, "g" * 32, "0" * 33, None, 7, "../" + "0" * 29):
        assert not valid_session_id(bad)


def test_a_finished_run_is_not_abandoned_again():
    # The worker drops a run once it is done or failed; calling it again at the end
    # would cost every session one more process round trip for nothing.
    async def main():
        async with Cluster(3) as c:
            calls = []
            for node in c.nodes:
                real = node.engine.slots.call

                async def recording(route, fn, *args, real=real):
                    calls.append(fn.__name__)
                    return await real(route, fn, *args)
                node.engine.slots.call = recording
            sid = await c.services[0].start_keygen(KeygenRequest(scheme="eddsa", threshold=1, key_id="y"))
            await asyncio.wait_for(c.nodes[0].engine.session(sid).done.wait(), 8)
            assert (await c.services[0].session(sid)).state == "done"
            assert "open_session" in calls and "abandon" not in calls
            assert all(not _runs(node) for node in c.nodes)
    run(main())
