"""Keeps ``presign_pool_size`` presignatures ready per ECDSA key for its default signers.

The default signer set of a t-of-n key is parties 1..t+1; only the node that is
party 1 of a key starts fill sessions for it, so nodes never race to fill one
pool. Every signer stores its own half of each presignature (sealed); signing takes
one atomically. The pool refills after a keygen, after a sign takes one (``kick``)
and on a slow poll, one presign session at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from daemon.sessions import coordinator

if TYPE_CHECKING:
    from daemon.sessions.engine import SessionEngine

log = logging.getLogger("tssnet.sessions")

POLL_SECONDS = 5.0


def default_signers(threshold: int) -> tuple[int, ...]:
    return tuple(range(1, threshold + 2))


class PresignPool:
    def __init__(self, engine: SessionEngine) -> None:
        self._engine = engine
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._engine.config.presign_pool_size > 0:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="presign-pool")

    def kick(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                filled = await self._fill_one()
            except Exception:
                log.exception("presignature pool: a fill attempt failed")
                filled = False
            if not filled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    async def _fill_one(self) -> bool:
        """Run one presign session for the first pool below its size; False when none could run."""
        engine = self._engine
        for key in await engine.keys.key_records():
            if key.scheme != "ecdsa" or key.party != 1:
                continue
            signers = default_signers(key.threshold)
            ready = await engine.keys.presign_ids(key.key_id, key.epoch, signers)
            if len(ready) >= engine.config.presign_pool_size:
                continue
            peers = tuple(key.participants[i - 1] for i in signers)
            if not all(p == engine.peer_id or engine.directory.online(p) for p in peers):
                continue
            session = await coordinator.presign(engine, key, peers)
            await session.wait()
            if session.error is not None:
                log.info("presignature pool of %s: %s", key.key_id, session.error.message)
                return False
            return True
        return False
