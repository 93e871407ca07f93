"""What only the SQLite backend has: its failures, each one ``Unavailable`` and never a stuck transaction.

SQLite rarely fails a COMMIT on a healthy disk, so these tests put a thin stand-in in
front of the store's connection that fails the statements they name.
"""

from __future__ import annotations

import sqlite3

import pytest

from daemon.errors import Unavailable
from daemon.store import prefix_range
from daemon.store.sqlite import SqliteStore


class FailingConnection:
    """Passes statements to the real connection, except ``fail_on``, which raises ``error``.

    With ``sqlite_rolled_back``, the failing statement first rolls back, as SQLite itself
    does after some errors (a full disk, an I/O error during COMMIT).
    """

    def __init__(self, db: sqlite3.Connection, fail_on: str, error: Exception,
                 sqlite_rolled_back: bool = False) -> None:
        self.db = db
        self.fail_on = fail_on
        self.error = error
        self.sqlite_rolled_back = sqlite_rolled_back
        self.statements: list[str] = []

    def execute(self, sql, *args):
        self._maybe_fail(sql)
        return self.db.execute(sql, *args)

    def executemany(self, sql, rows):
        self._maybe_fail(sql)
        return self.db.executemany(sql, rows)

    def _maybe_fail(self, sql: str) -> None:
        self.statements.append(sql.split()[0])
        if sql.startswith(self.fail_on):
            if self.sqlite_rolled_back:
                self.db.execute("ROLLBACK")
            raise self.error

    @property
    def in_transaction(self) -> bool:
        return self.db.in_transaction

    def close(self) -> None:
        self.db.close()


@pytest.fixture
def store(tmp_path):
    kv = SqliteStore(tmp_path / "node.db")
    kv.write({"kept": b"old"})
    yield kv
    kv.close()


def failing(store: SqliteStore, fail_on: str, error: Exception, **options) -> FailingConnection:
    stand_in = FailingConnection(store._db, fail_on, error, **options)
    store._db = stand_in
    return stand_in


def test_a_failed_commit_is_rolled_back_and_unavailable(store):
    stand_in = failing(store, "COMMIT", sqlite3.OperationalError("disk I/O error"))
    with pytest.raises(Unavailable, match="disk I/O error"):
        store.write({"new": b"1"}, deletes=["kept"])
    assert stand_in.statements[-1] == "ROLLBACK" and not stand_in.in_transaction
    store._db = stand_in.db
    assert store.scan("") == [("kept", b"old")]      # the failed batch left nothing behind
    store.write({"after": b"2"})                     # and the connection is usable again
    assert store.get("after") == b"2"


@pytest.mark.parametrize("fail_on", ["COMMIT", "INSERT", "DELETE"])
def test_a_transaction_sqlite_already_rolled_back_reports_the_real_error(store, caplog, fail_on):
    stand_in = failing(store, fail_on, sqlite3.OperationalError("database or disk is full"),
                       sqlite_rolled_back=True)
    with pytest.raises(Unavailable, match="database or disk is full") as caught:
        store.write({"new": b"1"}, deletes=["kept"])
    assert "no transaction is active" not in caught.value.message
    assert "ROLLBACK" not in stand_in.statements      # nothing left to roll back: not tried
    assert not caplog.records
    store._db = stand_in.db
    assert store.scan("") == [("kept", b"old")]


@pytest.mark.parametrize("error", [sqlite3.IntegrityError("UNIQUE constraint failed"),
                                   sqlite3.DatabaseError("database disk image is malformed"),
                                   sqlite3.DataError("string or blob too big")])
def test_every_database_error_is_unavailable_not_an_internal_error(store, error):
    stand_in = failing(store, "INSERT", error)
    with pytest.raises(Unavailable, match=str(error)):
        store.write({"new": b"1"})
    assert not stand_in.in_transaction
    stand_in.fail_on = "SELECT"
    with pytest.raises(Unavailable):
        store.get("kept")
    with pytest.raises(Unavailable):
        store.scan("")


def test_a_file_that_is_not_a_database_is_unavailable(tmp_path):
    path = tmp_path / "node.db"
    path.write_bytes(b"this is not a database file" * 100)
    with pytest.raises(Unavailable, match="cannot open the store"):
        SqliteStore(path)


def test_a_closed_store_is_unavailable(tmp_path):
    kv = SqliteStore(tmp_path / "node.db")
    kv.close()
    for operation in (lambda: kv.get("k"), lambda: kv.scan(""), lambda: kv.write({"k": b"v"}),
                      lambda: kv.take("k")):
        with pytest.raises(Unavailable, match="closed"):
            operation()


def test_prefix_range_is_shared_by_both_backends():
    assert prefix_range("key/") == (b"key/", b"key/\xff")
    assert prefix_range("") == (b"", b"\xff")
    assert prefix_range("\u00e9") == ("\u00e9".encode(), "\u00e9".encode() + b"\xff")
    with pytest.raises(ValueError):
        prefix_range(b"key/")
