"""A two-round toy protocol that exercises every feature of the round machine.

Round 1: each party broadcasts a public number X_i and sends every other party j
the direct value X_i + j (checkable by anyone who sees both). Round 2: each party
broadcasts a tag it must repeat from round 1 (X_i again). The result is Σ X_i.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import wire
from protocol.errors import InvalidProof
from protocol.machine import Machine, Round, Send, Transition


@wire.message(0x06F1)
@dataclass(frozen=True, slots=True)
class Number:
    value: int = wire.field(wire.UInt(2**32))


@wire.message(0x06F2)
@dataclass(frozen=True, slots=True)
class Piece:
    value: int = wire.field(wire.UInt(2**33))


class _Round1(Round):
    number = 1
    broadcast_type = Number
    direct_type = Piece

    def __init__(self, m: ToyMachine) -> None:
        self.m = m
        self.numbers = {m.party: m.x}

    def verify(self, sender, recipient, broadcast, direct):
        if direct.value != broadcast.value + recipient:
            raise InvalidProof("toy", "piece does not match the broadcast number")

    def store(self, sender, broadcast, direct):
        self.numbers[sender] = broadcast.value

    def finalize(self):
        return Transition([Send(Number(self.m.x))], next=_Round2(self.numbers))


class _Round2(Round):
    number = 2
    broadcast_type = Number

    def __init__(self, numbers) -> None:
        self.numbers = numbers

    def verify(self, sender, recipient, broadcast, direct):
        if broadcast.value != self.numbers[sender]:
            raise InvalidProof("toy", "round-2 number differs from round 1")

    def finalize(self):
        return Transition(result=sum(self.numbers.values()))


class ToyMachine(Machine):
    ROUNDS = 2

    def __init__(self, party, parties, x: int) -> None:
        super().__init__(party, parties, None)
        self.x = x

    def _begin(self):
        sends = [Send(Number(self.x))] + [Send(Piece(self.x + j), j) for j in self.others]
        return Transition(sends, next=_Round1(self))


def toy_machines(n: int = 4) -> dict[int, ToyMachine]:
    parties = list(range(1, n + 1))
    return {p: ToyMachine(p, parties, 100 * p) for p in parties}
