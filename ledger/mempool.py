"""Transactions a replica has checked and is waiting to see committed.

A transaction enters only after its full check against the current state, so
its signatures and proofs are verified once here; when it later shows up in a
proposed block, the replica reuses that result and only redoes the cheap state
checks. Keygen and validator-set transactions can become invalid when other
blocks commit (a key id taken, a validator gone), so those few are re-checked
after every block; a signature transaction can only become invalid by being
committed itself. One validator-set change (its ``change_id``) is pending at most once,
however many transactions carry it with different sets of approvals: a later one is
taken as a duplicate, so nobody can fill the pool with variants of one change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ledger.state import LedgerState
from ledger.txs import InvalidTransaction, SignatureTx, Tx, ValidatorSetTx, change_id

MAX_PENDING = 200_000


class Mempool:
    __slots__ = ("_txs", "_stateful", "_changes", "limit")

    def __init__(self, limit: int = MAX_PENDING) -> None:
        self._txs: dict[bytes, tuple[bytes, Tx]] = {}  # insertion order is proposal order
        self._stateful: set[bytes] = set()
        self._changes: dict[bytes, bytes] = {}   # change id -> the pending tx carrying it
        self.limit = limit

    def __len__(self) -> int:
        return len(self._txs)

    def __contains__(self, h: object) -> bool:
        """Whether ``h`` is a pending transaction's id, or the ``change_id`` of a validator change
        pending under any approvals (the two are hashes of different domains)."""
        return h in self._txs or h in self._changes

    def get(self, h: bytes) -> Tx | None:
        entry = self._txs.get(h)
        return None if entry is None else entry[1]

    def admit(self, h: bytes, data: bytes, tx: Tx, state: LedgerState) -> None:
        """Check ``tx`` fully against ``state`` and keep it; InvalidTransaction if it fails.
        A validator change that is pending already (under any approvals) is not added again."""
        if h in self._txs:
            return
        cid = change_id(tx.change()) if isinstance(tx, ValidatorSetTx) else None
        if cid is not None and cid in self._changes:
            return
        if len(self._txs) >= self.limit:
            raise InvalidTransaction("mempool is full")
        state.checker().check(tx, h, crypto_checked=False)
        self._txs[h] = (data, tx)
        if not isinstance(tx, SignatureTx):
            self._stateful.add(h)
        if cid is not None:
            self._changes[cid] = h

    def pending(self) -> Iterator[tuple[bytes, bytes, Tx]]:
        """(id, bytes, tx) in arrival order."""
        for h, (data, tx) in self._txs.items():
            yield h, data, tx

    def discard(self, hashes: Iterable[bytes]) -> None:
        for h in hashes:
            entry = self._txs.pop(h, None)
            if entry is not None:
                self._stateful.discard(h)
                if isinstance(entry[1], ValidatorSetTx):
                    self._changes.pop(change_id(entry[1].change()), None)

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
