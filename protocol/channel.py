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
  that k equivocated; an entry k never signed is the echoer's forgery. A session of
  two parties has no echo: each broadcast has a single recipient, so no one could
  have been sent another version, and an echo would only cost a round trip (the
  one-round sign of a pooled presignature is such a session). An echo received
  there convicts its sender.
* Accusation: when the machine blames k for its round-r messages (a failure in the
  messages themselves, ``Blame.auditable``), the channel broadcasts k's signed
  frames of that round. Every other party checks them and re-runs the round's
  checks (``protocol.accusation``): the accused is blamed if the messages fail, the
  accuser if they pass. A frame for a round or kind the protocol does not have
  convicts its signer on its own.
* Final agreement: when the machine has its result, the party broadcasts ``Done``
  as round ROUNDS+1 through the same echo. ``result`` is released only when every
  party's ``Done`` arrived, so an honest party that found a fault (and therefore
  accused instead of saying ``Done``) stops every other party from outputting.
  Once a party has said ``Done`` it stands by it and reads nothing but the final
  round and accusations; faults are kept in ``after_done`` for the logs. Only two
  things still abort it, both seen alike by every party: a valid accusation by a
  party that has not said ``Done`` (it never will, so no one can output), and a
  final broadcast that is not ``Done`` or that its signer sent differently to
  different parties, which the echoes of honest parties show to everyone. A malicious party can still leave some
  parties waiting (by withholding its echo from them) while others finish; where
  that matters (a new key or epoch) the daemon makes the outcome final on the ledger.

