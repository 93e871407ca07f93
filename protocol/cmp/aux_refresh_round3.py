"""Refresh round 3: each peer's Π^sch for its sharing of zero (broadcast), its share of zero
and Π^fac (direct) arrive; every party adds the shares to its own and forms the new key."""

from __future__ import annotations

from dataclasses import dataclass

from protocol import wire
from protocol.cmp import vss
from protocol.cmp.aux_round3 import NAME, AuxDirect, AuxRound3
from protocol.cmp.shares import MAX_PARTIES, SCHEMA, KeyShare
from protocol.errors import Bug, InvalidProof
from protocol.keygen_certificate import public_shares
from protocol.machine import Transition
from protocol.zk import sch


@wire.message(0x0222)
@dataclass(frozen=True, slots=True)
class AuxSchnorrProofs:
    """Refresh only: Π^sch for each coefficient g_i,1..g_i,t, answering the committed nonces."""

    proofs: tuple[sch.Proof, ...] = wire.field(
        wire.Seq(wire.Nested(sch.Proof), min_len=1, max_len=MAX_PARTIES))


class AuxRefreshRound3(AuxRound3):
    """Key refresh: also each peer's Schnorr proofs (broadcast) and share of zero (direct)."""

    broadcast_type = AuxSchnorrProofs

    def verify(self, sender: int, recipient: int, broadcast: AuxSchnorrProofs, direct: AuxDirect) -> None:
        m = self.m
        self._check_distinct_modulus(sender)
        if direct.share is None:
            raise InvalidProof(NAME, "refresh share missing")
        opening = m.openings[sender]
        vss.verify_proofs(m.transcript, sender, m.rid, opening.vector, opening.nonces, broadcast.proofs,
                          zero_constant=True, proof=NAME)
        vss.check_share(opening.vector, recipient, direct.share, NAME)
        self._check_fac(sender, recipient, direct)

    def store(self, sender: int, broadcast: AuxSchnorrProofs, direct: AuxDirect) -> None:
        self.m.shares_received[sender] = direct.share

    def finalize(self) -> Transition:
        m = self.m
        old = m.share
        x = old.x
        for j in m.parties:
            x = x + m.shares_received[j]
        deltas = public_shares(m.group, [m.openings[j].vector for j in m.parties], m.parties)
        publics = tuple(old.public_share(k) + deltas[k] for k in m.parties)
        if any(p.is_identity() for p in publics):
            raise Bug("refresh produced an identity public share")  # probability ~1/q
        try:
            share = KeyShare(SCHEMA, old.key_id, old.epoch + 1, old.threshold, old.parties,
                             old.party, x, old.public_key, publics, old.chain_code, old.rid)
        except ValueError as exc:
            raise Bug(f"verified refresh shares do not form a key share: {exc}") from exc
        return self._result(share)
