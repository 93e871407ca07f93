"""Keygen round 2: every party's opening arrives and is checked; this party proves and deals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from protocol import wire
from protocol.cmp import vss
from protocol.cmp.keygen_round3 import NAME, KeygenProof, KeygenRound3, KeygenShare
from protocol.cmp.shares import MAX_PARTIES
from protocol.group import Point
from protocol.keygen_certificate import certify_participant
from protocol.machine import Round, Send, Transition

if TYPE_CHECKING:
    from protocol.cmp.keygen import Keygen


@wire.message(0x0211)
@dataclass(frozen=True, slots=True)
class KeygenDecommitment:
    """The opening of V_i: Feldman vector F_i, Schnorr nonce A_i, rid_i, chain-code share, u_i."""

    vector: tuple[Point, ...] = wire.field(
        wire.Seq(wire.PointField(allow_identity=True), min_len=1, max_len=MAX_PARTIES))
    A: Point = wire.field(wire.PointField())
    rid: bytes = wire.field(vss.RANDOM)
    chain_code: bytes = wire.field(vss.RANDOM)
    u: bytes = wire.field(vss.RANDOM)


class KeygenRound2(Round):
    number = 2
    broadcast_type = KeygenDecommitment

    def __init__(self, m: Keygen) -> None:
        self.m = m

    def verify(self, sender: int, recipient: int, broadcast: KeygenDecommitment, direct: None) -> None:
        m = self.m
        vss.check_opening(m.transcript, sender, wire.encode(broadcast, m.group),
                          m.commitments[sender], NAME)
        vss.check_vector(broadcast.vector, m.threshold, zero_constant=False, proof=NAME)

    def store(self, sender: int, broadcast: KeygenDecommitment, direct: None) -> None:
        self.m.openings[sender] = broadcast

    def finalize(self) -> Transition:
        m = self.m
        openings = [m.openings[j] for j in m.parties]
        m.rid = vss.xor_all([o.rid for o in openings])
        m.chain_code = vss.xor_all([o.chain_code for o in openings])
        dealing = m.dealing
        (proof,) = dealing.prove(m.transcript, m.party, m.rid)
        # The certificate is bound to this session's context (session id, parties,
        # threshold, key id, level): entries of two runs of one key id never mix.
        entry = certify_participant(m.key_id, m.group, m.parties, m.threshold, m.party,
                                    dealing.coefficients, m.rng, session_id=m.context)
        m.entries[m.party] = entry
        m.shares_received[m.party] = dealing.share_for(m.party)
        sends = [Send(KeygenProof(proof, entry.proof))]
        sends += [Send(KeygenShare(dealing.share_for(j)), j) for j in m.others]
        return Transition(sends, next=KeygenRound3(m))
