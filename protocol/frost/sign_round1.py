"""Signing round 1: every signer's nonce commitments; then this signer's share z_i.

A commitment message carries the session tag. One made for another session (a
replay) or for other inputs is refused and blamed on its sender; the tag also
enters the binding factors, so even copied commitment points never yield a share
that verifies in this session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from protocol import wire
from protocol.errors import Bug, InvalidProof
from protocol.frost.common import SIGN, TAG_SIZE
from protocol.frost.core import Commitment, SigningPackage
from protocol.frost.sign_round2 import SignatureShare, SignRound2
from protocol.group import Point
from protocol.machine import Round, Send, Transition

if TYPE_CHECKING:
    from protocol.frost.sign import FrostSign


@wire.message(0x0320)
@dataclass(frozen=True, slots=True)
class SigningCommitments:
    """Broadcast: (D_i, E_i) for this session (identity points are refused by the codec)."""

    session: bytes = wire.field(wire.Bytes(size=TAG_SIZE))
    hiding: Point = wire.field(wire.PointField())
    binding: Point = wire.field(wire.PointField())


class SignRound1(Round):
    number = 1
    broadcast_type = SigningCommitments

    def __init__(self, m: FrostSign) -> None:
        self.m = m  # the machine holds the nonces: the one object to erase them from
        self.commitments = {m.party: Commitment(m.party, *m.nonces.commitments)}

    def verify(self, sender: int, recipient: int, broadcast: SigningCommitments, direct: None) -> None:
        if broadcast.session != self.m.tag:
            raise InvalidProof(SIGN, "nonce commitments from another session or for other inputs")

    def store(self, sender: int, broadcast: SigningCommitments, direct: None) -> None:
        self.commitments[sender] = Commitment(sender, broadcast.hiding, broadcast.binding)

    def finalize(self) -> Transition:
        m = self.m
        if m.nonces is None:
            raise Bug("no nonces left in a session that is still running")
        package = SigningPackage(m.suite, m.key, self.commitments.values(), m.message, context=m.tag)
        share = package.sign_share(m.party, m.share.secret, m.nonces)  # consumes the nonces
        m.nonces = None
        return Transition([Send(SignatureShare(share))], next=SignRound2(m, package, share))


__all__ = ["SignRound1", "SigningCommitments"]
