"""The one storage interface every backend implements: keys to bytes, atomic batches.

Everything a node persists (key shares, presignatures, the validator set, session
records, ledger blocks and votes) goes through ``KVStore``. Keys are ``str`` made of
``/``-separated parts (``key/<id>/share``); values are bytes, secrets already sealed
by ``daemon.store.sealed``. ``write`` applies a whole batch atomically and is durable
when it returns: after a crash either every put and delete of the batch is there or
none is. Implementations are used from one thread at a time (``AsyncStore`` runs
them on its own single worker thread so the event loop never waits on a disk).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol


class KVStore(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def scan(self, prefix: str) -> list[tuple[str, bytes]]:
        """Every (key, value) whose key starts with ``prefix``, sorted by key."""

    def keys(self, prefix: str) -> list[str]:
        """Every key that starts with ``prefix``, sorted, without reading a value (counting a
        pool of sealed presignatures must not copy every one of them)."""

    def write(self, puts: Mapping[str, bytes] = {}, deletes: Iterable[str] = ()) -> None:
        """Apply all puts and deletes atomically and durably."""

    def take(self, key: str) -> bytes | None:
        """Atomically read and delete ``key`` (None if absent): two takers never both get it."""

    def close(self) -> None: ...
