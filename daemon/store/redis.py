"""The Redis store: state on a Redis server, several nodes sharing it by namespace.

Every value lives at ``tssnet:<namespace>:<key>``; a sorted set at
``tssnet:<namespace>`` (all scores 0) indexes the namespace's keys, so a prefix scan
is one ``ZRANGEBYLEX`` in byte order instead of a ``SCAN`` over the whole server
with glob patterns, and keys may hold ``*?[]`` freely. Every batch and every take
is one MULTI/EXEC transaction that moves the value and its index entry together.

Redis is only as durable as its configuration: with ``appendonly no`` a crash of the
server loses acknowledged writes, so the store says so at open. Commands are never
retried by the client: a connection lost around EXEC raises ``Unavailable``, and the
batch is then wholly applied or wholly not (a take's value may be gone unread: lost,
never handed out twice).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from daemon.errors import BadRequest, Unavailable
from daemon.store import check_batch, check_namespace, encode_key

log = logging.getLogger("tssnet.store")

T = TypeVar("T")

# Valid UTF-8 never contains the byte 0xFF, so [prefix, prefix + 0xFF) holds exactly
# the keys that start with prefix.
_PAST_EVERY_UTF8 = b"\xff"
_MGET_CHUNK = 256
_CONNECT_TIMEOUT_S = 5.0
# Long enough for a batch of a few MiB on a busy server, short enough that a
# partitioned server is reported instead of hanging the store's worker thread.
_SOCKET_TIMEOUT_S = 30.0


def redacted_url(url: str) -> str:
    """The URL without user name or password, fit for logs and error messages."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ":<bad port>"
    return f"{parts.scheme}://{parts.hostname or 'localhost'}{port}{parts.path}"


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisStore:
    """``KVStore`` on a Redis server (sync client), keys under ``tssnet:<namespace>:``."""

    def __init__(self, url: str, namespace: str) -> None:
        check_namespace(namespace)
        self._where = redacted_url(url)
        self._index = f"tssnet:{namespace}".encode()
        self._prefix = self._index + b":"
        try:
            self._client = redis.Redis.from_url(
                url, retry=Retry(NoBackoff(), 0), socket_timeout=_SOCKET_TIMEOUT_S,
                socket_connect_timeout=_CONNECT_TIMEOUT_S)
        except ValueError as exc:
            raise BadRequest(f"redis_url {self._where} is not usable: {exc}") from None
        try:
            self._call(self._client.ping)
            self._check_persistence()
        except Unavailable:
            self._client.close()
            raise

    def get(self, key: str) -> bytes | None:
        return self._call(self._client.get, self._prefix + encode_key(key))

    def scan(self, prefix: str) -> list[tuple[str, bytes]]:
        low = prefix.encode()
        keys = self._call(self._client.zrangebylex, self._index, b"[" + low,
                          b"(" + low + _PAST_EVERY_UTF8)
        found: list[tuple[str, bytes]] = []
        for start in range(0, len(keys), _MGET_CHUNK):
            chunk = keys[start:start + _MGET_CHUNK]
            values = self._call(self._client.mget, [self._prefix + key for key in chunk])
            # A key deleted between the two reads is simply gone.
            found.extend((key.decode(), value) for key, value in zip(chunk, values, strict=True)
                         if value is not None)
        return found

    def write(self, puts: Mapping[str, bytes] = {}, deletes: Iterable[str] = ()) -> None:
        deletes = [encode_key(key) for key in check_batch(puts, deletes)]
        if not puts and not deletes:
            return
        pipe = self._client.pipeline(transaction=True)
        if deletes:
            pipe.delete(*(self._prefix + key for key in deletes))
            pipe.zrem(self._index, *deletes)
        if puts:
            pipe.mset({self._prefix + encode_key(key): bytes(value) for key, value in puts.items()})
            pipe.zadd(self._index, {encode_key(key): 0 for key in puts})
        self._call(pipe.execute)

    def take(self, key: str) -> bytes | None:
        raw = encode_key(key)
        pipe = self._client.pipeline(transaction=True)
        pipe.getdel(self._prefix + raw)
        pipe.zrem(self._index, raw)
        value, _ = self._call(pipe.execute)
        return value

    def close(self) -> None:
        self._client.close()

    def _check_persistence(self) -> None:
        try:
            config = self._client.config_get("append*")
        except redis.ResponseError:
            log.warning("redis at %s does not allow CONFIG GET; cannot check that it persists writes",
                        self._where)
            return
        except redis.RedisError as exc:
            raise self._unavailable(exc) from None
        # redis-py answers CONFIG GET in str; decode bytes too in case a version does not.
        settings = {_text(name): _text(value) for name, value in config.items()}
        if settings.get("appendonly") == "no":
            log.warning("redis at %s has appendonly off: a crash of the redis server loses "
                        "acknowledged state; run it with --appendonly yes --appendfsync always",
                        self._where)
        elif settings.get("appendfsync") != "always":
            log.warning("redis at %s fsyncs its log only periodically (appendfsync is not always): "
                        "a crash of the host can lose the last acknowledged writes", self._where)

    def _call(self, operation: Callable[..., T], *args) -> T:
        try:
            return operation(*args)
        except redis.RedisError as exc:
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: redis.RedisError) -> Unavailable:
        if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
            return Unavailable(f"the store's redis server at {self._where} is unreachable: {exc}")
        return Unavailable(f"the store's redis server at {self._where} refused a command: {exc}")

    def __repr__(self) -> str:
        return f"RedisStore({self._where!r}, namespace={self._index[len(b'tssnet:'):].decode()!r})"
