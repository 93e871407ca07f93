"""A worker process killed mid-session: its session fails at once with worker_failed, no
waiter hangs, and the slot is respawned so the next session runs (real processes)."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from daemon.errors import NodeError
from daemon.service import KeygenRequest, SignRequest
from tests.daemon.sessions import traffic
from tests.daemon.sessions.checks import assert_ed25519
from tests.daemon.sessions.harness import Cluster, run


def test_a_killed_worker_fails_its_sessions_and_its_slot_comes_back():
    async def main():
        async with Cluster(3, processes=True, workers=1, session_timeout=30.0) as c:
            service = c.services[0]
            sid = await service.start_keygen(KeygenRequest(scheme="eddsa", threshold=1, key_id="ed"))
            view = await service.wait_session(sid, 60)
            assert view.state == "done", view
            public_key = bytes.fromhex(view.public_key)
            a, b = c.nodes[0], c.nodes[1]
            # node 1's frames never reach node 0: its session waits, its run open in the worker
            c.net.tap = lambda s, r, p: traffic.dropping_frames(p) if (s, r) == (b.peer_id, a.peer_id) else p
            stuck = asyncio.create_task(service.sign(SignRequest("ed", message=b"x", players=(0, 1))))
            for _ in range(500):
                if a.engine.live_sessions() == 1:
                    break
                await asyncio.sleep(0.01)
            session = next(s for s in a.engine._sessions.values() if not s.done.is_set())
            for _ in range(500):
                if session._open and a.engine.slots.pids(session.slot):
                    break
                await asyncio.sleep(0.01)
            [pid] = a.engine.slots.pids(session.slot)
            os.kill(pid, signal.SIGKILL)
            with pytest.raises(NodeError) as err:
                await asyncio.wait_for(stuck, 15)   # far less than the session's 30 s timeout
            assert err.value.type == "worker_failed"
            assert session.done.is_set() and session.job is None
            c.net.tap = None
            signed = await service.sign(SignRequest("ed", message=b"after", players=(0, 1)))
            assert_ed25519(signed, public_key, b"after")
            assert a.engine.slots.pids(session.slot) != [pid]
    run(main())
