"""What nodes send each other about sessions (wire ids 0x0510-0x053F).

* ``SignedProposal``: the coordinator's proposal, signed with its identity key over
  the proposal's canonical bytes (session id included, so a proposal never
  verifies for another session).
* ``Refusal``: a participant will not (or can no longer) take part, with a reason;
  sent to the coordinator and every other participant.
* ``SessionFrame``: one protocol.channel message of a session's phase.
* ``Outcome``: a participant's result summary or failure, sent to the coordinator.
* ``Batch``: several of the above for one peer in one transport message (a proposal
  with the coordinator's first frame, a signer's share with its Done), handled in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from daemon.records import MAX_PARTICIPANTS, PEER_ID, BlameRecord
from protocol import wire
from protocol.identity import SIGNATURE_SIZE, Signer, Verifier, domain_prefix

PROPOSAL_DOMAIN = b"tssnet/session-proposal/v1"
SESSION_ID = wire.Str(64)
MAX_MESSAGE = 1 << 20
MAX_FRAME = wire.MAX_MESSAGE_BYTES - 4096

#: protocols a proposal can name
CMP_KEYGEN = "cmp-keygen"
FROST_KEYGEN = "frost-keygen"
CMP_PRESIGN = "cmp-presign"
CMP_SIGN = "cmp-sign"          # one round on a pooled presignature
CMP_FULLSIGN = "cmp-fullsign"  # presign and sign in one session
FROST_SIGN = "frost-sign"
PROTOCOLS = (CMP_KEYGEN, FROST_KEYGEN, CMP_PRESIGN, CMP_SIGN, CMP_FULLSIGN, FROST_SIGN)
KEYGENS = (CMP_KEYGEN, FROST_KEYGEN)
SIGNS = (CMP_SIGN, CMP_FULLSIGN, FROST_SIGN)
ONE_ROUND_SIGNS = (CMP_SIGN, FROST_SIGN)   # light enough for the workers' fast lane


@wire.message(0x0510)
@dataclass(frozen=True, slots=True)
class Proposal:
    """A session as its coordinator proposes it.

    Keygen: ``participants`` are the future holders in party order (party = position
    + 1). Presign and sign: they are the signers, and party numbers are each one's
    position among the key's holders.
    """

    session_id: str = wire.field(SESSION_ID)
    protocol: str = wire.field(wire.Str(16))
    coordinator: str = wire.field(PEER_ID)
    key_id: str = wire.field(wire.Str(64))
    participants: tuple[str, ...] = wire.field(wire.Seq(PEER_ID, min_len=2, max_len=MAX_PARTICIPANTS))
    threshold: int = wire.field(wire.UInt(MAX_PARTICIPANTS))
    suite: str = wire.field(wire.Str(16))
    paillier_bits: int = wire.field(wire.UInt(1 << 16))
    epoch: int = wire.field(wire.UInt())
    deadline_ms: int = wire.field(wire.UInt(2**63 - 1))
    presign_id: bytes = wire.field(wire.Bytes(max_size=32), default=b"")
    message: bytes | None = wire.field(wire.Optional(wire.Bytes(max_size=MAX_MESSAGE)), default=None)
    hash: str = wire.field(wire.Str(16), default="")
    digest: bytes | None = wire.field(wire.Optional(wire.Bytes(size=32)), default=None)
    path: str = wire.field(wire.Str(1024), default="")


@wire.message(0x0511)
@dataclass(frozen=True, slots=True)
class SignedProposal:
    proposal: Proposal = wire.field(wire.Nested(Proposal))
    signature: bytes = wire.field(wire.Bytes(size=SIGNATURE_SIZE))


@wire.message(0x0512)
@dataclass(frozen=True, slots=True)
class Refusal:
    session_id: str = wire.field(SESSION_ID)
    code: str = wire.field(wire.Str(64))
    reason: str = wire.field(wire.Str(1024))


@wire.message(0x0513)
@dataclass(frozen=True, slots=True)
class SessionFrame:
    """One channel message; ``phase`` tells apart the channels of one session (keygen, aux)."""

    session_id: str = wire.field(SESSION_ID)
    phase: int = wire.field(wire.UInt(3))
    body: bytes = wire.field(wire.Bytes(max_size=MAX_FRAME))


@wire.message(0x0514)
@dataclass(frozen=True, slots=True)
class Outcome:
    """A participant's end of a session: ``result`` (public key, signature) or an error."""

    session_id: str = wire.field(SESSION_ID)
    ok: bool = wire.field(wire.Bool())
    result: bytes = wire.field(wire.Bytes(max_size=4096), default=b"")
    error_type: str = wire.field(wire.Str(64), default="")
    error_message: str = wire.field(wire.Str(1024), default="")
    blame: BlameRecord | None = wire.field(wire.Optional(wire.Nested(BlameRecord)), default=None)


#: parts in one Batch at most, and the size a batch is kept under (larger goes part by part)
MAX_BATCH_PARTS = 16
MAX_BATCH_BYTES = 256 * 1024


@wire.message(0x0515)
@dataclass(frozen=True, slots=True)
class Batch:
    """Encoded session messages (never a Batch) for one peer, handled in order."""

    parts: tuple[bytes, ...] = wire.field(
        wire.Seq(wire.Bytes(max_size=MAX_BATCH_BYTES), min_len=2, max_len=MAX_BATCH_PARTS))


def batches(payloads: list[bytes]) -> list[bytes]:
    """``payloads`` for one peer as few transport messages as the bounds allow, in order."""
    out: list[bytes] = []
    group: list[bytes] = []
    for payload in payloads:
        if group and (len(group) == MAX_BATCH_PARTS
                      or sum(map(len, group)) + len(payload) > MAX_BATCH_BYTES):
            out.append(_batch(group))
            group = []
        group.append(payload)
    if group:
        out.append(_batch(group))
    return out


def _batch(group: list[bytes]) -> bytes:
    return group[0] if len(group) == 1 else wire.encode(Batch(tuple(group)))


def _prefix(session_id: str) -> bytes:
    return domain_prefix(PROPOSAL_DOMAIN, session_id)


def sign_proposal(signer: Signer, proposal: Proposal) -> SignedProposal:
    body = wire.encode(proposal)
    return SignedProposal(proposal, signer.sign(_prefix(proposal.session_id) + body))


def proposal_signed_by(identity_key: bytes, signed: SignedProposal) -> bool:
    proposal = signed.proposal
    return Verifier(_prefix(proposal.session_id)).verify(identity_key, wire.encode(proposal),
                                                         signed.signature)


MESSAGES = (SignedProposal, Refusal, SessionFrame, Outcome)   # what a Batch may carry

__all__ = ["Batch", "batches", "CMP_FULLSIGN", "CMP_KEYGEN", "CMP_PRESIGN", "CMP_SIGN", "FROST_KEYGEN", "FROST_SIGN",
           "KEYGENS", "MESSAGES", "ONE_ROUND_SIGNS", "PROTOCOLS", "SIGNS", "Outcome", "Proposal", "Refusal",
           "SessionFrame", "SignedProposal", "proposal_signed_by", "sign_proposal"]
