"""Transactions a replica has checked and is waiting to see committed.

A transaction enters only after its full check against the current state, so
its signatures and proofs are verified once here; when it later shows up in a
proposed block, the replica reuses that result and only redoes the cheap state
checks. Keygen and validator-set transactions can become invalid when other
blocks commit (a key id taken, a validator gone), so those few are re-checked
after every block; a signature transaction can only become invalid by being
committed itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ledger.state import LedgerState
from ledger.txs import InvalidTransaction, SignatureTx, Tx

MAX_PENDING = 200_000


class Mempool:
    __slots__ = ("_txs", "_stateful", "limit")

    def __init__(self, limit: int = MAX_PENDING) -> None:
        self._txs: dict[bytes, tuple[bytes, Tx]] = {}  # insertion order is proposal order
        self._stateful: set[bytes] = set()
        self.limit = limit

    def __len__(self) -> int:
        return len(self._txs)

    def __contains__(self, h: object) -> bool:
        return h in self._txs

    def get(self, h: bytes) -> Tx | None:
        entry = self._txs.get(h)
        return None if entry is None else entry[1]

    def admit(self, h: bytes, data: bytes, tx: Tx, state: LedgerState) -> None:
        """Check ``tx`` fully against ``state`` and keep it; InvalidTransaction if it fails."""
        if h in self._txs:
            return
        if len(self._txs) >= self.limit:
            raise InvalidTransaction("mempool is full")
        state.checker().check(tx, h, crypto_checked=False)
        self._txs[h] = (data, tx)
        if not isinstance(tx, SignatureTx):
            self._stateful.add(h)

    def pending(self) -> Iterator[tuple[bytes, bytes, Tx]]:
        """(id, bytes, tx) in arrival order."""
        for h, (data, tx) in self._txs.items():
            yield h, data, tx

    def discard(self, hashes: Iterable[bytes]) -> None:
        for h in hashes:
            if self._txs.pop(h, None) is not None:
                self._stateful.discard(h)

    def after_commit(self, committed: Iterable[bytes], state: LedgerState) -> None:
        """Forget committed transactions and those the new state makes invalid."""
        self.discard(committed)
        stale = []
        for h in self._stateful:
            try:
                state.checker().check(self._txs[h][1], h, crypto_checked=True)
            except InvalidTransaction:
                stale.append(h)
        self.discard(stale)
