"""The trio side's view of who is admitted, so strangers are turned away before they cost us.

Admission is a predicate the node sets on the asyncio side (the validator directory).
The trio side must decide at stream open, before reading anything, so it keeps
verdicts it asked for across the bridge; each is trusted for ``VERDICT_TTL_SECONDS``,
then asked again (membership changes: a joiner becomes admitted, a member is removed).
Concurrent questions about one peer share one crossing. Messages are still checked on
the asyncio side as they are delivered, which is the final word.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import trio

VERDICT_TTL_SECONDS = 1.0
#: verdicts kept at once; strangers beyond this push the oldest out
MAX_VERDICTS = 4096


class AdmissionGate:
    """Trio-side cache of ``ask(peer_id) -> bool`` (which runs on asyncio)."""

    def __init__(self, ask: Callable[[str], Awaitable[bool]], own_peer_id: str) -> None:
        self._ask = ask
        self._own = own_peer_id
        self._verdicts: dict[str, tuple[bool, float]] = {}  # peer -> (admitted, asked at)
        self._asking: dict[str, trio.Event] = {}

    def known(self, peer_id: str) -> bool | None:
        """The fresh verdict for ``peer_id`` without asking, or None."""
        if peer_id == self._own:
            return True
        verdict = self._verdicts.get(peer_id)
        if verdict is None or trio.current_time() - verdict[1] > VERDICT_TTL_SECONDS:
            return None
        return verdict[0]

    async def check(self, peer_id: str) -> bool:
        """Whether ``peer_id`` is admitted; asks the asyncio side when no fresh verdict is held."""
        while (verdict := self.known(peer_id)) is None:
            waiting = self._asking.get(peer_id)
            if waiting is not None:
                await waiting.wait()
                continue
            done = self._asking[peer_id] = trio.Event()
            try:
                admitted = bool(await self._ask(peer_id))
            except Exception:
                admitted = False  # the predicate failing, or asyncio going away, admits no one
            finally:
                del self._asking[peer_id]
                done.set()
            self._remember(peer_id, admitted)
            return admitted
        return verdict

    def revoke(self, peer_id: str) -> None:
        """The asyncio side found ``peer_id`` no longer admitted."""
        self._remember(peer_id, False)

    def forget_all(self) -> None:
        """The predicate changed: every verdict must be asked again."""
        self._verdicts.clear()

    def _remember(self, peer_id: str, admitted: bool) -> None:
        self._verdicts.pop(peer_id, None)
        if len(self._verdicts) >= MAX_VERDICTS:
            self._verdicts.pop(next(iter(self._verdicts)))
        self._verdicts[peer_id] = (admitted, trio.current_time())
