"""Aux/refresh round 2: every opening arrives and is checked; this party proves to each peer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import gmpy2

from protocol import wire
from protocol.cmp import vss
from protocol.cmp.aux_refresh_round3 import AuxRefreshRound3, AuxSchnorrProofs
from protocol.cmp.aux_round3 import NAME, AuxDirect, AuxRound3, fac_transcript, prover_transcript
from protocol.cmp.shares import MAX_PARTIES, MODULUS
from protocol.errors import InvalidProof
from protocol.group import Point
from protocol.machine import Round, Send, Transition
from protocol.pedersen import RingPedersenParams
from protocol.zk import fac, mod, prm
from protocol.zk.common import Factorization

if TYPE_CHECKING:
    from protocol.cmp.aux import AuxRefresh


@wire.message(0x0221)
@dataclass(frozen=True, slots=True)
class AuxDecommitment:
    """The opening of V_i. ``vector`` and ``nonces`` are empty unless the run is a refresh."""

    n: gmpy2.mpz = wire.field(MODULUS)
    s: gmpy2.mpz = wire.field(MODULUS)
    t: gmpy2.mpz = wire.field(MODULUS)
    prm_proof: prm.Proof = wire.field(wire.Nested(prm.Proof))
    mod_proof: mod.Proof = wire.field(wire.Nested(mod.Proof))
    rid: bytes = wire.field(vss.RANDOM)
    vector: tuple[Point, ...] = wire.field(
        wire.Seq(wire.PointField(allow_identity=True), max_len=MAX_PARTIES))
    nonces: tuple[Point, ...] = wire.field(wire.Seq(wire.PointField(), max_len=MAX_PARTIES))
    u: bytes = wire.field(vss.RANDOM)


class AuxRound2(Round):
    number = 2
    broadcast_type = AuxDecommitment

    def __init__(self, m: AuxRefresh) -> None:
        self.m = m

    def verify(self, sender: int, recipient: int, broadcast: AuxDecommitment, direct: None) -> None:
        m, d = self.m, broadcast
        vss.check_opening(m.transcript, sender, wire.encode(d, m.group), m.commitments[sender], NAME)
        if d.n.bit_length() != m.paillier_bits:
            raise InvalidProof(NAME, f"modulus of {d.n.bit_length()} bits, not {m.paillier_bits}")
        if int(d.n) in m.previous_moduli:
            raise InvalidProof(NAME, "modulus repeats one of the previous auxiliary information")
        if m.refresh:
            vss.check_vector(d.vector, m.threshold, zero_constant=True, proof=NAME)
            vss.check_nonce_count(d.nonces, m.threshold, zero_constant=True, proof=NAME)
        elif d.vector or d.nonces:
            raise InvalidProof(NAME, "a dealing in a run without refresh")
        # Cheap checks first, the proofs last. EncodingError names a failed structural
        # check (small factors, s or t not a unit, not a square, ±1, s = t).
        RingPedersenParams(d.n, d.s, d.t).validate(m.paillier_bits)
        prm.verify(prover_transcript(m.transcript, sender, "prm"), prm.Public(d.n, d.s, d.t), d.prm_proof,
                   m.level)
        mod.verify(prover_transcript(m.transcript, sender, "mod"), mod.Public(d.n), d.mod_proof, m.level)

    def store(self, sender: int, broadcast: AuxDecommitment, direct: None) -> None:
        self.m.openings[sender] = broadcast
        self.m.params[sender] = RingPedersenParams(broadcast.n, broadcast.s, broadcast.t)

    def finalize(self) -> Transition:
        m = self.m
        m.rid = vss.xor_all([m.openings[j].rid for j in m.parties])
        mine = m.mine
        n = mine.ring_pedersen.params.n
        witness = Factorization(mine.p, mine.q)
        dealing = m.dealing
        sends = []
        if dealing is not None:
            sends.append(Send(AuxSchnorrProofs(dealing.prove(m.transcript, m.party, m.rid))))
            m.shares_received[m.party] = dealing.share_for(m.party)
        for j in m.others:
            proof = fac.prove(fac_transcript(m.transcript, m.party, j, m.rid), fac.Public(n, m.params[j]),
                              witness, m.rng, m.level)
            share = dealing.share_for(j) if dealing is not None else None
            sends.append(Send(AuxDirect(proof, share), j))
        nxt = AuxRefreshRound3(m) if dealing is not None else AuxRound3(m)
        return Transition(sends, next=nxt)
