"""Aux round 3: every peer's Π^fac arrives; the output is formed (a refresh: aux_refresh_round3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from protocol import wire
from protocol.cmp.shares import CmpKey, KeyShare
from protocol.errors import InvalidProof
from protocol.group import Scalar
from protocol.machine import Round, Transition
from protocol.secrecy import Redacted
from protocol.transcript import Transcript
from protocol.zk import fac

if TYPE_CHECKING:
    from protocol.cmp.aux import AuxRefresh

#: the check name of every aux/refresh failure (rounds 2 and 3)
NAME = "aux"


@wire.message(0x0223)
@dataclass(frozen=True, slots=True, repr=False)
class AuxDirect(Redacted):
    """To party j: Π^fac for N_i under j's ring-Pedersen parameters, and for a refresh g_i(j)."""

    fac_proof: fac.Proof = wire.field(wire.Nested(fac.Proof))
    share: Scalar | None = wire.field(wire.Optional(wire.ScalarField()))


def prover_transcript(base: Transcript, prover: int, statement: str) -> Transcript:
    """The transcript of one proof by ``prover``: forked per prover and per statement."""
    t = base.fork("prover", prover)
    t.append("statement", statement)
    return t


def fac_transcript(base: Transcript, prover: int, verifier: int, rid: bytes) -> Transcript:
    """Π^fac's: for one verifier (under its parameters), bound to the joint rid."""
    t = prover_transcript(base, prover, "fac")
    t.append("verifier", verifier)
    t.append("rid", rid)
    return t


class AuxRound3(Round):
    """Auxiliary information only: a direct Π^fac from every peer."""

    number = 3
    direct_type = AuxDirect

    def __init__(self, m: AuxRefresh) -> None:
        self.m = m

    def _check_distinct_modulus(self, sender: int) -> None:
        # Every modulus here passed Π^mod in round 2, so two parties presenting one
        # both know its factors and neither is honest. Blaming the later of the two
        # is then sound, and it gives every honest party (and every audit) the same
        # culprit whatever order messages arrive in.
        n = self.m.openings[sender].n
        for k in self.m.parties:
            if k < sender and self.m.openings[k].n == n:
                raise InvalidProof(NAME, f"modulus already used by party {k}")

    def _check_fac(self, sender: int, recipient: int, direct: AuxDirect) -> None:
        m = self.m
        own = m.mine.ring_pedersen if recipient == m.party else None
        pub = fac.Public(m.openings[sender].n, m.params[recipient])
        fac.verify(fac_transcript(m.transcript, sender, recipient, m.rid), pub, direct.fac_proof,
                   m.level, aux_secret=own)

    def verify(self, sender: int, recipient: int, broadcast: None, direct: AuxDirect) -> None:
        self._check_distinct_modulus(sender)
        if direct.share is not None:
            raise InvalidProof(NAME, "a refresh share in a run without refresh")
        self._check_fac(sender, recipient, direct)

    def _result(self, share: KeyShare) -> Transition:
        return Transition(result=CmpKey(share, self.m.aux_info()))

    def finalize(self) -> Transition:
        return self._result(self.m.share)
