"""FROST key refresh: re-randomize every share, keep the public key (proactive security).

Each party i picks a random polynomial g_i of degree t with g_i(0) = 0, broadcasts
the Feldman commitments (g_i,1·G, ..., g_i,t·G) (the constant term is the
identity by construction, so it is not sent) and sends g_i(j) to each party j.
Round 1 (``refresh_round1``) checks each received value against its sender's
commitments, with public data only, so a bad value is blamed on its sender by
every honest party through an accusation. Then

    x_j' = x_j + Σ_i g_i(j),      X_j' = X_j + Σ_i g_i(j)·G,

and since Σ_i g_i(0) = 0 the key is unchanged (a BIP340 key stays even-y). A commitment needs no proof of
knowledge: the t+1 or more values the sender must hand out consistently fix its
polynomial. The output is the share at ``epoch + 1``; old and new shares lie on
different polynomials and do not combine.
"""

from __future__ import annotations

from protocol import shamir
from protocol.errors import UsageError
from protocol.frost.common import REFRESH, sample_polynomial, session_tag
from protocol.frost.refresh_round1 import RefreshCommit, RefreshRound1, RefreshShare
from protocol.frost.shares import FrostKeyShare
from protocol.keygen_certificate import feldman_commitments
from protocol.machine import Machine, Send, Transition
from protocol.rng import Rng


class FrostRefresh(Machine):
    """One party's run of a refresh among all holders; ``result`` is the new ``FrostKeyShare``."""

    ROUNDS = 1

    def __init__(self, share: FrostKeyShare, session_id: bytes, rng: Rng) -> None:
        if not isinstance(share, FrostKeyShare):
            raise UsageError("FrostRefresh needs a FrostKeyShare")
        super().__init__(share.party, share.parties, share.group)
        self.share = share
        self.rng = rng
        self.tag = session_tag(REFRESH, session_id, [
            ("suite", share.suite), ("key-id", share.key_id), ("epoch", share.epoch),
            ("public-key", share.public_key), ("parties", list(share.parties)),
            ("threshold", share.threshold)])
        self.context = self.tag  # parties with different inputs abort without blame

    def _begin(self) -> Transition:
        group = self.group
        polynomial = sample_polynomial(group, self.rng, self.share.threshold, constant=group.scalar(0))
        commit = RefreshCommit(self.tag, feldman_commitments(group, polynomial[1:]))
        sends = [Send(commit)]
        sends += [Send(RefreshShare(shamir.evaluate(polynomial, j)), j) for j in self.others]
        return Transition(sends, next=RefreshRound1(self, commit, shamir.evaluate(polynomial, self.party)))


__all__ = ["FrostRefresh"]
