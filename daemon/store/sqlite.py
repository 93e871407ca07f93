"""The embedded store: one SQLite file per node, no server to run.

WAL journaling with ``synchronous=FULL`` makes every committed transaction durable
when ``commit`` returns, and a crash leaves each transaction whole or absent. Keys
are kept as UTF-8 BLOBs so that ordering and prefix ranges are plain byte order,
the same order Redis' lexicographic ranges use. A ``namespace`` column lets several
stores share the file (the node and its ledger) without seeing each other's keys.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from daemon.errors import Unavailable
from daemon.store import check_batch, check_namespace, encode_key, prefix_range

log = logging.getLogger("tssnet.store")

_BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    namespace TEXT NOT NULL,
    key BLOB NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID
"""


class SqliteStore:
    """``KVStore`` over one SQLite file, created with mode 0600."""

    def __init__(self, path: Path | str, namespace: str = "node") -> None:
        check_namespace(namespace)
        self.path = Path(path)
        self._namespace = namespace
        # Create the file ourselves so it is never readable by others, not even briefly
        # (and tighten an older one); SQLite gives its -wal and -shm files these permissions.
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                os.fchmod(fd, 0o600)
            finally:
                os.close(fd)
        except OSError as exc:
            raise Unavailable(f"cannot open the store {self.path}: {exc}") from None
        try:
            # AsyncStore opens the store on one thread and uses it on its worker thread;
            # the KVStore contract already promises one thread at a time.
            self._db = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise Unavailable(f"cannot open the store {self.path}: {exc}") from None

    def get(self, key: str) -> bytes | None:
        with self._failures():
            row = self._db.execute("SELECT value FROM kv WHERE namespace = ? AND key = ?",
                                   (self._namespace, encode_key(key))).fetchone()
        return None if row is None else bytes(row[0])

    def scan(self, prefix: str) -> list[tuple[str, bytes]]:
        low, high = prefix_range(prefix)
        with self._failures():
            rows = self._db.execute(
                "SELECT key, value FROM kv WHERE namespace = ? AND key >= ? AND key < ? ORDER BY key",
                (self._namespace, low, high),
            ).fetchall()
        return [(bytes(key).decode(), bytes(value)) for key, value in rows]

    def keys(self, prefix: str) -> list[str]:
        low, high = prefix_range(prefix)
        with self._failures():
            rows = self._db.execute(
                "SELECT key FROM kv WHERE namespace = ? AND key >= ? AND key < ? ORDER BY key",
                (self._namespace, low, high),
            ).fetchall()
        return [bytes(key).decode() for (key,) in rows]

    def write(self, puts: Mapping[str, bytes] = {}, deletes: Iterable[str] = ()) -> None:
        deletes = check_batch(puts, deletes)
        with self._transaction():
            self._db.executemany(
                "DELETE FROM kv WHERE namespace = ? AND key = ?",
                [(self._namespace, encode_key(key)) for key in deletes],
            )
            self._db.executemany(
                "INSERT INTO kv (namespace, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value",
                [(self._namespace, encode_key(key), bytes(value)) for key, value in puts.items()],
            )

    def take(self, key: str) -> bytes | None:
        with self._transaction():
            rows = self._db.execute(
                "DELETE FROM kv WHERE namespace = ? AND key = ? RETURNING value",
                (self._namespace, encode_key(key)),
            ).fetchall()
        return bytes(rows[0][0]) if rows else None

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """A locked, full, corrupt or closed database is the node's store being unavailable.

        ``DatabaseError`` covers them all (``OperationalError``, ``IntegrityError``,
        ``ProgrammingError`` for a closed connection, "file is not a database"), so none
        of them reaches a user as an unexplained internal error.
        """
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise Unavailable(f"the store {self.path} failed: {exc}") from None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the body or the COMMIT raises.

        IMMEDIATE takes the write lock up front, so two connections to one file never
        both see a row inside their transactions and then both delete it.
        """
        with self._failures():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                self._roll_back()
                raise

    def _roll_back(self) -> None:
        """End a failed transaction without hiding why it failed.

        After some errors SQLite has already rolled back by itself; a ROLLBACK then
        would fail with "no transaction is active" and replace the real error.
        """
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            log.warning("store %s: rollback after a failed transaction also failed: %s", self.path, exc)

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r}, namespace={self._namespace!r})"

