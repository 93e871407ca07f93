"""The Redis store: state on a Redis server, the node's parts kept apart by namespace.

Every value lives at ``tssnet:<namespace>:<key>``; a sorted set at
``tssnet:<namespace>`` (all scores 0) indexes the namespace's keys, so a prefix scan
is one ``ZRANGEBYLEX`` in byte order instead of a ``SCAN`` over the whole server
with glob patterns, and keys may hold ``*?[]`` freely. Every batch and every take
is one MULTI/EXEC transaction that moves the value and its index entry together.

A write is durable when it returns, or the store does not open. On Redis 7.2 and
later every transaction is followed, on the same connection and in the same round
trip, by ``WAITAOF 1 0``: the server answers only once the transaction is fsynced to
its append-only file, and a write it does not confirm raises ``Unavailable``. Older
servers must run with ``appendonly yes`` and ``appendfsync always`` (checked with
CONFIG GET at open; a server that refuses CONFIG GET is refused). Anything less could
lose an acknowledged take in a crash and hand the same presignature out twice.

Commands are never retried by the client: a connection lost around EXEC raises
``Unavailable``, and the batch is then wholly applied or wholly not (a take's value
may be gone unread: lost, never handed out twice). One Redis server and user per
validator: see ``daemon.store`` for why nodes must not share one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.client import Pipeline
from redis.retry import Retry

from daemon.errors import BadRequest, Unavailable
from daemon.store import check_batch, check_namespace, encode_key, prefix_range

log = logging.getLogger("tssnet.store")

T = TypeVar("T")

_MGET_CHUNK = 256
_CONNECT_TIMEOUT_S = 5.0
# Long enough for a batch of a few MiB on a busy server, short enough that a
# partitioned server is reported instead of hanging the store's worker thread.
_SOCKET_TIMEOUT_S = 30.0
#: the first version with WAITAOF
_WAITAOF_VERSION = (7, 2)
# Well inside the socket timeout: a server whose disk stalls this long is reported.
_CONFIRM_TIMEOUT_MS = 10_000
#: block until this connection's writes are fsynced locally (1), no replicas asked (0)
_WAITAOF = ("WAITAOF", 1, 0, _CONFIRM_TIMEOUT_MS)
_FIX = "run redis with appendonly yes and appendfsync always (in redis.conf or CONFIG SET)"


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
        self._waitaof = False
        try:
            self._call(self._client.ping)
            self._check_durability()
        except Unavailable:
            self._client.close()
            raise

    def get(self, key: str) -> bytes | None:
        return self._call(self._client.get, self._prefix + encode_key(key))

    def keys(self, prefix: str) -> list[str]:
        low, high = prefix_range(prefix)
        return [key.decode() for key in self._call(self._client.zrangebylex, self._index,
                                                   b"[" + low, b"(" + high)]

    def scan(self, prefix: str) -> list[tuple[str, bytes]]:
        low, high = prefix_range(prefix)
        keys = self._call(self._client.zrangebylex, self._index, b"[" + low, b"(" + high)
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
        commands: list[tuple] = []
        if deletes:
            commands.append(("DEL", *(self._prefix + key for key in deletes)))
            commands.append(("ZREM", self._index, *deletes))
        if puts:
            pairs = [(encode_key(key), bytes(value)) for key, value in puts.items()]
            commands.append(("MSET", *(part for key, value in pairs for part in (self._prefix + key, value))))
            commands.append(("ZADD", self._index, *(part for key, _ in pairs for part in (0, key))))
        self._transaction(commands)

    def take(self, key: str) -> bytes | None:
        raw = encode_key(key)
        value, _ = self._transaction([("GETDEL", self._prefix + raw), ("ZREM", self._index, raw)])
        return value

    def close(self) -> None:
        self._client.close()

    def _transaction(self, commands: list[tuple]) -> list:
        """MULTI, ``commands``, EXEC, then WAITAOF where the server has it: EXEC's replies.

        All in one pipeline on one connection (WAITAOF waits for the writes of its own
        connection only), read raw: without redis-py's reply parsing, which would
        misread the QUEUED answers inside MULTI.
        """
        pipe = Pipeline(self._client.connection_pool, {}, transaction=False, shard_hint=None)
        pipe.execute_command("MULTI")
        for command in commands:
            pipe.execute_command(*command)
        pipe.execute_command("EXEC")
        if self._waitaof:
            pipe.execute_command(*_WAITAOF)
        replies = self._call(pipe.execute)
        results = replies[len(commands) + 1]
        failed = [reply for reply in results if isinstance(reply, redis.RedisError)]
        if failed:
            raise self._unavailable(failed[0])
        if self._waitaof:
            self._check_confirmed(replies[-1])
        return results

    def _check_durability(self) -> None:
        """Refuse a server that could lose a write it acknowledged."""
        version = self._server_version()
        if version is not None and version >= _WAITAOF_VERSION:
            try:
                self._check_confirmed(self._client.execute_command(*_WAITAOF))
            except redis.ResponseError as exc:
                raise Unavailable(f"the store's redis server at {self._where} cannot confirm writes "
                                  f"on disk ({exc}); set appendonly yes") from None
            except redis.RedisError as exc:
                raise self._unavailable(exc) from None
            self._waitaof = True
            log.info("redis at %s: every write is confirmed on disk with WAITAOF", self._where)
            return
        self._check_config()
        log.info("redis at %s: appendonly yes, appendfsync always", self._where)

    def _server_version(self) -> tuple[int, ...] | None:
        """The server's (major, minor) version, or None when it does not say."""
        try:
            text = str(self._client.info("server").get("redis_version", ""))
        except redis.ResponseError:
            return None   # INFO refused to this user: fall back to the configuration check
        except redis.RedisError as exc:
            raise self._unavailable(exc) from None
        try:
            return tuple(int(part) for part in text.split(".")[:2])
        except ValueError:
            return None

    def _check_config(self) -> None:
        try:
            config = self._client.config_get("append*")
        except redis.ResponseError as exc:
            raise Unavailable(
                f"the store's redis server at {self._where} refuses CONFIG GET ({exc}), so the node "
                "cannot check that it fsyncs every write before acknowledging it; allow CONFIG GET "
                "for this user (ACL: +config|get) or use Redis 7.2 or later (WAITAOF)") from None
        except redis.RedisError as exc:
            raise self._unavailable(exc) from None
        # redis-py answers CONFIG GET in str; decode bytes too in case a version does not.
        settings = {_text(name): _text(value) for name, value in config.items()}
        if settings.get("appendonly") != "yes":
            raise Unavailable(f"the store's redis server at {self._where} has appendonly "
                              f"{settings.get('appendonly', 'unset')}: a crash of the server would lose "
                              f"acknowledged writes; {_FIX}")
        if settings.get("appendfsync") != "always":
            raise Unavailable(f"the store's redis server at {self._where} fsyncs its log only "
                              f"periodically (appendfsync {settings.get('appendfsync', 'unset')}): a crash "
                              f"of its host would lose the last acknowledged writes; {_FIX}")

    def _check_confirmed(self, reply) -> None:
        local = reply[0] if isinstance(reply, list) and reply else None
        if not isinstance(local, int) or local < 1:
            raise Unavailable(f"the store's redis server at {self._where} did not confirm within "
                              f"{_CONFIRM_TIMEOUT_MS // 1000} s that the write reached its disk")

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
