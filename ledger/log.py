"""The replica's message log: proposals and votes by sequence number and view.

Only messages whose signature and sender were already checked get here. The log
keeps the first message of each author for a (phase, view, seq); a second one
with another digest is returned to the caller as equivocation evidence, and
never replaces the first. Entries at or below the stable checkpoint are dropped
(PBFT's garbage collection).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.block import Block
from ledger.messages import COMMIT, PREPARE
from ledger.state import Delta


@dataclass(slots=True)
class Proposal:
    """A pre-prepared block; ``delta`` is set once it passed the checks against the
    chain tip, ``rejected`` once it failed them."""

    view: int
    seq: int
    block: Block
    digest: bytes
    raw: bytes
    delta: Delta | None = None
    rejected: bool = False


@dataclass(slots=True)
class Slot:
    proposals: dict[int, Proposal] = field(default_factory=dict)
    # (phase, view) -> author -> (digest, signed bytes)
    votes: dict[tuple[int, int], dict[str, tuple[bytes, bytes]]] = field(default_factory=dict)


class MessageLog:
    __slots__ = ("_slots", "committed")

    def __init__(self) -> None:
        self._slots: dict[int, Slot] = {}
        self.committed: dict[int, bytes] = {}  # seq -> digest of the block executed there

    def _slot(self, seq: int) -> Slot:
        slot = self._slots.get(seq)
        if slot is None:
            slot = self._slots[seq] = Slot()
        return slot

    def proposal(self, seq: int, view: int) -> Proposal | None:
        slot = self._slots.get(seq)
        return None if slot is None else slot.proposals.get(view)

    def add_proposal(self, proposal: Proposal) -> bytes | None:
        """Keep ``proposal``; return the earlier signed bytes if it conflicts with one."""
        slot = self._slot(proposal.seq)
        known = slot.proposals.get(proposal.view)
        if known is None:
            slot.proposals[proposal.view] = proposal
            return None
        return None if known.digest == proposal.digest else known.raw

    def add_vote(self, phase: int, view: int, seq: int, author: str, digest: bytes,
                 raw: bytes) -> bytes | None:
        """Keep a vote; return the author's earlier signed bytes if it conflicts."""
        votes = self._slot(seq).votes.setdefault((phase, view), {})
        known = votes.get(author)
        if known is None:
            votes[author] = (digest, raw)
            return None
        return None if known[0] == digest else known[1]

    def voters(self, phase: int, view: int, seq: int, digest: bytes) -> dict[str, bytes]:
        """Author -> signed bytes of the votes for exactly (phase, view, seq, digest)."""
        slot = self._slots.get(seq)
        votes = {} if slot is None else slot.votes.get((phase, view), {})
        return {a: raw for a, (d, raw) in votes.items() if d == digest}

    def prepared(self, seq: int, view: int, digest: bytes, quorum: int, primary: str) -> bool:
        """PBFT's prepared predicate: the proposal plus a quorum less one backup prepares."""
        backups = self.voters(PREPARE, view, seq, digest)
        backups.pop(primary, None)
        return len(backups) >= quorum - 1

    def commit_quorum(self, seq: int, quorum: int) -> tuple[int, bytes, list[bytes]] | None:
        """(view, digest, commits) for any view in which a quorum committed one digest."""
        slot = self._slots.get(seq)
        if slot is None:
            return None
        for (phase, view), votes in slot.votes.items():
            if phase != COMMIT or len(votes) < quorum:
                continue
            tally: dict[bytes, list[bytes]] = {}
            for digest, raw in votes.values():
                tally.setdefault(digest, []).append(raw)
            for digest, raws in tally.items():
                if len(raws) >= quorum:
                    return view, digest, raws
        return None

    def block(self, seq: int, digest: bytes) -> Proposal | None:
        """A proposal of any view that carries the block with ``digest``."""
        slot = self._slots.get(seq)
        if slot is not None:
            for proposal in slot.proposals.values():
                if proposal.digest == digest:
                    return proposal
        return None

    def voters_at(self, seq: int) -> set[str]:
        """Everyone who voted on ``seq``, in any phase and view, for any digest."""
        slot = self._slots.get(seq)
        return set() if slot is None else {a for votes in slot.votes.values() for a in votes}

    def highest(self) -> int:
        return max(self._slots, default=0)

    def gc(self, stable: int) -> None:
        """Forget everything at or below the stable checkpoint."""
        self._slots = {s: slot for s, slot in self._slots.items() if s > stable}
        self.committed = {s: d for s, d in self.committed.items() if s > stable}
