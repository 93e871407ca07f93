"""Reliable broadcast and public accusations around a round machine.

CGGMP21 and FROST assume that a broadcast reaches every party unchanged and that a
party which sends something bad can be named by everyone. ``Channel`` wraps a
``Machine`` and provides both, with only the parties' identity keys:

* Every message a party sends is a ``Frame`` signed with its identity key over the
  session id, sender, round, recipient and the body's hash.
* Echo: once a party holds every party's signed broadcast of round r, it sends all
  of them an ``Echo`` listing (sender, digest, signature). Broadcasts reach the
  round machine only after every echo agrees. Two valid signatures by k over
  different digests prove that k equivocated; an entry whose signature is not k's
  is the echoer's forgery.
* Accusation: when the machine blames k for its round-r messages, the channel
  broadcasts k's signed frames of that round. Every other party checks the
  signatures and re-runs the round's checks (``Machine.audit``, public data only):
  the accused is blamed if the messages fail, the accuser if they pass. So a bad
  direct message, which only its recipient sees, is blamed by every honest party.

A session succeeded for this party when ``result`` is set and ``blame`` is None; a
late accusation can still set ``blame`` after the result, and the caller must then
discard the result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from protocol import wire
from protocol.errors import EncodingError, UsageError
from protocol.identity import SIGNATURE_SIZE, Signer, Verifier, domain_prefix
from protocol.machine import Blame, Incoming, Machine, Outgoing

DOMAIN = b"tssnet/session/v1"
TO_ALL = 0
MAX_ROUND = 64
_MAX_FRAME_BODY = wire.MAX_MESSAGE_BYTES - 1024


@wire.message(0x0601)
@dataclass(frozen=True, slots=True)
class Frame:
    """One signed protocol message; ``recipient`` 0 means a broadcast."""

    round: int = wire.field(wire.UInt(MAX_ROUND))
    recipient: int = wire.field(wire.UInt(2**32 - 1))
    body: bytes = wire.field(wire.Bytes(max_size=_MAX_FRAME_BODY))
    signature: bytes = wire.field(wire.Bytes(size=SIGNATURE_SIZE))


@wire.message(0x0602)
@dataclass(frozen=True, slots=True)
class EchoEntry:
    sender: int = wire.field(wire.UInt(2**32 - 1))
    digest: bytes = wire.field(wire.Bytes(size=32))
    signature: bytes = wire.field(wire.Bytes(size=SIGNATURE_SIZE))


@wire.message(0x0603)
@dataclass(frozen=True, slots=True)
class Echo:
    """What the echoer received as round ``round``'s broadcasts, one entry per party."""

    round: int = wire.field(wire.UInt(MAX_ROUND))
    entries: tuple[EchoEntry, ...] = wire.field(wire.Seq(wire.Nested(EchoEntry), max_len=256))


