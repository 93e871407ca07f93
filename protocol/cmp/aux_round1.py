"""Aux/refresh round 1: every party's hash commitment V_j arrives; this party opens its own."""

from __future__ import annotations

from dataclasses import dataclass

from protocol import wire
from protocol.cmp import vss
from protocol.cmp.aux_round2 import AuxRound2
from protocol.cmp.commit_round import CommitmentRound


@wire.message(0x0220)
@dataclass(frozen=True, slots=True)
class AuxCommitment:
    """V_i = H(session, i, opening): binds N_i, s_i, t_i, both proofs, rid_i and any dealing."""

    commitment: bytes = wire.field(wire.Bytes(size=vss.DIGEST_SIZE))


class AuxRound1(CommitmentRound):
    broadcast_type = AuxCommitment
    next_round = AuxRound2
