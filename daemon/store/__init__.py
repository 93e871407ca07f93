"""The node's storage: ``open_store`` picks the backend the configuration names.

Embedded SQLite in the data directory is the default; ``redis_url`` moves state to a
Redis server, where ``namespace`` keeps a node's parts (the node and its ledger) apart.
Backends are imported when chosen, so a node without Redis never loads it.

What the store does not protect against (operators, read this):

- Sealing (``daemon.store.sealed``) gives confidentiality and integrity, not rollback
  protection: an old sealed record written back under its own key, for example a
  presignature that was already consumed, opens fine. Whoever can write the store can
  replay the node's own old secrets, so the store must be writable by this node alone.
- Validators never share one Redis server and user. Namespaces keep honest nodes
  apart, not hostile ones: any client with the password reads and replaces every
  node's records. Give each node its own Redis, or at least its own ACL user limited
  to its own keys (``~tssnet:<namespace> ~tssnet:<namespace>:*``; the namespace is
  the node's peer id). The server must fsync every write before acknowledging it:
  ``daemon.store.redis`` confirms each write with WAITAOF on Redis 7.2 and later,
  and refuses an older server without ``appendonly yes`` and ``appendfsync always``.
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


def prefix_range(prefix: str) -> tuple[bytes, bytes]:
    """``[low, high)`` in byte order holding exactly the keys that start with ``prefix``.

    Keys are UTF-8 and valid UTF-8 never contains the byte 0xFF, so every key that
    starts with ``prefix`` sorts below ``prefix + 0xFF`` and no other key sorts between.
    """
    if not isinstance(prefix, str):
        raise ValueError(f"a store prefix is a str, not {prefix!r}")
    low = prefix.encode()
    return low, low + b"\xff"


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
