"""The round state machine every multi-party protocol in tssnet runs on.

A protocol is a chain of ``Round`` objects (as in multi-party-sig). The round
numbered r receives the messages every other party sent in round r: at most one
broadcast message and one direct message per sender, each of a declared wire
type. ``Machine`` does everything that is the same for every protocol:

* decoding with the wire codec, so a malformed message blames its sender;
* buffering messages of later rounds (out-of-order arrival is normal);
* de-duplication: the same bytes twice are dropped, different bytes for the same
  (sender, round, kind) are an equivocation, blamed with both messages kept;
* calling ``Round.verify`` (pure: no mutation) then ``Round.store`` once per sender,
  and ``Round.finalize`` once every sender of the round is in;
* turning ``InvalidProof``/``EncodingError``/``PeerMisbehaved`` into a ``Blame``,
  after which the machine stays aborted (h11's rule: an error state is final).

Broadcast messages must arrive with ``Incoming.broadcast`` set, which only the
reliable-broadcast layer (``protocol.channel``) does after its echo check; a direct
message is only ever seen by its recipient. ``audit`` lets the channel re-run a
round's checks on a message another party accuses a sender of, using public data
only, so that a bad direct message is blamed by every honest party, not just by
its recipient.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from protocol import wire
from protocol.errors import Bug, EncodingError, InvalidProof, PeerMisbehaved, UsageError
from protocol.group import Group
from protocol.parties import check_party_set

BROADCAST = "broadcast"
DIRECT = "direct"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to send: to one party, or (``recipient`` None) to every other party."""

    round: int
    recipient: int | None
    body: bytes


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message received from ``sender``; ``broadcast`` is set only by the reliable-broadcast layer."""

    sender: int
    round: int
    body: bytes
    broadcast: bool = False


@dataclass(frozen=True, slots=True)
class Blame:
    """Why a session aborted: the parties at fault, the round, the failed check, the messages."""

    culprits: tuple[int, ...]
    round: int
    check: str
    evidence: tuple[bytes, ...] = ()
    #: the failure is in the culprit's messages themselves (decoding, ``verify``), so
    #: anyone re-running the round's checks on them finds it; faults found in
    #: ``store``/``finalize`` are not, and are never the ground for an accusation
    auditable: bool = False


@dataclass(frozen=True, slots=True)
class Send:
    """A message a round wants sent next; the machine encodes it and numbers it."""

    message: Any
    recipient: int | None = None


@dataclass(slots=True)
class Transition:
    """What ``start`` or ``Round.finalize`` hands back: messages, then the next round or the result."""

    sends: list[Send] = field(default_factory=list)
    next: Round | None = None
    result: Any = None


class Round(ABC):
    """One round of a protocol: what it expects, how it checks each sender, what it does at the end.

    ``broadcast_type``/``direct_type`` are the wire classes every other party sends
    in this round (None when the round has none of that kind). ``verify`` must
    only read: ``audit`` calls it on behalf of other recipients.
    """

    number: ClassVar[int]
    broadcast_type: ClassVar[type | None] = None
    direct_type: ClassVar[type | None] = None

    @abstractmethod
    def verify(self, sender: int, recipient: int, broadcast: Any, direct: Any) -> None:
        """Check ``sender``'s messages of this round as ``recipient`` would; raise on any failure."""

    def store(self, sender: int, broadcast: Any, direct: Any) -> None:
        """Keep what later rounds need from a verified sender (decrypt, sum, ...)."""
        return None  # a round whose finalize reads only what verify saw keeps nothing

    @abstractmethod
    def finalize(self) -> Transition:
        """Every sender is in: compute this party's next messages and the next round (or the result)."""


class _Fault(Exception):
    """Internal: a message failed a check; carries the blame with its culprits and round."""

    def __init__(self, culprits: int | tuple[int, ...], number: int, check: str,
                 evidence: tuple = (), auditable: bool = True) -> None:
        super().__init__(check)
        culprits = (culprits,) if isinstance(culprits, int) else tuple(culprits)
        self.blame = Blame(culprits, number, check, tuple(e for e in evidence if isinstance(e, bytes)),
                           auditable)


