"""PBFT checkpoints: every K blocks, and the watermarks they move.

After executing a height that is a multiple of K a replica signs a checkpoint
(height, block hash). When a quorum of matching checkpoints for a height it has
executed itself is in, the checkpoint is stable: its proof is stored, everything
logged at or below it is garbage-collected, and the low watermark moves there.
Sequence numbers are accepted only within (low, low + window].
"""

from __future__ import annotations

from ledger.messages import CheckpointProof
from ledger.store import LedgerStore
from protocol import wire


class Checkpoints:
    __slots__ = ("interval", "window", "stable", "own", "_store", "_messages")

    def __init__(self, interval: int, window: int, store: LedgerStore) -> None:
        self.interval = interval
        self.window = window
        self._store = store
        self.stable = 0
        self.own: bytes | None = None  # our latest signed checkpoint, resent on timeouts
        self._messages: dict[int, dict[str, tuple[bytes, bytes]]] = {}
        saved = store.get_checkpoint()
        if saved is not None:
            self.stable = saved[0]

    @property
    def low(self) -> int:
        return self.stable

    @property
    def high(self) -> int:
        return self.stable + self.window

    def in_window(self, seq: int) -> bool:
        return self.low < seq <= self.high

    def due(self, height: int) -> bool:
        return height % self.interval == 0

    def add(self, seq: int, author: str, digest: bytes, raw: bytes) -> bytes | None:
        """Keep a checkpoint message; return the author's earlier bytes if they conflict."""
        by_author = self._messages.setdefault(seq, {})
        known = by_author.get(author)
        if known is None:
            by_author[author] = (digest, raw)
            return None
        return None if known[0] == digest else known[1]

    def stabilise(self, seq: int, digest: bytes, quorum: int) -> bool:
        """Make ``seq`` stable if a quorum signed ``digest`` (the hash we executed there)."""
        if seq <= self.stable:
            return False
        raws = [raw for d, raw in self._messages.get(seq, {}).values() if d == digest]
        if len(raws) < quorum:
            return False
        self._store.put_checkpoint(seq, wire.encode(CheckpointProof(seq, digest, tuple(raws))))
        self.stable = seq
        self._messages = {s: m for s, m in self._messages.items() if s > seq}
        return True

    def pending(self) -> list[int]:
        """Heights with checkpoint messages above the stable one, lowest first."""
        return sorted(self._messages)
