"""Judging an accusation: whose signed frames fail, the accused's or the accuser's claim.

An ``Accusation`` shows the accused's signed frames of one round as the accuser
received them. ``examine`` does everything that needs no protocol state, once,
when the accusation arrives: decoding, the accused's signatures, the sender's
inputs, impossible rounds, two different frames for one slot. What is left is a
``PendingAudit``, which ``conclude`` settles by re-running the round's checks
(``Machine.audit``, public data only) as soon as this party has reached that round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from protocol import wire
from protocol.errors import EncodingError
from protocol.frames import TO_ALL, Accusation, Frame, frame_signed_by
from protocol.identity import Verifier
from protocol.machine import Blame, Machine

FALSE = "channel: accusation of messages that pass every check"
OTHER_INPUTS = "channel: party {party} was started with other inputs"
IMPOSSIBLE = "channel: frame for a round this protocol does not have"
TWO_FRAMES = "channel: two different frames for one round"
TWO_BROADCASTS = "channel: sent different broadcasts to different parties"
MISSING_KIND = "channel: a kind of message this round does not have"


@dataclass(frozen=True, slots=True)
class PendingAudit:
    """An accusation whose frames are genuine; only the round's own checks remain."""

    round: int
    accused: int
    accuser: int
    broadcast: Frame | None
    direct: Frame | None
    frames: tuple[bytes, ...]


def impossible(frame: Frame, final_round: int) -> bool:
    """A frame no honest party sends: outside the rounds, or a direct one in the final round."""
    return not 1 <= frame.round <= final_round or (frame.round == final_round and frame.recipient != TO_ALL)


def examine(accuser: int, accusation: Accusation, *, parties: Sequence[int], keys, verifier: Verifier,
            context: bytes, final_round: int) -> Blame | PendingAudit:
    """The verdict, or what is left to audit, from the accusation alone."""
    r, accused = accusation.round, accusation.accused
    false = Blame((accuser,), r, FALSE)
    if accused not in parties or accused == accuser:
        return false
    frames: dict[int, Frame] = {}
    for raw in accusation.frames:
        try:
            frame = wire.decode(raw, Frame)
        except EncodingError:
            return false
        if (frame.round != r or frame.recipient not in (TO_ALL, accuser)
                or not frame_signed_by(verifier, keys[accused], accused, frame)):
            return false
        if frame.context != context:
            # The accused was started with other inputs: nobody's fault in the protocol,
            # exactly as when such a frame arrives directly.
            return Blame((), r, OTHER_INPUTS.format(party=accused), (raw,))
        if frame.recipient in frames and frames[frame.recipient].body != frame.body:
            return Blame((accused,), r, TWO_FRAMES, accusation.frames)
        frames[frame.recipient] = frame
    if any(impossible(f, final_round) for f in frames.values()):
        return Blame((accused,), r, IMPOSSIBLE, accusation.frames)
    if r == final_round:
        return false  # a Done broadcast is checked by everyone when it is delivered
    return PendingAudit(r, accused, accuser, frames.get(TO_ALL), frames.get(accuser), accusation.frames)


def conclude(pending: PendingAudit, machine: Machine, held: Frame | None) -> Blame | None:
    """The verdict once this party has reached the round (None until then).

    ``held`` is the accused's broadcast of that round as this party received it.
    """
    kinds = machine.kinds_of(pending.round)
    if kinds is None:
        return None
    r, accused, accuser = pending.round, pending.accused, pending.accuser
    shown, direct = pending.broadcast, pending.direct
    if held is not None and shown is not None and held.body != shown.body:
        return Blame((accused,), r, TWO_BROADCASTS, (wire.encode(held), wire.encode(shown)))
    broadcast = shown or held
    wants_broadcast, wants_direct = kinds
    if (not wants_broadcast and shown is not None) or (not wants_direct and direct is not None):
        return Blame((accused,), r, MISSING_KIND, pending.frames)
    if (wants_broadcast and broadcast is None) or (wants_direct and direct is None):
        return Blame((accuser,), r, FALSE)  # an accusation must show everything the checks read
    verdict = machine.audit(r, accused, accuser, broadcast.body if broadcast else None,
                            direct.body if direct else None)
    return verdict if verdict is not None else Blame((accuser,), r, FALSE)
