"""Keys made once per test process and copied into each test's stores (keygen is the slow part).

``make_ecdsa_key`` backs the ``ecdsa_key`` fixtures (tests/daemon/sessions/conftest.py and
tests/daemon/test_node_service.py): the stores are made once per process however many use them.
"""

from __future__ import annotations

from daemon.service import KeygenRequest
from tests.daemon.sessions.harness import Cluster, Timer, run

_MADE: dict[str, tuple] = {}


def _make_key(tmp_path_factory, name: str, request: KeygenRequest):
    if name in _MADE:
        return _MADE[name]
    target = tmp_path_factory.mktemp(name)

    async def make():
        cluster = Cluster(3)
        async with cluster:
            with Timer(f"{request.scheme} keygen {request.threshold}-of-3 (in-process workers)"):
                session_id = await cluster.services[0].start_keygen(request)
                view = await cluster.services[0].wait_session(session_id, 60)
            assert view.state == "done", view
            await cluster.stop()
            cluster.save(target)
        return view

    _MADE[name] = (target, run(make()))
    return _MADE[name]


def make_ecdsa_key(tmp_path_factory):
    """(directory of 3 node stores holding the 1-of-3 ECDSA key "k1", its keygen SessionView)."""
    return _make_key(tmp_path_factory, "ecdsa", KeygenRequest(threshold=1, key_id="k1"))
