"""Refresh round 1: every sender's zero-constant commitments and its value for us."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from protocol import wire
from protocol.errors import Bug, InvalidProof
from protocol.frost.common import REFRESH, TAG_SIZE, feldman_value
from protocol.frost.shares import MAX_PARTIES
from protocol.group import Point, Scalar
from protocol.keygen_certificate import public_shares
from protocol.machine import Round, Transition
from protocol.secrecy import Redacted

if TYPE_CHECKING:
    from protocol.frost.refresh import FrostRefresh


@wire.message(0x0330)
@dataclass(frozen=True, slots=True)
class RefreshCommit:
    """Broadcast: (g_1·G, ..., g_t·G) for the sender's polynomial g with g(0) = 0."""

    session: bytes = wire.field(wire.Bytes(size=TAG_SIZE))
    commitments: tuple[Point, ...] = wire.field(
        wire.Seq(wire.PointField(), min_len=1, max_len=MAX_PARTIES))


@wire.message(0x0331)
@dataclass(frozen=True, slots=True, repr=False)
class RefreshShare(Redacted):
    """Point to point: g_sender(recipient)."""

    value: Scalar = wire.field(wire.ScalarField())


class RefreshRound1(Round):
    number = 1
    broadcast_type = RefreshCommit
    direct_type = RefreshShare

    def __init__(self, m: FrostRefresh, own: RefreshCommit, own_value: Scalar) -> None:
        self.m = m
        self.vectors = {m.party: self._full(own)}
        self.delta = own_value

    def _full(self, commit: RefreshCommit) -> tuple[Point, ...]:
        """The whole Feldman vector: the identity for g(0) = 0, then the sent commitments."""
        return (self.m.group.identity, *commit.commitments)

    def verify(self, sender: int, recipient: int, broadcast: RefreshCommit, direct: RefreshShare) -> None:
        m = self.m
        if broadcast.session != m.tag:
            raise InvalidProof(REFRESH, "message from another session or for another key state")
        if len(broadcast.commitments) != m.share.threshold:
            raise InvalidProof(REFRESH, "commitment vector length is not the threshold")
        if m.group.base_mul(direct.value) != feldman_value(m.group, self._full(broadcast), recipient):
            raise InvalidProof(REFRESH, f"value for party {recipient} does not match the sender's "
                                        "commitments")

    def store(self, sender: int, broadcast: RefreshCommit, direct: RefreshShare) -> None:
        self.vectors[sender] = self._full(broadcast)
        self.delta = self.delta + direct.value

    def finalize(self) -> Transition:
        m, old = self.m, self.m.share
        deltas = public_shares(m.group, list(self.vectors.values()), old.parties)
        new_public = tuple(old.public_share(j) + deltas[j] for j in old.parties)
        secret = old.secret + self.delta
        if m.group.base_mul(secret) != new_public[old.parties.index(old.party)]:
            raise Bug("verified refresh values do not add up to this party's new public share")
        share = replace(old, epoch=old.epoch + 1, secret=secret, public_shares=new_public)
        return Transition(result=share)


__all__ = ["RefreshCommit", "RefreshRound1", "RefreshShare"]
