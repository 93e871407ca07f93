"""Keygen round 1: every party's hash commitment V_j arrives; this party opens its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from protocol import wire
from protocol.cmp import vss
from protocol.cmp.keygen_round2 import KeygenRound2
from protocol.machine import Round, Send, Transition

if TYPE_CHECKING:
    from protocol.cmp.keygen import Keygen


@wire.message(0x0210)
@dataclass(frozen=True, slots=True)
class KeygenCommitment:
    """V_i = H(session, i, opening): binds the dealing, the Schnorr nonce, rid_i and c_i."""

    commitment: bytes = wire.field(wire.Bytes(size=vss.DIGEST_SIZE))


class KeygenRound1(Round):
    number = 1
    broadcast_type = KeygenCommitment

    def __init__(self, m: Keygen) -> None:
        self.m = m

    def verify(self, sender: int, recipient: int, broadcast: KeygenCommitment, direct: None) -> None:
        return None  # 32 bytes are all a commitment is; the codec has checked the size

    def store(self, sender: int, broadcast: KeygenCommitment, direct: None) -> None:
        self.m.commitments[sender] = broadcast.commitment

    def finalize(self) -> Transition:
        return Transition([Send(self.m.openings[self.m.party])], next=KeygenRound2(self.m))
