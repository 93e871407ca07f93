"""Signing round 2: every signer's z_i, checked against its commitment and public share.

A share that fails the check names its sender (RFC 9591 §5.4). With every share
verified the aggregate must verify; it is checked once more before it is output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from protocol import wire
from protocol.errors import Bug, InvalidProof
from protocol.frost.common import SIGN
from protocol.frost.core import SigningPackage
from protocol.frost.shares import FrostSignature
from protocol.group import Scalar
from protocol.machine import Round, Transition

if TYPE_CHECKING:
    from protocol.frost.sign import FrostSign


@wire.message(0x0321)
@dataclass(frozen=True, slots=True)
class SignatureShare:
    """Broadcast: z_i."""

    share: Scalar = wire.field(wire.ScalarField())


class SignRound2(Round):
    number = 2
    broadcast_type = SignatureShare

    def __init__(self, m: FrostSign, package: SigningPackage, own: Scalar) -> None:
        self.m = m
        self.package = package
        self.shares = {m.party: own}

    def verify(self, sender: int, recipient: int, broadcast: SignatureShare, direct: None) -> None:
        if not self.package.verify_share(sender, self.m.share.public_share(sender), broadcast.share):
            raise InvalidProof(SIGN, f"signature share of party {sender} does not verify")

    def store(self, sender: int, broadcast: SignatureShare, direct: None) -> None:
        self.shares[sender] = broadcast.share

    def finalize(self) -> Transition:
        m = self.m
        signature = self.package.aggregate(self.shares)
        if not m.suite.verify(m.key.public_key, m.message, signature):
            raise Bug("an aggregate of verified shares does not verify")
        return Transition(result=FrostSignature(signature, m.suite.encode_public_key(m.key.public_key)))


__all__ = ["SignRound2", "SignatureShare"]
