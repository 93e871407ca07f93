"""The rules of a PBFT view change, as pure functions over signed messages.

A view change proves what its author knows: the commit certificate of its last
executed block (``height``) and the prepared proofs above it. The new primary
takes a quorum of them; from those alone, any replica recomputes what the new
view must re-propose (Castro–Liskov's set O):

* ``min_s`` is the highest height proven committed by any of them;
* for every sequence number above it, the prepared proof of the highest view
  wins, and re-proposals run contiguously from ``min_s + 1``.

A block committed anywhere was prepared by a quorum, which shares an honest
member with every quorum of view changes; that member reports it either as
executed (so ``min_s`` covers it) or as prepared with a view no lower than any
conflicting proof. So the new view re-proposes it and nothing else at its height.
Honest replicas prepare height s only after executing s-1, so the proofs above
``min_s`` form one chain and stop at the first gap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ledger.block import Block
from ledger.certs import open_signed, verify_commit_certificate, verify_prepared_proof
from ledger.config import ValidatorSet
from ledger.crypto import Verifier
from ledger.messages import BODIES, NewView, PrePrepare, Signed, ViewChange
from protocol import wire
from protocol.errors import InvalidProof

SetsAt = Callable[[int], ValidatorSet]


def _claimed(signed: bytes) -> PrePrepare:
    """The pre-prepare inside signed bytes, unverified (to pick the set that verifies it)."""
    body = BODIES.decode(wire.decode(signed, Signed).body)
    if not isinstance(body, PrePrepare):
        raise InvalidProof("view-change", "prepared proof without a pre-prepare")
    return body


def claimed_preprepares(vc: ViewChange) -> list[PrePrepare]:
    """The pre-prepares of our own view change, which need no checking."""
    return [_claimed(proof.preprepare) for proof in vc.prepared]


def check_view_change(vc: ViewChange, sets_at: SetsAt, verifier: Verifier) -> list[PrePrepare]:
    """Check every proof inside ``vc``; return the pre-prepares it proves prepared."""
    if vc.height == 0:
        if vc.certificate is not None:
            raise InvalidProof("view-change", "certificate for the genesis height")
    else:
        cert = vc.certificate
        if cert is None or cert.seq != vc.height:
            raise InvalidProof("view-change", "no commit certificate for the claimed height")
        verify_commit_certificate(cert, sets_at(vc.height), verifier)
    prepared = []
    for proof in vc.prepared:
        pp = verify_prepared_proof(proof, sets_at(_claimed(proof.preprepare).seq), verifier)
        if pp.seq <= vc.height or pp.view >= vc.new_view:
            raise InvalidProof("view-change", "prepared proof at or below the height or not from an earlier view")
        if any(p.seq == pp.seq for p in prepared):
            raise InvalidProof("view-change", "two prepared proofs for one sequence number")
        prepared.append(pp)
    return prepared


def plan_new_view(proven: Sequence[tuple[ViewChange, list[PrePrepare]]]) -> tuple[int, list[Block]]:
    """(min_s, the blocks to re-propose at min_s + 1, min_s + 2, ...)."""
    min_s = max(vc.height for vc, _ in proven)
    best: dict[int, PrePrepare] = {}
    for _, prepared in proven:
        for pp in prepared:
            known = best.get(pp.seq)
            if pp.seq > min_s and (known is None or
                                   (pp.view, pp.block.hash()) > (known.view, known.block.hash())):
                best[pp.seq] = pp
    blocks = []
    seq = min_s + 1
    while seq in best:
        blocks.append(best[seq].block)
        seq += 1
    return min_s, blocks


def check_new_view(nv: NewView, vset: ValidatorSet, sets_at: SetsAt,
                   verifier: Verifier) -> tuple[list[tuple[ViewChange, list[PrePrepare]]], list[PrePrepare]]:
    """Check a new-view against the current set; return its view changes and re-proposals."""
    what = "new-view"
    if nv.replica != vset.primary(nv.view):
        raise InvalidProof(what, "not sent by the primary of the new view")
    proven = []
    authors = set()
    for raw in nv.view_changes:
        vc = open_signed(raw, verifier, vset.keys, ViewChange, what)
        if vc.new_view != nv.view or vc.replica in authors:
            raise InvalidProof(what, "view change for another view, or two by one author")
        authors.add(vc.replica)
        proven.append((vc, check_view_change(vc, sets_at, verifier)))
    if len(authors) < vset.quorum:
        raise InvalidProof(what, f"{len(authors)} view changes, quorum is {vset.quorum}")
    min_s, blocks = plan_new_view(proven)
    primary_key = {nv.replica: vset.keys[nv.replica]}
    pps = [open_signed(raw, verifier, primary_key, PrePrepare, what) for raw in nv.preprepares]
    expected = [(nv.view, min_s + 1 + i, b.hash()) for i, b in enumerate(blocks)]
    if [(p.view, p.seq, p.block.hash()) for p in pps] != expected:
        raise InvalidProof(what, "re-proposals are not the ones the view changes require")
    return proven, pps
