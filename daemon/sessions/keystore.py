"""Keys, presignatures and session records in the node's store, secrets sealed.

A key is written in one atomic batch (public ``KeyRecord`` plus the share sealed
under its own record key), only if no key of that id is there (``key_id_exists``);
deleting it removes the share, the record and every presignature of the key in one
batch too. The store has no put-if-absent, so every check-then-write of keys and
presignatures runs under one lock: a presignature finishing while its key is
deleted never leaves an orphan. A presignature is taken with ``AsyncStore.take``,
atomically, so two sessions never both get it, even across a crash.

Key records are read on every sign (several times) and by the presignature pool
after every sign, so the store keeps them decoded in memory: loaded once, then
changed only by this class's own writes, after they are durable.
"""

from __future__ import annotations

import asyncio

from daemon.errors import Conflict
from daemon.records import (
    CoordinatedKey,
    KeyRecord,
    SessionRecord,
    coordinated_key,
    key_meta_key,
    key_share_key,
    presign_key,
    presign_prefix,
    session_key,
)
from protocol import wire


class KeyStore:
    def __init__(self, store, sealer) -> None:
        self._store = store
        self._sealer = sealer
        self._lock = asyncio.Lock()   # key and presignature writes: check and write as one step
        self._records: dict[str, KeyRecord] | None = None   # every key record, once loaded

    # -- keys -----------------------------------------------------------------------------

    async def put_key(self, record: KeyRecord, share: bytes) -> None:
        """Store a new key; Conflict ``key_id_exists`` (nothing written) when one has its id."""
        share_key = key_share_key(record.key_id)
        async with self._lock:
            if await self._store.get(key_meta_key(record.key_id)) is not None:
                raise Conflict(f"a key with id {record.key_id!r} exists here", type="key_id_exists")
            records = await self._loaded()
            await self._store.write({key_meta_key(record.key_id): wire.encode(record),
                                     share_key: self._sealer.seal(share_key, share)}, [])
            records[record.key_id] = record

    async def put_coordinated(self, record: CoordinatedKey) -> None:
        await self._store.write({coordinated_key(record.key_id): wire.encode(record)}, [])

    async def coordinated(self, key_id: str) -> CoordinatedKey | None:
        raw = await self._store.get(coordinated_key(key_id))
        return None if raw is None else wire.decode(raw, CoordinatedKey)

    async def _loaded(self) -> dict[str, KeyRecord]:
        if self._records is None:
            found = {}
            for name, raw in await self._store.scan("key/"):
                if name.endswith("/meta"):
                    record = wire.decode(raw, KeyRecord)
                    found[record.key_id] = record
            if self._records is None:   # another caller may have loaded them meanwhile
                self._records = found
        return self._records

    async def key_record(self, key_id: str) -> KeyRecord | None:
        return (await self._loaded()).get(key_id)

    async def share(self, key_id: str) -> bytes | None:
        """This node's share of the key (wire bytes), None when it holds none."""
        share_key = key_share_key(key_id)
        blob = await self._store.get(share_key)
        return None if blob is None else self._sealer.open(share_key, blob)

    async def key_records(self) -> list[KeyRecord]:
        """Every key record, in key id order."""
        records = await self._loaded()
        return [records[key_id] for key_id in sorted(records)]

    async def delete_key(self, key_id: str) -> None:
        """The share, the key's record and its unused presignatures, in one write."""
        async with self._lock:
            records = await self._loaded()
            presigs = await self._store.keys(presign_prefix(key_id))
            await self._store.write({}, [key_meta_key(key_id), key_share_key(key_id), *presigs])
            records.pop(key_id, None)

    # -- presignatures ----------------------------------------------------------------------

    async def put_presignature(self, key_id: str, epoch: int, signers: tuple[int, ...],
                               presign_id: bytes, presignature: bytes) -> None:
        """Store one presignature; Conflict ``key_id_not_exists`` when the key went meanwhile."""
        name = presign_key(key_id, epoch, signers, presign_id)
        async with self._lock:
            if await self._store.get(key_meta_key(key_id)) is None:
                raise Conflict(f"key {key_id!r} was deleted during the presign", type="key_id_not_exists")
            await self._store.write({name: self._sealer.seal(name, presignature)}, [])

    async def delete_all_presignatures(self) -> int:
        """Delete every stored presignature of every key; how many there were."""
        async with self._lock:
            names = await self._store.keys("presig/")
            if names:
                await self._store.write({}, names)
        return len(names)

    async def take_presignature(self, key_id: str, epoch: int, signers: tuple[int, ...],
                                presign_id: bytes) -> bytes | None:
        """The presignature, deleted from the store before it is returned (None if gone)."""
        name = presign_key(key_id, epoch, signers, presign_id)
        blob = await self._store.take(name)
        return None if blob is None else self._sealer.open(name, blob)

    async def presign_ids(self, key_id: str, epoch: int, signers: tuple[int, ...]) -> list[bytes]:
        prefix = presign_prefix(key_id, epoch, signers)
        return [bytes.fromhex(name[len(prefix):]) for name in await self._store.keys(prefix)]

    async def presign_count(self, key_id: str) -> int:
        return len(await self._store.keys(presign_prefix(key_id)))

    # -- sessions --------------------------------------------------------------------------

    async def put_session(self, record: SessionRecord) -> None:
        await self._store.write({session_key(record.session_id): wire.encode(record)}, [])

    async def session(self, session_id: str) -> SessionRecord | None:
        raw = await self._store.get(session_key(session_id))
        return None if raw is None else wire.decode(raw, SessionRecord)

    async def sessions(self) -> list[SessionRecord]:
        return [wire.decode(raw, SessionRecord) for _, raw in await self._store.scan("session/")]

    async def prune_sessions(self, *, now_ms: int, max_age_ms: int, keep: int, replay_window_ms: int) -> int:
        """Delete finished records older than ``max_age_ms``, and the oldest beyond ``keep``.

        A record younger than ``replay_window_ms`` is never deleted: it is what refuses a
        replay of its proposal while the proposal's deadline still lies ahead.
        """
        records = await self.sessions()
        finished = sorted((r for r in records if r.state in ("done", "failed")),
                          key=lambda r: r.created_ms, reverse=True)
        live = len(records) - len(finished)
        doomed = [r for k, r in enumerate(finished)
                  if now_ms - r.created_ms > replay_window_ms
                  and (now_ms - r.created_ms > max_age_ms or k + live >= keep)]
        if doomed:
            await self._store.write({}, [session_key(r.session_id) for r in doomed])
        return len(doomed)


__all__ = ["KeyStore"]
