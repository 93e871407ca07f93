"""Aux/refresh round 3: Π^fac proofs (and refresh shares and proofs) arrive; the output is formed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from protocol import wire
from protocol.cmp import vss
from protocol.cmp.shares import MAX_PARTIES, SCHEMA, CmpKey, KeyShare
from protocol.errors import Bug, InvalidProof
from protocol.group import Scalar
from protocol.machine import Round, Transition
from protocol.transcript import Transcript
from protocol.zk import fac, sch

if TYPE_CHECKING:
    from protocol.cmp.aux import AuxRefresh

NAME = "aux"


@wire.message(0x0222)
@dataclass(frozen=True, slots=True)
class AuxSchnorrProofs:
    """Refresh only: Π^sch for each coefficient g_i,1..g_i,t, answering the committed nonces."""

    proofs: tuple[sch.Proof, ...] = wire.field(
        wire.Seq(wire.Nested(sch.Proof), min_len=1, max_len=MAX_PARTIES))


@wire.message(0x0223)
@dataclass(frozen=True, slots=True, repr=False)
class AuxDirect:
    """To party j: Π^fac for N_i under j's ring-Pedersen parameters, and for a refresh g_i(j)."""

    fac_proof: fac.Proof = wire.field(wire.Nested(fac.Proof))
    share: Scalar | None = wire.field(wire.Optional(wire.ScalarField()))

    def __repr__(self) -> str:
        return "AuxDirect(<redacted>)"


def fac_transcript(base: Transcript, prover: int, verifier: int, rid: bytes) -> Transcript:
    t = base.fork("prover", prover)
    t.append("statement", "fac")
    t.append("verifier", verifier)
    t.append("rid", rid)
    return t


class AuxRound3(Round):
    """Auxiliary information only: a direct Π^fac from every peer."""

    number = 3
    direct_type = AuxDirect

    def __init__(self, m: AuxRefresh) -> None:
        self.m = m

    def _check_distinct_modulus(self, sender: int) -> None:
        # Every modulus here passed Π^mod in round 2, so two parties presenting one
        # both know its factors and neither is honest. Blaming the later of the two
        # is then sound, and it gives every honest party (and every audit) the same
        # culprit whatever order messages arrive in.
        n = self.m.openings[sender].n
        for k in self.m.parties:
            if k < sender and self.m.openings[k].n == n:
                raise InvalidProof(NAME, f"modulus already used by party {k}")

    def _check_fac(self, sender: int, recipient: int, direct: AuxDirect) -> None:
        m = self.m
        own = m.mine.ring_pedersen if recipient == m.party else None
        pub = fac.Public(m.openings[sender].n, m.params[recipient])
        fac.verify(fac_transcript(m.transcript, sender, recipient, m.rid), pub, direct.fac_proof,
                   m.level, aux_secret=own)

    def verify(self, sender: int, recipient: int, broadcast: None, direct: AuxDirect) -> None:
        self._check_distinct_modulus(sender)
        if direct.share is not None:
            raise InvalidProof(NAME, "a refresh share in a run without refresh")
        self._check_fac(sender, recipient, direct)

    def _result(self, share: KeyShare) -> Transition:
        return Transition(result=CmpKey(share, self.m.aux_info()))

    def finalize(self) -> Transition:
        return self._result(self.m.share)


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
        vectors = [m.openings[j].vector for j in m.parties]
        publics = tuple(old.public_share(k) + m.group.sum_points(vss.evaluate(v, k) for v in vectors)
                        for k in m.parties)
        if any(p.is_identity() for p in publics):
            raise Bug("refresh produced an identity public share")  # probability ~1/q
        try:
            share = KeyShare(SCHEMA, old.key_id, old.epoch + 1, old.threshold, old.parties,
                             old.party, x, old.public_key, publics, old.chain_code, old.rid)
        except ValueError as exc:
            raise Bug(f"verified refresh shares do not form a key share: {exc}") from exc
        return self._result(share)
