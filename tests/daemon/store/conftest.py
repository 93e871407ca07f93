"""Both store backends behind one fixture, so every contract test runs on each.

``open_kv(namespace)`` opens another store object on the same backend and place
(the same SQLite file, the same Redis server): two objects in one namespace share
their keys, as two connections of one node would; other namespaces see nothing.
"""

from __future__ import annotations

import uuid

import pytest

from daemon.store.redis import RedisStore
from daemon.store.sqlite import SqliteStore
from tests.daemon.redis_fixture import redis_instance, redis_server  # noqa: F401
from tests.primepool import pool_primes


@pytest.fixture(params=["sqlite", "redis"])
def open_kv(request, tmp_path):
    opened = []
    # The Redis server is shared by the session: a fresh word keeps this test's keys apart.
    run = uuid.uuid4().hex[:12]

    def open_one(namespace: str = "node"):
        if request.param == "sqlite":
            kv = SqliteStore(tmp_path / "node.db", namespace)
        else:
            kv = RedisStore(request.getfixturevalue("redis_server"), f"{run}-{namespace}")
        opened.append(kv)
        return kv

    yield open_one
    for kv in opened:
        kv.close()


@pytest.fixture
def kv(open_kv):
    return open_kv()


@pytest.fixture
def db(tmp_path):
    """Where a prime pool test keeps its SQLite store."""
    return tmp_path / "node.db"


@pytest.fixture
def seed_file(tmp_path):
    """A prime pool seed file with the first six test primes."""
    path = tmp_path / "seed.txt"
    path.write_text("# six test primes\n" + "\n".join(f"{p:x}" for p in pool_primes()[:6]) + "\n")
    return path
