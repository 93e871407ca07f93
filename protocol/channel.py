"""Reliable broadcast, public accusations and a final agreement around a round machine.

CGGMP21 and FROST assume that a broadcast reaches every party unchanged and that a
party which sends something bad can be named by everyone. ``Channel`` wraps a
``Machine`` and provides both, with only the parties' identity keys (the envelopes
and their signatures are in ``protocol.frames``):

* Every message is a ``Frame`` signed by its sender, carrying the sender's context
  (digest of its inputs). A frame with another context means the parties were given
  different inputs: the session aborts with no one blamed (``Blame.culprits`` empty).
* Echo: once a party holds every party's signed broadcast of round r it sends them
  all an ``Echo`` of (sender, digest, signature). Broadcasts reach the machine only
  after every echo agrees. Two valid signatures by k over different digests prove
  that k equivocated; an entry k never signed is the echoer's forgery.
* Accusation: when the machine blames k for its round-r messages, the channel
  broadcasts k's signed frames of that round. Every other party checks the
  signatures and re-runs the round's checks (``Machine.audit``, public data only):
  the accused is blamed if the messages fail, the accuser if they pass. A frame for
  a round or kind the protocol does not have convicts its signer on its own.
* Final agreement: when the machine has its result, the party broadcasts ``Done``
  as round ROUNDS+1 through the same echo. ``result`` is released only when every
  party's ``Done`` arrived, so an honest party that found a fault (and therefore
  accused instead of saying ``Done``) stops every other party from outputting.
  Once a party has said ``Done`` it stands by it: later faults, false accusations
  and accusations by parties that said ``Done`` themselves are kept in
  ``after_done`` for the logs but abort nothing. What still aborts it: a valid
  accusation by a party that has not said ``Done`` (that party never will, so no one
  can output), and faults of the final round itself, seen alike through the echo. A
  malicious party can still leave some parties waiting (by withholding its echo
  from them) while others finish; where that matters (a new key or epoch) the
  daemon makes the outcome final on the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol import wire
from protocol.errors import EncodingError, UsageError
from protocol.frames import (
    ENVELOPES,
    TO_ALL,
    Accusation,
    Done,
    Echo,
    EchoEntry,
    Frame,
    digest,
    entry_signed_by,
    frame_signed_by,
    make_frame,
    session_prefix,
)
from protocol.identity import Signer, Verifier
from protocol.machine import Blame, Incoming, Machine, Outgoing


class _Fault(Exception):
    """Internal: the channel found a culprit; ``provable`` when the evidence is signed frames."""

    def __init__(self, culprits: tuple[int, ...], round_: int, check: str,
                 evidence: tuple[bytes, ...] = (), provable: bool = False) -> None:
        super().__init__(check)
        self.blame = Blame(culprits, round_, check, evidence)
        self.provable = provable


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
        self.final_round = machine.ROUNDS + 1
        self.context = digest(machine.context)
        self.result: Any = None
        self.blame: Blame | None = None
        self._signer = signer
        self._keys = dict(identity_keys)
        self._verifier = Verifier(session_prefix(session_id))
        self._frames: dict[tuple[int, int, int], bytes] = {}   # (sender, round, recipient) -> frame
        self._broadcasts: dict[int, dict[int, Frame]] = {}      # round -> sender -> frame
        self._echoes: dict[int, dict[int, Echo]] = {}           # round -> echoer -> echo
        self._echoed: set[int] = set()
        self._delivered: set[int] = set()
        self._accusations: dict[int, Accusation] = {}          # accuser -> its (first) accusation
        self._said_done = False
        self._early: list[Incoming] | None = []                 # messages received before start()
        self._early_limit = 4 * len(machine.parties) * (self.final_round + 1)
        #: faults and verdicts met after this party said Done: they no longer change its
        #: outcome (see the module docstring) but are kept for the operator's logs
        self.after_done: list[Blame] = []

    @property
    def finished(self) -> bool:
        return self.blame is not None or self.result is not None

    def start(self) -> list[Outgoing]:
        out = self._wrap(self.machine.start()) + self._after_machine_step()
        early, self._early = self._early, None
        for msg in early:
            out += self.receive(msg)
        return out

    def receive(self, msg: Incoming) -> list[Outgoing]:
        if msg.sender not in self.machine.others:
            raise UsageError(f"party {msg.sender} is not another participant of this session")
        if self._early is not None:  # not started yet: keep a bounded number of messages
            if len(self._early) < self._early_limit:
                self._early.append(msg)
            return []
        if self.finished:
            return []
        try:
            envelope = wire.decode_one_of(msg.body, ENVELOPES)
            if isinstance(envelope, Frame):
                out = self._on_frame(msg.sender, envelope, msg.body)
            elif isinstance(envelope, Echo):
                out = self._on_echo(msg.sender, envelope)
            else:
                # An honest party accuses once: keep the first accusation of each party.
                self._accusations.setdefault(msg.sender, envelope)
                out = []
            return out + self._after_machine_step()
        except EncodingError as exc:
            return self._fail(_Fault((msg.sender,), msg.round, f"channel: {exc}", (msg.body,)))
        except _Fault as fault:
            return self._fail(fault)

    def _fail(self, fault: _Fault) -> list[Outgoing]:
        if self._said_done and fault.blame.round != self.final_round:
            # Having said Done, this party stands by its result: only the final round's
            # own faults (seen alike by every party through the echo) can still abort it.
            self._note_after_done(fault.blame)
            return []
        self.blame = fault.blame
        self.machine.abandon(self.blame.check)
        if fault.provable:  # frames the culprit signed: proof for everyone
            b = fault.blame
            return [self._broadcast_now(b.round, Accusation(b.round, b.culprits[0], b.evidence))]
        return []

    def _note_after_done(self, blame: Blame) -> None:
        if len(self.after_done) < len(self.machine.parties):
            self.after_done.append(blame)

    # -- sending ------------------------------------------------------------------------

    def _wrap(self, out: list[Outgoing]) -> list[Outgoing]:
        wrapped = []
        for o in out:
            recipient = TO_ALL if o.recipient is None else o.recipient
            frame = make_frame(self._signer, self._verifier.prefix, self.party, o.round, recipient,
                               self.context, o.body)
            if recipient == TO_ALL:
                self._broadcasts.setdefault(o.round, {})[self.party] = frame
            wrapped.append(Outgoing(o.round, o.recipient, wire.encode(frame)))
        for r in sorted({o.round for o in out if o.recipient is None}):
            wrapped += self._maybe_echo(r)
        return wrapped

    def _broadcast_now(self, round_: int, message: Accusation) -> Outgoing:
        """A channel message outside the echo (an accusation): sent once, to everyone."""
        return Outgoing(round_, None, wire.encode(message))

    def _after_machine_step(self) -> list[Outgoing]:
        out: list[Outgoing] = []
        self._retry_accusations()
        inner = self.machine.blame
        if self.blame is None and inner is not None:
            self.blame = inner
            out += self._accuse(inner)
        elif self.blame is None and self.machine.result is not None and not self._said_done:
            self._said_done = True
            done = Outgoing(self.final_round, None, wire.encode(Done(self.machine.ROUNDS)))
            out += self._wrap([done])
        return out

    # -- frames -------------------------------------------------------------------------

    def _on_frame(self, sender: int, frame: Frame, raw: bytes) -> list[Outgoing]:
        if frame.recipient not in (TO_ALL, self.party):
            raise _Fault((sender,), frame.round, "channel: frame addressed to another party")
        if not frame_signed_by(self._verifier, self._keys[sender], sender, frame):
            raise _Fault((sender,), frame.round, "channel: bad frame signature")
        if frame.context != self.context:
            raise _Fault((), frame.round, f"channel: party {sender} was started with other inputs", (raw,))
        key = (sender, frame.round, frame.recipient)
        seen = self._frames.get(key)
        if seen is not None:
            # Signatures are not unique (a signer can make many for one message), so two
            # frames are the same message when their bodies are.
            if wire.decode(seen, Frame).body == frame.body:
                return []
            raise _Fault((sender,), frame.round, "channel: two different frames for one round",
                         (seen, raw), provable=True)
        self._frames[key] = raw
        if self._impossible(frame):
            raise _Fault((sender,), frame.round, "channel: frame for a round this protocol does not have",
                         (raw,), provable=True)
        if frame.recipient != TO_ALL:
            return self._wrap(self.machine.receive(Incoming(sender, frame.round, frame.body)))
        self._broadcasts.setdefault(frame.round, {})[sender] = frame
        return self._maybe_echo(frame.round) + self._maybe_deliver(frame.round)

    def _impossible(self, frame: Frame) -> bool:
        return (not 1 <= frame.round <= self.final_round
                or (frame.round == self.final_round and frame.recipient != TO_ALL))

    # -- echo ---------------------------------------------------------------------------

    def _maybe_echo(self, r: int) -> list[Outgoing]:
        got = self._broadcasts.get(r, {})
        if r in self._echoed or set(got) != set(self.machine.parties):
            return []
        self._echoed.add(r)
        entries = tuple(EchoEntry(k, digest(got[k].body), got[k].signature) for k in sorted(got))
        return [Outgoing(r, None, wire.encode(Echo(r, entries)))] + self._maybe_deliver(r)

    def _on_echo(self, echoer: int, echo: Echo) -> list[Outgoing]:
        if not 1 <= echo.round <= self.final_round:
            raise _Fault((echoer,), echo.round, "channel: echo for a round this protocol does not have")
        previous = self._echoes.setdefault(echo.round, {}).get(echoer)
        if previous is not None:
            if previous == echo:
                return []
            raise _Fault((echoer,), echo.round, "channel: two different echoes for one round")
        if [e.sender for e in echo.entries] != list(self.machine.parties):
            raise _Fault((echoer,), echo.round, "channel: echo does not list every party once")
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
        if r == self.final_round:
            self._release(mine)
            return []
        out: list[Outgoing] = []
        for sender in self.machine.others:
            out += self._wrap(self.machine.receive(Incoming(sender, r, mine[sender].body, broadcast=True)))
            if self.machine.blame is not None:
                break
        return out

    def _compare(self, r: int, echoer: int, entry: EchoEntry, held: Frame) -> None:
        if entry.digest == digest(held.body):
            return
        if entry_signed_by(self._verifier, self._keys[entry.sender], r, self.context, entry):
            raise _Fault((entry.sender,), r, "channel: sent different broadcasts to different parties",
                         (wire.encode(held), wire.encode(entry)))
        raise _Fault((echoer,), r, "channel: echo carries a signature its sender never made")

    def _release(self, finals: dict[int, Frame]) -> None:
        for sender in self.machine.others:
            try:
                wire.decode(finals[sender].body, Done)
            except EncodingError:
                raise _Fault((sender,), self.final_round, "channel: final broadcast is not Done") from None
        self.result = self.machine.result

    # -- accusations --------------------------------------------------------------------

    def _accuse(self, blame: Blame) -> list[Outgoing]:
        if len(blame.culprits) != 1:
            return []
        accused = blame.culprits[0]
        frames = tuple(self._frames[k] for k in ((accused, blame.round, TO_ALL),
                                                 (accused, blame.round, self.party))
                       if k in self._frames)
        if not frames:
            return []
        return [self._broadcast_now(blame.round, Accusation(blame.round, accused, frames))]

    def _retry_accusations(self) -> None:
        for accuser, accusation in list(self._accusations.items()):
            if self.blame is not None or self.result is not None:
                return
            verdict = self._judge(accuser, accusation)
            if verdict is None:
                continue  # this party has not reached the accused round yet
            del self._accusations[accuser]
            accuser_said_done = accuser in self._broadcasts.get(self.final_round, {})
            if self._said_done and (verdict.culprits == (accuser,) or accuser_said_done):
                self._note_after_done(verdict)
            else:
                self.blame = verdict
                self.machine.abandon(verdict.check)

    def _judge(self, accuser: int, accusation: Accusation) -> Blame | None:
        """Whom an accusation convicts: the accused if its frames fail, else the accuser.

        None while this party has not reached the accused round (try again later).
        """
        r, accused = accusation.round, accusation.accused
        false = Blame((accuser,), r, "channel: accusation of messages that pass every check")
        if accused not in self.machine.parties or accused == accuser:
            return false
        frames: dict[int, Frame] = {}
        for raw in accusation.frames:
            try:
                frame = wire.decode(raw, Frame)
            except EncodingError:
                return false
            if (frame.round != r or frame.recipient not in (TO_ALL, accuser)
                    or not frame_signed_by(self._verifier, self._keys[accused], accused, frame)):
                return false
            if frame.recipient in frames and frames[frame.recipient].body != frame.body:
                return Blame((accused,), r, "channel: two different frames for one round", accusation.frames)
            frames[frame.recipient] = frame
        guilty = Blame((accused,), r, "channel: frame for a round this protocol does not have",
                       accusation.frames)
        if any(self._impossible(f) for f in frames.values()):
            return guilty
        if r == self.final_round:
            return false  # a Done broadcast is checked by everyone when it is delivered
        kinds = self.machine.kinds_of(r)
        if kinds is None:
            return None
        shown = frames.get(TO_ALL)
        held = self._broadcasts.get(r, {}).get(accused)
        if held is not None and shown is not None and held.body != shown.body:
            return Blame((accused,), r, "channel: sent different broadcasts to different parties",
                         (wire.encode(held), wire.encode(shown)))
        broadcast, direct = shown or held, frames.get(accuser)
        wants_broadcast, wants_direct = kinds
        if (not wants_broadcast and shown is not None) or (not wants_direct and direct is not None):
            return Blame((accused,), r, "channel: a kind of message this round does not have",
                         accusation.frames)
        if (wants_broadcast and broadcast is None) or (wants_direct and direct is None):
            return false  # an accusation must show everything the round's checks read
        verdict = self.machine.audit(r, accused, accuser, broadcast.body if broadcast else None,
                                     direct.body if direct else None)
        return verdict if verdict is not None else false
