"""DKG round 2: every sender opens its chain-code commitment; then the key share is built."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from protocol import wire
from protocol.errors import InvalidProof
from protocol.frost.common import KEYGEN, TAG_SIZE, chain_code, chain_commitment
from protocol.frost.shares import SCHEMA, FrostKeygenOutput, FrostKeyShare
from protocol.group import Point, Scalar
from protocol.keygen_certificate import KeygenCertificate
from protocol.machine import Round, Transition

if TYPE_CHECKING:
    from protocol.frost.keygen import FrostKeygen


@wire.message(0x0312)
@dataclass(frozen=True, slots=True)
class DkgReveal:
    """Broadcast: the sender's chain-code contribution u_i."""

    contribution: bytes = wire.field(wire.Bytes(size=TAG_SIZE))


class KeygenRound2(Round):
    number = 2
    broadcast_type = DkgReveal

    def __init__(self, m: FrostKeygen, certificate: KeygenCertificate, secret: Scalar,
                 public_key: Point, public_shares: tuple[Point, ...],
                 chain_commitments: dict[int, bytes], contribution: bytes) -> None:
        self.m = m
        self.certificate = certificate
        self.secret = secret
        self.public_key = public_key
        self.public_shares = public_shares
        self.chain_commitments = chain_commitments
        self.reveal = DkgReveal(contribution)
        self.contributions = {m.party: contribution}

    def verify(self, sender: int, recipient: int, broadcast: DkgReveal, direct: None) -> None:
        if chain_commitment(self.m.tag, sender, broadcast.contribution) != self.chain_commitments[sender]:
            raise InvalidProof(KEYGEN, "chain-code contribution does not open its commitment")

    def store(self, sender: int, broadcast: DkgReveal, direct: None) -> None:
        self.contributions[sender] = broadcast.contribution

    def finalize(self) -> Transition:
        m = self.m
        share = FrostKeyShare(SCHEMA, m.key_id, 0, m.suite.name, m.threshold, m.parties, m.party,
                              self.secret, self.public_key, self.public_shares,
                              chain_code(m.tag, self.contributions))
        return Transition(result=FrostKeygenOutput(share, self.certificate))


__all__ = ["DkgReveal", "KeygenRound2"]