@contextmanager
def _attributed_to(sender: int, number: int, auditable: bool = True):
    """Turn a failed check on ``sender``'s round-``number`` messages into a fault naming it."""
    try:
        yield
    except (EncodingError, InvalidProof) as exc:
        raise _Fault(sender, number, str(exc), auditable=auditable) from None
    except PeerMisbehaved as exc:
        raise _Fault(exc.culprits, number, exc.reason, exc.evidence, auditable) from None


class Machine(ABC):
    """Drives a chain of rounds for ``party`` among ``parties``; see the module docstring."""

    def __init__(self, party: int, parties: Sequence[int], group: Group | None) -> None:
        try:
            parties = check_party_set(parties, party=party)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        self.party = party
        self.parties = parties
        self.others = tuple(p for p in parties if p != party)
        self.group = group
        self.result: Any = None
        self.blame: Blame | None = None
        self._round: Round | None = None
        self._rounds: dict[int, Round] = {}
        self._started = False
        self._raw: dict[tuple[int, int, str], bytes] = {}          # every body accepted, for dedup
        self._pending: dict[int, dict[int, dict[str, bytes]]] = {}  # round -> sender -> kind -> body
        self._done_senders: set[int] = set()

    #: how many rounds receive messages; a message numbered outside 1..ROUNDS is blamed
    ROUNDS: ClassVar[int]
    #: a digest of the session's public inputs (key, signers, message...); set by each
    #: protocol. Parties whose contexts differ were given different inputs: the channel
    #: aborts such a session without blaming anyone.
    context: bytes = b""

    # -- what a protocol provides ---------------------------------------------------------

    @abstractmethod
    def _begin(self) -> Transition:
        """The first messages and the round that receives them."""

    # -- the public interface -------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.result is not None or self.blame is not None

    @property
    def round_number(self) -> int:
        """The round whose messages this party is waiting for (0 before start or after the end)."""
        return self._round.number if self._round is not None else 0

    def start(self) -> list[Outgoing]:
        if self._started:
            raise UsageError("start() runs once")
        self._started = True
        return self._guarded(self._begin_guarded)

    def receive(self, msg: Incoming) -> list[Outgoing]:
        """Take one message; return what to send as a result (often nothing)."""
        if not self._started:
            raise UsageError("receive() before start()")
        if msg.sender not in self.others:
            raise UsageError(f"party {msg.sender} is not another participant of this session")
        if self.finished:
            return []
        return self._guarded(lambda: self._accept(msg))

    def kinds_of(self, number: int) -> tuple[bool, bool] | None:
        """Whether round ``number`` has (broadcast, direct) messages; None if not reached yet."""
        rnd = self._rounds.get(number)
        if rnd is None:
            return None
        return rnd.broadcast_type is not None, rnd.direct_type is not None

    def audit(self, number: int, sender: int, recipient: int,
              broadcast: bytes | None, direct: bytes | None) -> Blame | None:
        """Re-check ``sender``'s round-``number`` messages as ``recipient`` would have.

        Returns the blame those messages deserve, or None if they pass. Only the
        public state of earlier rounds is used; round ``number`` must have been
        reached by this machine.
        """
        rnd = self._rounds.get(number)
        if rnd is None:
            raise UsageError(f"round {number} has not been reached")
        try:
            with _attributed_to(sender, number):
                b = self._decode(rnd.broadcast_type, broadcast, BROADCAST)
                d = self._decode(rnd.direct_type, direct, DIRECT)
                rnd.verify(sender, recipient, b, d)
        except _Fault as fault:
            return fault.blame
        return None

    # -- internals ---------------------------------------------------------------------

    def abandon(self, reason: str = "the session was abandoned") -> None:
        """End the session here (a timeout, a channel-level abort): no one is blamed by
        this call, a result already computed is dropped, and so are the session's secrets."""
        if self.blame is None:
            self.blame = Blame((), self.round_number, reason)
        self.result = None
        self._end_aborted()

    def _erase_secrets(self) -> None:
        """Drop secrets that only this session needed (nonces); protocols that keep any override it."""
        return None

    def _end_aborted(self) -> None:
        self._round = None
        self._rounds.clear()   # round objects hold per-session secrets (k_i, γ_i, nonces)
        self._pending.clear()
        self._erase_secrets()

    def _guarded(self, step) -> list[Outgoing]:
        try:
            return step()
        except _Fault as fault:
            self.blame = fault.blame
            self._end_aborted()
            return []

    def _decode(self, cls: type | None, body: bytes | None, kind: str) -> Any:
        if cls is None:
            if body is not None:
                raise EncodingError(f"this round has no {kind} message")
            return None
        if body is None:
            raise EncodingError(f"missing {kind} message")
        return wire.decode(body, cls, self.group)

    def _begin_guarded(self) -> list[Outgoing]:
        return self._apply(self._begin()) + self._advance()

    def _accept(self, msg: Incoming) -> list[Outgoing]:
        kind = BROADCAST if msg.broadcast else DIRECT
        key = (msg.sender, msg.round, kind)
        seen = self._raw.get(key)
        if seen is not None:
            if seen == msg.body:
                return []  # a duplicate delivery or a replay: nothing new
            raise _Fault(msg.sender, msg.round, f"two different {kind} messages in round {msg.round}",
                         (seen, msg.body))
        self._raw[key] = msg.body
        if not 1 <= msg.round <= self.ROUNDS:
            raise _Fault(msg.sender, msg.round, f"no round {msg.round} in this protocol")
        if msg.round < self.round_number:
            raise _Fault(msg.sender, msg.round, f"{kind} message for round {msg.round}, which is over")
        self._pending.setdefault(msg.round, {}).setdefault(msg.sender, {})[kind] = msg.body
        return self._advance()

    def _advance(self) -> list[Outgoing]:
        """Process what the current round has buffered; move on while rounds complete."""
        out: list[Outgoing] = []
        while self._round is not None:
            rnd = self._round
            waiting = self._pending.get(rnd.number, {})
            for sender, got in waiting.items():
                # Each buffered message is judged on its own sender, whoever's message
                # happened to complete the previous round.
                with _attributed_to(sender, rnd.number):
                    self._require_kinds(rnd, got)
                    if sender not in self._done_senders and self._complete(rnd, got):
                        self._check_and_store(rnd, sender, got)
            if self._done_senders != set(self.others):
                return out
            try:
                transition = rnd.finalize()
            except PeerMisbehaved as exc:
                raise _Fault(exc.culprits, rnd.number, exc.reason, exc.evidence, auditable=False) from None
            except (EncodingError, InvalidProof) as exc:
                # A round that finds a fault at the end must name its culprits.
                raise Bug(f"round {rnd.number} failed in finalize without a culprit: {exc}") from exc
            out += self._apply(transition)
        return out

    @staticmethod
    def _require_kinds(rnd: Round, got: dict[str, bytes]) -> None:
        for kind in got:
            wanted = rnd.broadcast_type if kind == BROADCAST else rnd.direct_type
            if wanted is None:
                raise EncodingError(f"round {rnd.number} has no {kind} message")

    @staticmethod
    def _complete(rnd: Round, got: dict[str, bytes]) -> bool:
        return ((rnd.broadcast_type is None or BROADCAST in got)
                and (rnd.direct_type is None or DIRECT in got))

    def _check_and_store(self, rnd: Round, sender: int, got: dict[str, bytes]) -> None:
        b = self._decode(rnd.broadcast_type, got.get(BROADCAST), BROADCAST)
        d = self._decode(rnd.direct_type, got.get(DIRECT), DIRECT)
        rnd.verify(sender, self.party, b, d)
        with _attributed_to(sender, rnd.number, auditable=False):
            rnd.store(sender, b, d)
        self._done_senders.add(sender)

    def _apply(self, transition: Transition) -> list[Outgoing]:
        nxt = transition.next
        if (nxt is None) == (transition.result is None):
            raise Bug("a transition has either a next round or a result")
        if transition.sends and nxt is None:
            raise Bug("messages sent after the last round would never be read")
        out = [Outgoing(nxt.number, s.recipient, wire.encode(s.message, self.group))
               for s in transition.sends]
        self._pending.pop(self.round_number, None)
        if nxt is None:
            self.result = transition.result
            self._round = None
            return out
        if nxt.number != self.round_number + 1 or nxt.number > self.ROUNDS:
            raise Bug(f"round {self.round_number} is followed by round {nxt.number}")
        self._round = nxt
        self._rounds[nxt.number] = nxt
        self._done_senders = set()
        return out