Session ids must never be reused: frames are bound to the session id and to the
inputs, so a retry of the same inputs under the same id would accept the first
attempt's frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol import accusation as judge
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
    """Internal: the channel found a fault.

    ``provable`` when the evidence is frames the culprit signed (worth an
    accusation); ``shared`` when every party sees the same fault through the echo
    (so it may abort even a party that already said Done).
    """

    def __init__(self, culprits: tuple[int, ...], round_: int, check: str, evidence: tuple[bytes, ...] = (),
                 *, provable: bool = False, shared: bool = False) -> None:
        super().__init__(check)
        self.blame = Blame(culprits, round_, check, evidence)
        self.provable = provable
        self.shared = shared


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
        #: faults and verdicts met after this party said Done: they no longer change its
        #: outcome (see the module docstring) but are kept for the operator's logs
        self.after_done: list[Blame] = []
        self._signer = signer
        self._keys = dict(identity_keys)
        self._verifier = Verifier(session_prefix(session_id))
        self._frames: dict[tuple[int, int, int], bytes] = {}   # (sender, round, recipient) -> frame
        self._broadcasts: dict[int, dict[int, Frame]] = {}      # round -> sender -> frame
        self._echoes: dict[int, dict[int, Echo]] = {}           # round -> echoer -> echo
        self._echoed: set[int] = set()
        self._echoing = len(machine.parties) > 2
        self._delivered: set[int] = set()
        self._accusers: set[int] = set()                        # an honest party accuses once
        self._pending: dict[int, judge.PendingAudit] = {}       # accuser -> audit still to run
        self._said_done = False
        # Messages received before start(), bounded per sender in count and bytes.
        self._early: dict[int, list[Incoming]] | None = {}
        self._early_count = 4 * (self.final_round + 1)
        self._early_bytes = 2 * wire.MAX_MESSAGE_BYTES

    @property
    def finished(self) -> bool:
        return self.blame is not None or self.result is not None

    def start(self) -> list[Outgoing]:
        out = self._wrap(self.machine.start()) + self._after_machine_step()
        early, self._early = self._early, None
        for msg in [m for sender in sorted(early) for m in early[sender]]:
            out += self.receive(msg)
        return out

    def receive(self, msg: Incoming) -> list[Outgoing]:
        if msg.sender not in self.machine.others:
            raise UsageError(f"party {msg.sender} is not another participant of this session")
        if self._early is not None:
            self._keep_early(msg)
            return []
        if self.finished:
            return []
        try:
            envelope = wire.decode_one_of(msg.body, ENVELOPES)
            if self._said_done and not self._read_after_done(envelope):
                return []
            if isinstance(envelope, Frame):
                out = self._on_frame(msg.sender, envelope, msg.body)
            elif isinstance(envelope, Echo):
                out = self._on_echo(msg.sender, envelope)
            else:
                self._on_accusation(msg.sender, envelope)
                out = []
            return out + self._after_machine_step()
        except EncodingError as exc:
            return self._fail(_Fault((msg.sender,), msg.round, f"channel: {exc}", (msg.body,)))
        except _Fault as fault:
            return self._fail(fault)

    def _keep_early(self, msg: Incoming) -> None:
        kept = self._early.setdefault(msg.sender, [])
        if (len(kept) < self._early_count
                and sum(len(m.body) for m in kept) + len(msg.body) <= self._early_bytes):
            kept.append(msg)

    def _read_after_done(self, envelope) -> bool:
        """After Done only the final round and accusations matter; everything else is dropped."""
        return isinstance(envelope, Accusation) or envelope.round == self.final_round

    def _fail(self, fault: _Fault) -> list[Outgoing]:
        if self._said_done and not fault.shared:
            self._note_after_done(fault.blame)
            return []
        self._abort(fault.blame)
        if fault.provable:  # frames the culprit signed: proof for everyone
            b = fault.blame
            return [self._broadcast_now(b.round, Accusation(b.round, b.culprits[0], b.evidence))]
        return []

    def _abort(self, blame: Blame) -> None:
        self.blame = blame
        self.machine.abandon(blame.check)

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
        self._retry_audits()
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
            raise _Fault((), frame.round, judge.OTHER_INPUTS.format(party=sender), (raw,))
        if judge.impossible(frame, self.final_round) or self._kind_missing(frame):
            raise _Fault((sender,), frame.round, judge.IMPOSSIBLE, (raw,), provable=True)
        key = (sender, frame.round, frame.recipient)
        seen = self._frames.get(key)
        if seen is not None:
            # Signatures are not unique (a signer can make many for one message), so two
            # frames are the same message when their bodies are.
            if wire.decode(seen, Frame).body == frame.body:
                return []
            raise _Fault((sender,), frame.round, judge.TWO_FRAMES, (seen, raw), provable=True)
        self._frames[key] = raw
        if frame.recipient != TO_ALL:
            return self._wrap(self.machine.receive(Incoming(sender, frame.round, frame.body)))
        self._broadcasts.setdefault(frame.round, {})[sender] = frame
        return self._maybe_echo(frame.round) + self._maybe_deliver(frame.round)

    def _kind_missing(self, frame: Frame) -> bool:
        """A broadcast in a round known to have none (direct frames: the machine checks)."""
        kinds = self.machine.kinds_of(frame.round) if frame.round < self.final_round else None
        return frame.recipient == TO_ALL and kinds is not None and not kinds[0]

    # -- echo ---------------------------------------------------------------------------

    def _maybe_echo(self, r: int) -> list[Outgoing]:
        got = self._broadcasts.get(r, {})
        if r in self._echoed or set(got) != set(self.machine.parties):
            return []
        self._echoed.add(r)
        if not self._echoing:
            return self._maybe_deliver(r)
        entries = tuple(EchoEntry(k, digest(got[k].body), got[k].signature) for k in sorted(got))
        return [Outgoing(r, None, wire.encode(Echo(r, entries)))] + self._maybe_deliver(r)

    def _on_echo(self, echoer: int, echo: Echo) -> list[Outgoing]:
        if not self._echoing:
            raise _Fault((echoer,), echo.round, "channel: echo in a session of two parties")
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
        if r in self._delivered or r not in self._echoed:
            return []
        if self._echoing and set(echoes) != set(self.machine.others):
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
            # Relayed by someone else, the second signed broadcast reaches every party.
            raise _Fault((entry.sender,), r, judge.TWO_BROADCASTS,
                         (wire.encode(held), wire.encode(entry)), shared=echoer != entry.sender)
        raise _Fault((echoer,), r, "channel: echo carries a signature its sender never made")

    def _release(self, finals: dict[int, Frame]) -> None:
        for sender in self.machine.others:
            try:
                done = wire.decode(finals[sender].body, Done)
            except EncodingError:
                done = None
            if done is None or done.rounds != self.machine.ROUNDS:
                raise _Fault((sender,), self.final_round, "channel: final broadcast is not Done",
                             shared=True)
        self.result = self.machine.result

    # -- accusations --------------------------------------------------------------------

    def _accuse(self, blame: Blame) -> list[Outgoing]:
        if not blame.auditable or len(blame.culprits) != 1:
            return []
        accused = blame.culprits[0]
        frames = tuple(self._frames[k] for k in ((accused, blame.round, TO_ALL),
                                                 (accused, blame.round, self.party))
                       if k in self._frames)
        if not frames:
            return []
        return [self._broadcast_now(blame.round, Accusation(blame.round, accused, frames))]

    def _on_accusation(self, accuser: int, accusation: Accusation) -> None:
        if accuser in self._accusers:
            return
        self._accusers.add(accuser)
        found = judge.examine(accuser, accusation, parties=self.machine.parties, keys=self._keys,
                              verifier=self._verifier, context=self.context, final_round=self.final_round)
        if isinstance(found, judge.PendingAudit):
            self._pending[accuser] = found
        else:
            self._settle(accuser, found)

    def _retry_audits(self) -> None:
        for accuser, pending in list(self._pending.items()):
            if self.finished:
                return
            held = self._broadcasts.get(pending.round, {}).get(pending.accused)
            verdict = judge.conclude(pending, self.machine, held)
            if verdict is not None:
                del self._pending[accuser]
                self._settle(accuser, verdict)

    def _settle(self, accuser: int, verdict: Blame) -> None:
        """Act on an accusation's verdict (see the module docstring for after Done)."""
        accuser_said_done = accuser in self._broadcasts.get(self.final_round, {})
        convicts_another = verdict.culprits not in ((), (accuser,))
        if self._said_done and not (convicts_another and not accuser_said_done):
            self._note_after_done(verdict)
        elif self.blame is None:
            self._abort(verdict)
