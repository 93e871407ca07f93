"""The node's storage: ``open_store`` picks the backend the configuration names.

Embedded SQLite in the data directory is the default; ``redis_url`` moves state to a
Redis server, where ``namespace`` keeps nodes (and a node's parts) sharing one server
apart. Backends are imported when chosen, so a node without Redis never loads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from daemon.config import NodeConfig
from daemon.errors import BadRequest
from daemon.store.kv import KVStore

#: a namespace is one word: it becomes part of every Redis key, so it holds no ':' or glob
NAMESPACE = re.compile(r"[A-Za-z0-9_.\-]{1,128}")


def open_store(config: NodeConfig, namespace: str) -> KVStore:
    check_namespace(namespace)
    if config.redis_url:
        from daemon.store.redis import RedisStore

        return RedisStore(config.redis_url, namespace)
    from daemon.store.sqlite import SqliteStore

    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return SqliteStore(config.data_dir / "node.db", namespace)


def check_namespace(namespace: str) -> None:
    if not isinstance(namespace, str) or not NAMESPACE.fullmatch(namespace):
        raise BadRequest(f"store namespace {namespace!r} must be 1-128 letters, digits, '_', '.' or '-'")


def encode_key(key: str) -> bytes:
    if not isinstance(key, str) or not key:
        raise ValueError(f"a store key is a non-empty str, not {key!r}")
    return key.encode()


def check_batch(puts: Mapping[str, bytes], deletes: Iterable[str]) -> list[str]:
    """The deletes as a list; refuses non-bytes values and a key both put and deleted.

    Every backend checks a batch the same way before touching anything, so a bad
    batch changes nothing on either.
    """
    for key, value in puts.items():
        encode_key(key)
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"store value for {key!r} must be bytes, not {type(value).__name__}")
    deletes = list(deletes)
    for key in deletes:
        encode_key(key)
    both = set(puts) & set(deletes)
    if both:
        raise ValueError(f"keys both put and deleted in one batch: {sorted(both)}")
    return deletes
