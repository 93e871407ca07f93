"""What a replica persists, as an interface the node implements over its store.

Everything is bytes in the codec's canonical form, so a backend only maps keys
to values. The replica calls ``put_vote`` (and ``put_prepared``) and only then
returns the message for sending, and ``put_block`` before it reports a block as
committed: the WAL-before-act rule, so that after a crash it never signs a
second, different vote for a (view, seq, phase) and never forgets a block or a
prepared certificate it told others about. Every ``put_*`` must be durable when
it returns.
"""

from __future__ import annotations

from typing import Protocol


class LedgerStore(Protocol):
    """Persistence for one replica (one node)."""

    def put_block(self, height: int, block: bytes, certificate: bytes) -> None:
        """Store the committed block at ``height`` (always last_height() + 1) with its certificate."""

    def get_block(self, height: int) -> tuple[bytes, bytes] | None:
        """(block, certificate) at ``height``, or None."""

    def last_height(self) -> int:
        """Height of the last stored block; 0 before the first."""

    def put_vote(self, seq: int, view: int, phase: int, record: bytes) -> None:
        """Store one of our own votes (a ``VoteRecord``) under (seq, view, phase)."""

    def votes(self) -> list[bytes]:
        """Every vote record not yet pruned."""

    def put_prepared(self, seq: int, view: int, proof: bytes) -> None:
        """Store the ``PreparedProof`` we hold for ``seq`` (replacing one of a lower view)."""

    def prepared(self) -> list[tuple[int, int, bytes]]:
        """(seq, view, proof) for every prepared proof not yet pruned."""

    def put_view(self, view: int, changing: bool) -> None:
        """Our view, and whether we have left it for a view change to ``view``."""

    def get_view(self) -> tuple[int, bool]:
        """What ``put_view`` last stored; (0, False) at first start."""

    def put_checkpoint(self, seq: int, proof: bytes) -> None:
        """The stable checkpoint and its ``CheckpointProof``."""

    def get_checkpoint(self) -> tuple[int, bytes] | None:
        """The last stable checkpoint, or None before the first."""

    def prune(self, up_to: int) -> None:
        """Drop votes and prepared proofs for sequence numbers <= ``up_to`` (blocks stay)."""


class MemoryLedgerStore:
    """A LedgerStore in dictionaries: for tests, benchmarks and simulations.

    A "crash" is modelled by dropping the Replica and building a new one over the
    same store object, which is exactly what survives a real restart.
    """

    def __init__(self) -> None:
        self._blocks: dict[int, tuple[bytes, bytes]] = {}
        self._votes: dict[tuple[int, int, int], bytes] = {}
        self._prepared: dict[int, tuple[int, bytes]] = {}
        self._view = (0, False)
        self._checkpoint: tuple[int, bytes] | None = None

    def put_block(self, height: int, block: bytes, certificate: bytes) -> None:
        if height != self.last_height() + 1:
            raise ValueError(f"block {height} does not follow {self.last_height()}")
        self._blocks[height] = (block, certificate)

    def get_block(self, height: int) -> tuple[bytes, bytes] | None:
        return self._blocks.get(height)

    def last_height(self) -> int:
        return len(self._blocks)

    def put_vote(self, seq: int, view: int, phase: int, record: bytes) -> None:
        self._votes[(seq, view, phase)] = record

    def votes(self) -> list[bytes]:
        return list(self._votes.values())

    def put_prepared(self, seq: int, view: int, proof: bytes) -> None:
        current = self._prepared.get(seq)
        if current is None or current[0] <= view:
            self._prepared[seq] = (view, proof)

    def prepared(self) -> list[tuple[int, int, bytes]]:
        return [(seq, view, proof) for seq, (view, proof) in self._prepared.items()]

    def put_view(self, view: int, changing: bool) -> None:
        self._view = (view, changing)

    def get_view(self) -> tuple[int, bool]:
        return self._view

    def put_checkpoint(self, seq: int, proof: bytes) -> None:
        self._checkpoint = (seq, proof)

    def get_checkpoint(self) -> tuple[int, bytes] | None:
        return self._checkpoint

    def prune(self, up_to: int) -> None:
        self._votes = {k: v for k, v in self._votes.items() if k[0] > up_to}
        self._prepared = {s: p for s, p in self._prepared.items() if s > up_to}
