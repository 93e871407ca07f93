"""Aux/refresh round 1: every party's hash commitment V_j arrives; this party opens its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from protocol import wire
from protocol.cmp import vss
from protocol.cmp.aux_round2 import AuxRound2
from protocol.machine import Round, Send, Transition

if TYPE_CHECKING:
    from protocol.cmp.aux import AuxRefresh


@wire.message(0x0220)
@dataclass(frozen=True, slots=True)
class AuxCommitment:
    """V_i = H(session, i, opening): binds N_i, s_i, t_i, both proofs, rid_i and any dealing."""

    commitment: bytes = wire.field(wire.Bytes(size=vss.DIGEST_SIZE))


class AuxRound1(Round):
    number = 1
    broadcast_type = AuxCommitment

    def __init__(self, m: AuxRefresh) -> None:
        self.m = m

    def verify(self, sender: int, recipient: int, broadcast: AuxCommitment, direct: None) -> None:
        return None  # 32 bytes are all a commitment is; the codec has checked the size

    def store(self, sender: int, broadcast: AuxCommitment, direct: None) -> None:
        self.m.commitments[sender] = broadcast.commitment

    def finalize(self) -> Transition:
        return Transition([Send(self.m.openings[self.m.party])], next=AuxRound2(self.m))