@wire.message(0x0604)
@dataclass(frozen=True, slots=True)
class Accusation:
    """The accused's signed frames of one round, as the accuser received them."""

    round: int = wire.field(wire.UInt(MAX_ROUND))
    accused: int = wire.field(wire.UInt(2**32 - 1))
    frames: tuple[bytes, ...] = wire.field(
        wire.Seq(wire.Bytes(max_size=wire.MAX_MESSAGE_BYTES // 4), min_len=1, max_len=2))


_ENVELOPES = (Frame, Echo, Accusation)


def _digest(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()


def _signed_part(sender: int, round_: int, recipient: int, digest: bytes) -> bytes:
    return sender.to_bytes(4, "big") + round_.to_bytes(4, "big") + recipient.to_bytes(4, "big") + digest


def make_frame(signer: Signer, prefix: bytes, sender: int, round_: int, recipient: int,
               body: bytes) -> Frame:
    """``body`` signed by ``sender`` for one round and recipient, under a session's ``prefix``."""
    signature = signer.sign(prefix + _signed_part(sender, round_, recipient, _digest(body)))
    return Frame(round_, recipient, body, signature)


def session_prefix(session_id: str) -> bytes:
    return domain_prefix(DOMAIN, session_id)


class _Fault(Exception):
    """Internal: the channel found a culprit; ``signed_frames`` when the evidence convinces others."""

    def __init__(self, culprit: int, round_: int, check: str, evidence: tuple[bytes, ...] = (),
                 signed_frames: bool = False) -> None:
        super().__init__(check)
        self.blame = Blame((culprit,), round_, check, evidence)
        self.signed_frames = signed_frames


class Channel:
    """A ``Machine`` behind signed frames, echo-checked broadcasts and public accusations."""

    def __init__(self, machine: Machine, session_id: str, signer: Signer,
                 identity_keys: Mapping[int, bytes]) -> None:
        if set(identity_keys) != set(machine.parties):
            raise UsageError("need exactly one identity key per party")
        if identity_keys[machine.party] != signer.public_key:
            raise UsageError("the signer is not this party's identity key")
        self.machine = machine
        self.party = machine.party
        self._signer = signer
        self._keys = dict(identity_keys)
        self._verifier = Verifier(session_prefix(session_id))
        self.blame: Blame | None = None
        self._frames: dict[tuple[int, int, int], bytes] = {}     # (sender, round, recipient) -> frame bytes
        self._broadcasts: dict[int, dict[int, Frame]] = {}        # round -> sender -> frame
        self._echoes: dict[int, dict[int, Echo]] = {}             # round -> echoer -> echo
        self._echoed: set[int] = set()
        self._delivered: set[int] = set()
        self._accusations: list[tuple[int, Accusation]] = []
        self._accused = False

    @property
    def result(self):
        return self.machine.result

    @property
    def finished(self) -> bool:
        return self.blame is not None or self.machine.finished

    def start(self) -> list[Outgoing]:
        return self._wrap(self.machine.start())

    def receive(self, msg: Incoming) -> list[Outgoing]:
        if msg.sender not in self.machine.others:
            raise UsageError(f"party {msg.sender} is not another participant of this session")
        if self.blame is not None:
            return []
        try:
            envelope = wire.decode_one_of(msg.body, _ENVELOPES)
            if isinstance(envelope, Frame):
                out = self._on_frame(msg.sender, envelope, msg.body)
            elif isinstance(envelope, Echo):
                out = self._on_echo(msg.sender, envelope)
            else:
                out = self._on_accusation(msg.sender, envelope)
        except EncodingError as exc:
            self.blame = Blame((msg.sender,), msg.round, f"channel: {exc}", (msg.body,))
            return []
        except _Fault as fault:
            self.blame = fault.blame
            if fault.signed_frames:  # two frames the culprit signed: proof for everyone
                b = fault.blame
                return [Outgoing(b.round, None, wire.encode(Accusation(b.round, b.culprits[0], b.evidence)))]
            return []
        return out + self._after_machine_step()

    # -- sending ------------------------------------------------------------------------

    def _wrap(self, out: list[Outgoing]) -> list[Outgoing]:
        wrapped = []
        for o in out:
            recipient = TO_ALL if o.recipient is None else o.recipient
            frame = make_frame(self._signer, self._verifier.prefix, self.party, o.round, recipient, o.body)
            if recipient == TO_ALL:
                self._broadcasts.setdefault(o.round, {})[self.party] = frame
            wrapped.append(Outgoing(o.round, o.recipient, wire.encode(frame)))
        for r in {o.round for o in out if o.recipient is None}:
            wrapped += self._maybe_echo(r)
        return wrapped

    def _after_machine_step(self) -> list[Outgoing]:
        self._retry_accusations()
        out: list[Outgoing] = []
        inner = self.machine.blame
        if inner is not None and self.blame is None:
            self.blame = inner
            out += self._accuse(inner)
        return out

    # -- frames -------------------------------------------------------------------------

    def _check_frame(self, sender: int, frame: Frame) -> None:
        if not 1 <= frame.round <= MAX_ROUND:
            raise _Fault(sender, frame.round, "channel: frame round out of range")
        if frame.recipient not in (TO_ALL, self.party):
            raise _Fault(sender, frame.round, "channel: frame addressed to another party")
        if not self._verifier.verify(self._keys[sender],
                                     _signed_part(sender, frame.round, frame.recipient,
                                                  _digest(frame.body)), frame.signature):
            raise _Fault(sender, frame.round, "channel: bad frame signature")

    def _on_frame(self, sender: int, frame: Frame, raw: bytes) -> list[Outgoing]:
        self._check_frame(sender, frame)
        key = (sender, frame.round, frame.recipient)
        seen = self._frames.get(key)
        if seen is not None:
            if seen == raw:
                return []
            raise _Fault(sender, frame.round, "channel: two different frames for one round", (seen, raw),
                         signed_frames=True)
        self._frames[key] = raw
        if frame.recipient != TO_ALL:
            return self._wrap(self.machine.receive(Incoming(sender, frame.round, frame.body)))
        self._broadcasts.setdefault(frame.round, {})[sender] = frame
        return self._maybe_echo(frame.round) + self._maybe_deliver(frame.round)

    # -- echo ---------------------------------------------------------------------------

    def _maybe_echo(self, r: int) -> list[Outgoing]:
        got = self._broadcasts.get(r, {})
        if r in self._echoed or set(got) != set(self.machine.parties):
            return []
        self._echoed.add(r)
        entries = tuple(EchoEntry(k, _digest(got[k].body), got[k].signature) for k in sorted(got))
        out = [Outgoing(r, None, wire.encode(Echo(r, entries)))]
        return out + self._maybe_deliver(r)

    def _on_echo(self, echoer: int, echo: Echo) -> list[Outgoing]:
        if not 1 <= echo.round <= MAX_ROUND:
            raise _Fault(echoer, echo.round, "channel: echo round out of range")
        previous = self._echoes.setdefault(echo.round, {}).get(echoer)
        if previous is not None:
            if previous == echo:
                return []
            raise _Fault(echoer, echo.round, "channel: two different echoes for one round")
        if [e.sender for e in echo.entries] != list(self.machine.parties):
            raise _Fault(echoer, echo.round, "channel: echo does not list every party once")
        self._echoes[echo.round][echoer] = echo
        return self._maybe_deliver(echo.round)

    def _maybe_deliver(self, r: int) -> list[Outgoing]:
        echoes = self._echoes.get(r, {})
        if r in self._delivered or r not in self._echoed or set(echoes) != set(self.machine.others):
            return []
        mine = self._broadcasts[r]
        for echoer in sorted(echoes):
            for entry in echoes[echoer].entries:
                self._compare(r, echoer, entry, mine[entry.sender])
        self._delivered.add(r)
        out: list[Outgoing] = []
        for sender in self.machine.others:
            out += self._wrap(self.machine.receive(Incoming(sender, r, mine[sender].body, broadcast=True)))
            if self.machine.blame is not None:
                break
        return out

    def _compare(self, r: int, echoer: int, entry: EchoEntry, held: Frame) -> None:
        if entry.digest == _digest(held.body):
            return
        signed = _signed_part(entry.sender, r, TO_ALL, entry.digest)
        if self._verifier.verify(self._keys[entry.sender], signed, entry.signature):
            raise _Fault(entry.sender, r, "channel: sent different broadcasts to different parties",
                         (wire.encode(held), wire.encode(entry)))
        raise _Fault(echoer, r, "channel: echo carries a signature its sender never made")

    # -- accusations --------------------------------------------------------------------

    def _accuse(self, blame: Blame) -> list[Outgoing]:
        if self._accused or len(blame.culprits) != 1:
            return []
        accused = blame.culprits[0]
        frames = tuple(self._frames[k] for k in ((accused, blame.round, TO_ALL),
                                                 (accused, blame.round, self.party))
                       if k in self._frames)
        if not frames:
            return []
        self._accused = True
        accusation = Accusation(blame.round, accused, frames)
        return [Outgoing(blame.round, None, wire.encode(accusation))]

    def _on_accusation(self, accuser: int, accusation: Accusation) -> list[Outgoing]:
        self._accusations.append((accuser, accusation))
        return []

    def _retry_accusations(self) -> None:
        waiting = []
        for accuser, accusation in self._accusations:
            if self.blame is not None:
                break
            if self.machine.kinds_of(accusation.round) is None:
                waiting.append((accuser, accusation))
                continue
            self.blame = self._judge(accuser, accusation)
        self._accusations = waiting

    def _judge(self, accuser: int, accusation: Accusation) -> Blame:
        """Whom an accusation proves guilty: the accused if its frames fail, else the accuser."""
        r, accused = accusation.round, accusation.accused
        false = Blame((accuser,), r, "channel: accusation of messages that pass every check")
        if accused not in self.machine.parties or accused == accuser:
            return false
        by_recipient: dict[int, Frame] = {}
        for raw in accusation.frames:
            try:
                frame = wire.decode(raw, Frame)
            except EncodingError:
                return false
            ok = (frame.round == r and frame.recipient in (TO_ALL, accuser)
                  and self._verifier.verify(self._keys[accused],
                                            _signed_part(accused, r, frame.recipient, _digest(frame.body)),
                                            frame.signature))
            if not ok:
                return false
            if frame.recipient in by_recipient and by_recipient[frame.recipient].body != frame.body:
                return Blame((accused,), r, "channel: two different frames for one round", accusation.frames)
            by_recipient[frame.recipient] = frame
        held = self._broadcasts.get(r, {}).get(accused)
        shown = by_recipient.get(TO_ALL)
        if held is not None and shown is not None and held.body != shown.body:
            return Blame((accused,), r, "channel: sent different broadcasts to different parties",
                         (wire.encode(held), wire.encode(shown)))
        broadcast = shown or held
        direct = by_recipient.get(accuser)
        wants_broadcast, wants_direct = self.machine.kinds_of(r)
        if (wants_broadcast and broadcast is None) or (wants_direct and direct is None):
            return false  # an accusation must show everything the round's checks read
        verdict = self.machine.audit(r, accused, accuser,
                                     broadcast.body if broadcast else None,
                                     direct.body if direct else None)
        return verdict if verdict is not None else false
