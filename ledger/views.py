"""View changes: leaving a silent or faulty primary's view, and installing the next.

Mixed into ``Replica`` (see ``ledger.viewchange`` for the rules themselves).
A replica that times out, or catches the primary misbehaving, moves to view
v+1, persists that, and broadcasts a view change; from then on it takes no part
in older views. It also joins a view change it did not start itself once f+1
others are past its view (PBFT's rule that keeps a correct replica from being
left behind). The primary of the new view sends the new-view once a quorum of
view changes is in; everyone recomputes its re-proposals before accepting it.
"""

from __future__ import annotations

from ledger.events import Drop
from ledger.log import Proposal
from ledger.messages import PREPREPARE, NewView, PrePrepare, ViewChange
from ledger.viewchange import check_new_view, check_view_change, claimed_preprepares, plan_new_view
from protocol.errors import InvalidProof


class ViewChanges:
    def _start_view_change(self, view: int) -> None:
        if view <= self.view or self.id not in self.state.current():
            return  # views only go forward, and only validators vote them forward
        self.view, self.changing = view, True
        self._store.put_view(view, True)
        self._send_view_change()
        self._join()
        self._maybe_new_view()

    def _send_view_change(self) -> None:
        vc = ViewChange(self.view, self.height, self._last_cert,
                        self.votes.prepared_above(self.height), self.id)
        raw = self._emit(None, vc)
        self._view_changes[self.id] = (vc, claimed_preprepares(vc), raw)

    def _on_view_change(self, sender: str, vc: ViewChange, raw: bytes) -> None:
        if sender not in self.state.current():
            raise InvalidProof("view-change", f"{sender!r} is not a current validator")
        if vc.new_view < self.view or (vc.new_view == self.view and not self.changing):
            self._help(sender, vc.height, vc.new_view)
            raise Drop(f"view change to {vc.new_view}, we are in view {self.view}")
        if vc.height > self.height:
            self._behind(sender)
        proven = check_view_change(vc, self._set_for, self._verifier)
        known = self._view_changes.get(sender)
        # One entry per author, its latest view: an author that moved on has left older views.
        if known is None or known[0].new_view <= vc.new_view:
            self._view_changes[sender] = (vc, proven, raw)
        if vc.height < self.height:
            self._help(sender, vc.height, vc.new_view)
        self._join()
        self._maybe_new_view()

    def _join(self) -> None:
        """Move to the lowest view that f+1 others have moved past ours to."""
        vset = self.state.current()
        ahead = sorted((vc.new_view for author, (vc, _, _) in self._view_changes.items()
                        if author != self.id and author in vset and vc.new_view > self.view),
                       reverse=True)
        if len(ahead) > vset.f:
            self._start_view_change(ahead[vset.f])

    def _view_change_quorum(self) -> bool:
        """Has a quorum moved to our view or beyond? Only then may a timeout move us further,
        which keeps a replica whose messages are lost from running ahead of everyone."""
        vset = self.state.current()
        moved = sum(1 for author, (vc, _, _) in self._view_changes.items()
                    if author in vset and vc.new_view >= self.view)
        return moved >= vset.quorum

    def _maybe_new_view(self) -> None:
        """As the new view's primary with a quorum of view changes, send the new-view."""
        vset = self.state.current()
        if not self.changing or vset.primary(self.view) != self.id:
            return
        chosen = sorted((entry for author, entry in self._view_changes.items()
                         if author in vset and entry[0].new_view == self.view),
                        key=lambda entry: entry[0].replica)
        if len(chosen) < vset.quorum:
            return
        chosen = chosen[:vset.quorum]
        min_s, blocks = plan_new_view([(vc, proven) for vc, proven, _ in chosen])
        preprepares = []
        for seq, block in enumerate(blocks, start=min_s + 1):
            pp = PrePrepare(self.view, seq, block, self.id)
            raw = self._cast(PREPREPARE, self.view, seq, block.hash(), pp, send=False)
            if raw is None:
                return  # we signed another block for this view before a restart
            preprepares.append((pp, raw))
        nv = NewView(self.view, tuple(raw for _, _, raw in chosen),
                     tuple(raw for _, raw in preprepares), self.id)
        self._install(self._emit(None, nv), [vc for vc, _, _ in chosen], preprepares)

    def _on_new_view(self, sender: str, nv: NewView, raw: bytes) -> None:
        if nv.view < self.view or (nv.view == self.view and not self.changing):
            raise Drop(f"new-view for view {nv.view}, we are in view {self.view}")
        proven, pps = check_new_view(nv, self.state.current(), self._set_for, self._verifier)
        # A valid new-view proves a quorum left the older views: safe to skip ahead to it.
        self._install(raw, [vc for vc, _ in proven], list(zip(pps, nv.preprepares, strict=True)))

    def _install(self, nv_raw: bytes, view_changes: list[ViewChange],
                 preprepares: list[tuple[PrePrepare, bytes]]) -> None:
        self.view = view_changes[0].new_view
        self.changing = False
        self._store.put_view(self.view, False)
        self._new_view_raw = nv_raw
        self._view_changes = {a: e for a, e in self._view_changes.items() if e[0].new_view > self.view}
        primary = self.state.current().primary(self.view)
        for pp, raw in preprepares:
            earlier = self.log.add_proposal(Proposal(self.view, pp.seq, pp.block, pp.block.hash(), raw))
            if earlier is not None:
                self._blame(primary, f"two pre-prepares for view {self.view} seq {pp.seq}", earlier, raw)
        best = max(view_changes, key=lambda vc: vc.height)
        if best.height > self.height:
            self._behind(best.replica)
        for pp, _ in preprepares:
            if pp.seq <= self.height:
                self._vote(pp.seq)  # help others finish a height we already executed
        self._progress()
