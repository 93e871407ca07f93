"""The replica's own votes and prepared proofs, written to the store before use.

This is the part of PBFT's log that must survive a crash: a restarted replica
reloads every vote it signed, so it can resend exactly those and refuses to sign
a different digest for a (view, seq, phase) it already voted on; and it reloads
the prepared proofs it may have to present in a view change.
"""

from __future__ import annotations

from ledger.messages import PreparedProof, VoteRecord
from ledger.store import LedgerStore
from protocol import wire


class OwnVotes:
    __slots__ = ("_store", "_votes", "_prepared")

    def __init__(self, store: LedgerStore) -> None:
        self._store = store
        self._votes: dict[tuple[int, int, int], VoteRecord] = {}
        for data in store.votes():
            record = wire.decode(data, VoteRecord)
            self._votes[(record.view, record.seq, record.phase)] = record
        self._prepared: dict[int, tuple[int, PreparedProof]] = {
            seq: (view, wire.decode(proof, PreparedProof)) for seq, view, proof in store.prepared()
        }

    def get(self, view: int, seq: int, phase: int) -> VoteRecord | None:
        return self._votes.get((view, seq, phase))

    def may_sign(self, view: int, seq: int, phase: int, digest: bytes) -> bool:
        """False if we already signed another digest for this (view, seq, phase)."""
        record = self._votes.get((view, seq, phase))
        return record is None or record.digest == digest

    def record(self, view: int, seq: int, phase: int, digest: bytes, signed: bytes) -> None:
        """Persist a vote; only after this returns may ``signed`` leave the replica."""
        record = VoteRecord(view, seq, phase, digest, signed)
        self._store.put_vote(seq, view, phase, wire.encode(record))
        self._votes[(view, seq, phase)] = record

    def records(self) -> list[VoteRecord]:
        return list(self._votes.values())

    def record_prepared(self, seq: int, view: int, proof: PreparedProof) -> None:
        known = self._prepared.get(seq)
        if known is not None and known[0] >= view:
            return
        self._store.put_prepared(seq, view, wire.encode(proof))
        self._prepared[seq] = (view, proof)

    def prepared_above(self, height: int) -> tuple[PreparedProof, ...]:
        """The highest-view proof for every sequence number above ``height``."""
        return tuple(p for seq, (_, p) in sorted(self._prepared.items()) if seq > height)

    def prune(self, up_to: int) -> None:
        self._store.prune(up_to)
        self._votes = {k: r for k, r in self._votes.items() if k[1] > up_to}
        self._prepared = {s: p for s, p in self._prepared.items() if s > up_to}
