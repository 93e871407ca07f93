"""Round 1 of keygen and of aux info/refresh: every party's hash commitment V_j arrives;
this party then opens its own.

Both machines commit in ``_begin`` to an opening they keep in ``openings`` and
collect the commitments in ``commitments``; a subclass names the commitment's wire
type and the round that receives the openings.
"""

from __future__ import annotations

from typing import Any, ClassVar

from protocol.machine import Round, Send, Transition


class CommitmentRound(Round):
    number = 1
    #: the round that receives the openings, built from the machine
    next_round: ClassVar[type[Round]]

    def __init__(self, m: Any) -> None:
        self.m = m

    def verify(self, sender: int, recipient: int, broadcast: Any, direct: None) -> None:
        return None  # 32 bytes are all a commitment is; the codec has checked the size

    def store(self, sender: int, broadcast: Any, direct: None) -> None:
        self.m.commitments[sender] = broadcast.commitment

    def finalize(self) -> Transition:
        return Transition([Send(self.m.openings[self.m.party])], next=self.next_round(self.m))


__all__ = ["CommitmentRound"]
