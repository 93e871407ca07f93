"""Keeps ``presign_pool_size`` presignatures ready per ECDSA key for this node's preferred signers.

Each holder of a t-of-n key has its own preferred signer set: itself and the next t
holders in party order, wrapping (``preferred_signers``), skipping holders that are no
longer validators (``member_signers``: a removed validator still has a record and a link,
but every participant refuses a session with it). A key held by fewer than t+1
validators cannot sign until it is reshared: its pool is not filled (nor retried).
Every holder fills the
pool of its own set, so a sign asked of any holder finds a presignature that
includes it, and no two nodes fill one pool (unless t + 1 = n, when every set is
everyone's; then a pool may overshoot by a few, which admission bounds). Every
signer stores its own half of each presignature (sealed); signing takes one
atomically. The pool refills after a keygen, after a sign takes one (``kick``) and
on a slow poll, one presign session at a time.

Refilling starts only once a pool is down to half its size, and then runs until it
is full: a presign takes a CPU for about half a second, and topping up after every
sign would keep the machine busy exactly when signatures are asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from daemon.records import KeyRecord
from daemon.sessions import coordinator

if TYPE_CHECKING:
    from daemon.sessions.engine import SessionEngine

log = logging.getLogger("tssnet.sessions")

POLL_SECONDS = 5.0


def preferred_signers(key: KeyRecord) -> tuple[int, ...]:
    """This node's party and the next ``threshold`` parties of the key, wrapping, in party order."""
    n = len(key.participants)
    return tuple(sorted((key.party - 1 + k) % n + 1 for k in range(key.threshold + 1)))


def member_signers(key: KeyRecord, is_member: Callable[[str], bool]) -> tuple[int, ...] | None:
    """``preferred_signers`` among the holders that are validators: from this node's party on,
    wrapping, the first ``threshold + 1`` parties whose holder ``is_member``, in party order;
    None when fewer than that many holders are validators."""
    n = len(key.participants)
    chosen = []
    for k in range(n):
        party = (key.party - 1 + k) % n + 1
        if is_member(key.participants[party - 1]):
            chosen.append(party)
            if len(chosen) == key.threshold + 1:
                return tuple(sorted(chosen))
    return None


def non_member_holders(key: KeyRecord, is_member: Callable[[str], bool]) -> tuple[str, ...]:
    """The key's holders that are no longer validators (a refresh or reshare is due), in party order."""
    return tuple(p for p in key.participants if not is_member(p))


class PresignPool:
    def __init__(self, engine: SessionEngine) -> None:
        self._engine = engine
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._refilling: set[tuple[str, int, tuple[int, ...]]] = set()

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
            if key.scheme != "ecdsa":
                continue
            signers = member_signers(key, engine.directory.is_member)
            if signers is None or not engine.directory.is_member(engine.peer_id):
                continue   # not enough of its holders are validators: only a reshare helps
            ready = len(await engine.keys.presign_ids(key.key_id, key.epoch, signers))
            if not self._wants(key, signers, ready):
                continue
            peers = tuple(key.participants[i - 1] for i in signers)
            if not all(p == engine.peer_id or engine.directory.online(p) for p in peers):
                continue
            session = await coordinator.finished(await coordinator.presign(engine, key, peers))
            if session.error is not None:
                log.info("presignature pool of %s: %s", key.key_id, session.error.message)
                return False
            return True
        return False

    def _wants(self, key: KeyRecord, signers: tuple[int, ...], ready: int) -> bool:
        """Whether this pool should grow now: below half, or refilling and not yet full."""
        size = self._engine.config.presign_pool_size
        pool = (key.key_id, key.epoch, signers)
        if ready >= size:
            self._refilling.discard(pool)
            return False
        if ready <= size // 2:
            self._refilling.add(pool)
        return pool in self._refilling
