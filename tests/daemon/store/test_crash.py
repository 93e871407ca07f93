"""Crashes: a batch survives whole or not at all, and an acknowledged batch survives.

A child process writes numbered batches (five keys of a group plus a counter, in
one ``write``) and prints each number once ``write`` has returned. The test kills
something with SIGKILL: the writer itself (SQLite) or the Redis server under it.
After reopening, the groups present must be exactly 0..counter, every group whole,
and every printed (acknowledged) number among them.

SIGKILL leaves the kernel's page cache alone, so these runs cannot show that a write
reached the disk. What makes a power loss safe is checked directly instead: SQLite
runs in WAL mode with synchronous=FULL (fsync at every commit), and the Redis store
refuses a server that does not fsync every write (test_redis.py shows the refusals).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from daemon.errors import Unavailable
from daemon.store.redis import RedisStore
from daemon.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[3]
KEYS_PER_BATCH = 5
VALUE_BYTES = 4096
ACKS_BEFORE_KILL = 40

WRITER = """
import sys
from daemon.errors import Unavailable
from daemon.store.redis import RedisStore
from daemon.store.sqlite import SqliteStore

kind, where, start, size, keys = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
kv = SqliteStore(where) if kind == "sqlite" else RedisStore(where, "crash")
i = start
try:
    while True:
        puts = {f"batch/{i:06d}/{j}": bytes([i % 256, j]) * (size // 2) for j in range(keys)}
        puts["counter"] = str(i).encode()
        kv.write(puts)
        print(i, flush=True)
        i += 1
except Unavailable:
    sys.exit(3)
"""


def start_writer(kind: str, where: str, start: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, kind, where, str(start),
                             str(VALUE_BYTES), str(KEYS_PER_BATCH)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_acks(writer: subprocess.Popen, count: int) -> list[int]:
    acked = []
    while len(acked) < count:
        line = writer.stdout.readline()
        assert line, f"writer stopped early: {writer.stderr.read()}"
        acked.append(int(line))
    return acked


def rest_of_acks(writer: subprocess.Popen) -> list[int]:
    """Numbers printed before the crash and not read yet."""
    acked = [int(line) for line in writer.stdout.read().split()]
    writer.wait()
    writer.stderr.close()
    writer.stdout.close()
    return acked


def check_whole_or_absent(kv, acked: list[int]) -> int:
    counter = int(kv.get("counter"))
    groups: dict[int, list[tuple[str, bytes]]] = {}
    for key, value in kv.scan("batch/"):
        groups.setdefault(int(key.split("/")[1]), []).append((key, value))
    assert sorted(groups) == list(range(counter + 1)), "a batch is missing or outlived its counter"
    for i, items in groups.items():
        assert len(items) == KEYS_PER_BATCH, f"batch {i} is partial"
        assert all(value == bytes([i % 256, int(key[-1])]) * (VALUE_BYTES // 2) for key, value in items)
    assert max(acked) <= counter, "an acknowledged batch was lost"
    return counter


def test_sqlite_fsyncs_every_commit_in_wal_mode(tmp_path):
    kv = SqliteStore(tmp_path / "node.db")
    try:
        assert kv._db.execute("PRAGMA synchronous").fetchone()[0] == 2   # FULL
        assert kv._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        kv.write({"k": b"v"})
    finally:
        kv.close()
    other = sqlite3.connect(tmp_path / "node.db")
    try:
        # WAL is a property of the file: every later connection (a restart) keeps it.
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        other.close()


def test_the_redis_servers_under_these_tests_fsync_every_write(redis_instance):
    raw = redis.Redis.from_url(redis_instance.url, decode_responses=True)
    try:
        assert raw.config_get("append*")["appendonly"] == "yes"
        assert raw.config_get("append*")["appendfsync"] == "always"
        raw.config_set("appendfsync", "everysec")
    finally:
        raw.close()
    with pytest.raises(Unavailable, match="appendfsync everysec"):
        RedisStore(redis_instance.url, "crash")


def test_sqlite_writer_killed_mid_batch(tmp_path):
    path = tmp_path / "node.db"
    acked: list[int] = []
    start = 0
    for _ in range(3):
        writer = start_writer("sqlite", str(path), start)
        acked += wait_for_acks(writer, ACKS_BEFORE_KILL)
        writer.send_signal(signal.SIGKILL)
        acked += rest_of_acks(writer)
        kv = SqliteStore(path)
        start = check_whole_or_absent(kv, acked) + 1
        kv.close()
    assert start >= 3 * ACKS_BEFORE_KILL


def test_redis_server_killed_under_a_writer(redis_instance):
    writer = start_writer("redis", redis_instance.url, 0)
    acked = wait_for_acks(writer, ACKS_BEFORE_KILL)
    redis_instance.kill()
    acked += rest_of_acks(writer)
    assert writer.returncode == 3   # the writer saw Unavailable, not a hang or a traceback
    redis_instance.start()          # same port and directory: replays the append-only log
    kv = RedisStore(redis_instance.url, "crash")
    try:
        check_whole_or_absent(kv, acked)
    finally:
        kv.close()


def test_redis_acknowledged_writes_survive_kill_and_restart(redis_instance):
    kv = RedisStore(redis_instance.url, "node")
    kv.write({"share/1": b"sealed share", "presig/7": b"p"})
    kv.take("presig/7")
    kv.close()
    redis_instance.kill()
    redis_instance.start()
    kv = RedisStore(redis_instance.url, "node")
    try:
        assert kv.scan("") == [("share/1", b"sealed share")]
    finally:
        kv.close()
