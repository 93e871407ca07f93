"""Keys, presignatures and session records in the node's store, secrets sealed.

A key is written in one atomic batch (public ``KeyRecord`` plus the share sealed
under its own record key); deleting it removes the share, the record and every
presignature of the key in one batch too. A presignature is taken with
``AsyncStore.take``, atomically, so two sessions never both get it, even across a
crash.
"""

from __future__ import annotations

from daemon.records import (
    KeyRecord,
    SessionRecord,
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

    # -- keys -----------------------------------------------------------------------------

    async def put_key(self, record: KeyRecord, share: bytes) -> None:
        share_key = key_share_key(record.key_id)
        await self._store.write({key_meta_key(record.key_id): wire.encode(record),
                                 share_key: self._sealer.seal(share_key, share)}, [])

    async def key_record(self, key_id: str) -> KeyRecord | None:
        raw = await self._store.get(key_meta_key(key_id))
        return None if raw is None else wire.decode(raw, KeyRecord)

    async def share(self, key_id: str) -> bytes | None:
        """This node's share of the key (wire bytes), None when it holds none."""
        share_key = key_share_key(key_id)
        blob = await self._store.get(share_key)
        return None if blob is None else self._sealer.open(share_key, blob)

    async def key_records(self) -> list[KeyRecord]:
        return [wire.decode(raw, KeyRecord) for name, raw in await self._store.scan("key/")
                if name.endswith("/meta")]

    async def delete_key(self, key_id: str) -> None:
        """The share, the key's record and its unused presignatures, in one write."""
        presigs = [name for name, _ in await self._store.scan(presign_prefix(key_id))]
        await self._store.write({}, [key_meta_key(key_id), key_share_key(key_id), *presigs])

    # -- presignatures ----------------------------------------------------------------------

    async def put_presignature(self, key_id: str, epoch: int, signers: tuple[int, ...],
                               presign_id: bytes, presignature: bytes) -> None:
        name = presign_key(key_id, epoch, signers, presign_id)
        await self._store.write({name: self._sealer.seal(name, presignature)}, [])

    async def take_presignature(self, key_id: str, epoch: int, signers: tuple[int, ...],
                                presign_id: bytes) -> bytes | None:
        """The presignature, deleted from the store before it is returned (None if gone)."""
        name = presign_key(key_id, epoch, signers, presign_id)
        blob = await self._store.take(name)
        return None if blob is None else self._sealer.open(name, blob)

    async def presign_ids(self, key_id: str, epoch: int, signers: tuple[int, ...]) -> list[bytes]:
        prefix = presign_prefix(key_id, epoch, signers)
        return [bytes.fromhex(name[len(prefix):]) for name, _ in await self._store.scan(prefix)]

    async def presign_count(self, key_id: str) -> int:
        return len(await self._store.scan(presign_prefix(key_id)))

    # -- sessions --------------------------------------------------------------------------

    async def put_session(self, record: SessionRecord) -> None:
        await self._store.write({session_key(record.session_id): wire.encode(record)}, [])

    async def session(self, session_id: str) -> SessionRecord | None:
        raw = await self._store.get(session_key(session_id))
        return None if raw is None else wire.decode(raw, SessionRecord)

    async def sessions(self) -> list[SessionRecord]:
        return [wire.decode(raw, SessionRecord) for _, raw in await self._store.scan("session/")]


__all__ = ["KeyStore"]
