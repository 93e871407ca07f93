"""DKG round 1: every sender's Feldman vector, proof of knowledge and share for us.

``verify`` reads only the sender's messages and public parameters, so it judges a
share sent to any recipient: that is how every honest party blames the sender of
a bad share when its recipient accuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from protocol import wire
from protocol.errors import Bug, InvalidProof
from protocol.frost.common import KEYGEN, TAG_SIZE, feldman_value
from protocol.frost.keygen_round2 import KeygenRound2
from protocol.group import Scalar
from protocol.keygen_certificate import (
    ParticipantCommitment,
    assemble_certificate,
    public_shares,
    verify_participant,
)
from protocol.machine import Round, Send, Transition
from protocol.secrecy import Redacted

if TYPE_CHECKING:
    from protocol.frost.keygen import FrostKeygen


@wire.message(0x0310)
@dataclass(frozen=True, slots=True)
class DkgCommit:
    """Broadcast: the sender's certificate entry (vector + proof) and chain-code commitment."""

    session: bytes = wire.field(wire.Bytes(size=TAG_SIZE))
    entry: ParticipantCommitment = wire.field(wire.Nested(ParticipantCommitment))
    chain_commitment: bytes = wire.field(wire.Bytes(size=TAG_SIZE))


@wire.message(0x0311)
@dataclass(frozen=True, slots=True, repr=False)
class DkgShare(Redacted):
    """Point to point: f_sender(recipient)."""

    share: Scalar = wire.field(wire.ScalarField())


class KeygenRound1(Round):
    number = 1
    broadcast_type = DkgCommit
    direct_type = DkgShare

    def __init__(self, m: FrostKeygen, own: DkgCommit, own_share: Scalar, contribution: bytes) -> None:
        self.m = m
        self.commits = {m.party: own}
        self.secret = own_share
        self.contribution = contribution

    def verify(self, sender: int, recipient: int, broadcast: DkgCommit, direct: DkgShare) -> None:
        m = self.m
        if broadcast.session != m.tag:
            raise InvalidProof(KEYGEN, "message from another session")
        entry = broadcast.entry
        if entry.party != sender:
            raise InvalidProof(KEYGEN, f"commitment labelled as party {entry.party}'s")
        # The certificate's own per-entry check: vector length t+1 and the proof of knowledge.
        verify_participant(entry, m.key_id, m.group, m.parties, m.threshold, session_id=m.tag)
        if m.group.base_mul(direct.share) != feldman_value(m.group, entry.commitments, recipient):
            raise InvalidProof(KEYGEN, f"share for party {recipient} does not match the sender's "
                                       "commitments")

    def store(self, sender: int, broadcast: DkgCommit, direct: DkgShare) -> None:
        self.commits[sender] = broadcast
        self.secret = self.secret + direct.share

    def finalize(self) -> Transition:
        m = self.m
        certificate = assemble_certificate({j: c.entry for j, c in self.commits.items()}, m.parties,
                                           session_id=m.tag)
        vectors = [e.commitments for e in certificate.entries]
        public = public_shares(m.group, vectors, m.parties)
        if m.group.base_mul(self.secret) != public[m.party]:
            raise Bug("verified shares do not add up to this party's public share")
        dkg_key = m.group.sum_points(v[0] for v in vectors)
        if dkg_key.is_identity():
            raise Bug("the DKG key is the identity despite every proof of knowledge")
        # The suite's normal form (BIP340: even y, as frost-secp256k1-tr's post-DKG step):
        # a key with an odd y is negated, with every share and public share.
        public_key, sign = m.suite.adjust_key(dkg_key)
        secret = self.secret if sign == 1 else -self.secret
        shares = tuple(public[j] if sign == 1 else -public[j] for j in m.parties)
        chain_commitments = {j: c.chain_commitment for j, c in self.commits.items()}
        nxt = KeygenRound2(m, certificate, secret, public_key, shares, chain_commitments,
                           self.contribution)
        return Transition([Send(nxt.reveal)], next=nxt)


__all__ = ["DkgCommit", "DkgShare", "KeygenRound1"]
