"""Keygen round 3: proofs and shares arrive; every party adds up its key share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from protocol import wire
from protocol.cmp import vss
from protocol.cmp.shares import SCHEMA, KeyShare
from protocol.errors import Bug, InvalidProof
from protocol.group import Scalar
from protocol.keygen_certificate import (
    KeygenCertificate,
    ParticipantCommitment,
    assemble_certificate,
    public_shares,
    verify_participant,
)
from protocol.machine import Round, Transition
from protocol.secrecy import Redacted
from protocol.threshold_share import HoldsShare
from protocol.zk import sch

if TYPE_CHECKING:
    from protocol.cmp.keygen import Keygen

#: the check name of every keygen failure (rounds 2 and 3)
NAME = "keygen"


@wire.message(0x0212)
@dataclass(frozen=True, slots=True)
class KeygenProof:
    """ψ_i: Π^sch for f_i(0) answering A_i under rid, and the certificate's proof of f_i(0)."""

    proof: sch.Proof = wire.field(wire.Nested(sch.Proof))
    certificate_proof: sch.Proof = wire.field(wire.Nested(sch.Proof))


@wire.message(0x0213)
@dataclass(frozen=True, slots=True, repr=False)
class KeygenShare(Redacted):
    """f_i(j), sent to party j alone (the transport encrypts it)."""

    share: Scalar = wire.field(wire.ScalarField())


@wire.message(0x021F)
@dataclass(frozen=True, slots=True, repr=False)
class KeygenOutput(HoldsShare):
    """What keygen gives each party: its key share and the certificate for the ledger."""

    share: KeyShare = wire.field(wire.Nested(KeyShare))
    certificate: KeygenCertificate = wire.field(wire.Nested(KeygenCertificate))


class KeygenRound3(Round):
    number = 3
    broadcast_type = KeygenProof
    direct_type = KeygenShare

    def __init__(self, m: Keygen) -> None:
        self.m = m

    def _entry(self, sender: int, broadcast: KeygenProof) -> ParticipantCommitment:
        return ParticipantCommitment(sender, self.m.openings[sender].vector, broadcast.certificate_proof)

    def verify(self, sender: int, recipient: int, broadcast: KeygenProof, direct: KeygenShare) -> None:
        m = self.m
        opening = m.openings[sender]
        vss.verify_proofs(m.transcript, sender, m.rid, opening.vector, (opening.A,),
                          (broadcast.proof,), zero_constant=False, proof=NAME)
        try:
            verify_participant(self._entry(sender, broadcast), m.key_id, m.group, m.parties, m.threshold,
                               session_id=m.context)
        except InvalidProof as exc:
            raise InvalidProof(NAME, f"certificate entry: {exc.check}") from None
        vss.check_share(opening.vector, recipient, direct.share, NAME)

    def store(self, sender: int, broadcast: KeygenProof, direct: KeygenShare) -> None:
        self.m.entries[sender] = self._entry(sender, broadcast)
        self.m.shares_received[sender] = direct.share

    def finalize(self) -> Transition:
        m = self.m
        group = m.group
        x = group.scalar(0)
        for j in m.parties:
            x = x + m.shares_received[j]
        vectors = [m.openings[j].vector for j in m.parties]
        publics = public_shares(group, vectors, m.parties)
        public_key = group.sum_points(v[0] for v in vectors)
        if public_key.is_identity() or any(p.is_identity() for p in publics.values()):
            # Every dealing was committed before any was seen: this has probability ~1/q.
            raise Bug("keygen produced an identity public key or public share")
        try:
            share = KeyShare(SCHEMA, m.key_id, 0, m.threshold, m.parties, m.party, x, public_key,
                             tuple(publics[j] for j in m.parties), m.chain_code, m.rid)
        except ValueError as exc:
            raise Bug(f"verified shares do not form a key share: {exc}") from exc
        certificate = assemble_certificate(m.entries, m.parties, session_id=m.context)
        return Transition(result=KeygenOutput(share, certificate))
