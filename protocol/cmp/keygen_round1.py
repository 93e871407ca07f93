"""Keygen round 1: every party's hash commitment V_j arrives; this party opens its own."""

from __future__ import annotations

from dataclasses import dataclass

from protocol import wire
from protocol.cmp import vss
from protocol.cmp.commit_round import CommitmentRound
from protocol.cmp.keygen_round2 import KeygenRound2


@wire.message(0x0210)
@dataclass(frozen=True, slots=True)
class KeygenCommitment:
    """V_i = H(session, i, opening): binds the dealing, the Schnorr nonce, rid_i and c_i."""

    commitment: bytes = wire.field(wire.Bytes(size=vss.DIGEST_SIZE))


class KeygenRound1(CommitmentRound):
    broadcast_type = KeygenCommitment
    next_round = KeygenRound2
