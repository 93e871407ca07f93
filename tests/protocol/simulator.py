"""An in-process network for round machines, with hooks to play a malicious party.

``run`` wraps each machine in a ``Channel`` (signed frames, echo broadcast,
accusations), delivers every message in an order drawn from a seeded RNG, and
returns the channels once no message is left in flight. Two hooks:

* ``corrupt[party](outgoing) -> list[Outgoing]`` rewrites what a party's protocol
  logic emits, before its channel signs it: a wrong proof, a wrong share, a
  malformed body. The party still signs, so the lie is attributable.
* ``network(sender, recipient, body) -> list[bytes]`` rewrites what crosses the
  wire to one recipient: drop, duplicate, replay, or (with ``resign``) send a
  different broadcast to one party.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from protocol import wire
from protocol.channel import Channel
from protocol.frames import TO_ALL, Frame, make_frame, session_prefix
from protocol.identity import Ed25519Signer
from protocol.machine import Incoming, Machine, Outgoing
from protocol.rng import SeededRng, randbelow

SESSION = "test-session"
Corrupt = Callable[[Outgoing], list[Outgoing]]
Tamper = Callable[[int, int, bytes], list[bytes]]


def signers(parties, label: bytes = b"") -> dict[int, Ed25519Signer]:
    return {p: Ed25519Signer(hashlib.sha256(b"identity:%d:" % p + label).digest()) for p in parties}


class _Corrupted:
    """A machine whose outgoing messages pass through ``corrupt`` before they are signed."""

    def __init__(self, machine: Machine, corrupt: Corrupt) -> None:
        self._machine = machine
        self._corrupt = corrupt

    def __getattr__(self, name):
        return getattr(self._machine, name)

    def _rewrite(self, out: list[Outgoing]) -> list[Outgoing]:
        return [o2 for o in out for o2 in self._corrupt(o)]

    def start(self) -> list[Outgoing]:
        return self._rewrite(self._machine.start())

    def receive(self, msg: Incoming) -> list[Outgoing]:
        return self._rewrite(self._machine.receive(msg))


@dataclass
class Network:
    channels: dict[int, Channel]
    signers: dict[int, Ed25519Signer]
    session_id: str
    delivered: int = 0
    log: list[tuple[int, int, bytes]] = field(default_factory=list)

    def pump(self, messages: list[tuple[int, int, bytes]]) -> None:
        """Deliver (sender, recipient, body) messages, and everything they cause, in order."""
        queue = list(messages)
        while queue:
            sender, recipient, body = queue.pop(0)
            self.log.append((sender, recipient, body))
            for o in self.channels[recipient].receive(Incoming(sender, 0, body)):
                targets = [p for p in self.channels if p != recipient] if o.recipient is None else [o.recipient]
                queue += [(recipient, t, o.body) for t in targets]

    def resign(self, sender: int, frame_bytes: bytes, new_body: bytes, *, round_: int | None = None,
               recipient: int | None = None) -> bytes:
        """``resign`` under this network's session id."""
        return resign(sender, frame_bytes, new_body, round_=round_, recipient=recipient,
                      session_id=self.session_id)


def resign(sender: int, frame_bytes: bytes, new_body: bytes, *, round_: int | None = None,
           recipient: int | None = None, session_id: str = SESSION) -> bytes:
    """``sender``'s frame with another body (or round, recipient), validly signed with the
    identity key ``run`` gives that party: what an equivocator sends."""
    frame = wire.decode(frame_bytes, Frame)
    return wire.encode(make_frame(
        signers([sender])[sender], session_prefix(session_id), sender,
        frame.round if round_ is None else round_,
        frame.recipient if recipient is None else recipient, frame.context, new_body))

def run(machines: Mapping[int, Machine], *, seed: int = 0, session_id: str = SESSION,
        corrupt: Mapping[int, Corrupt] | None = None, network: Tamper | None = None,
        max_messages: int = 100_000) -> Network:
    """Run every machine to the end over a reordering in-memory network."""
    parties = sorted(machines)
    keys = signers(parties)
    identity = {p: keys[p].public_key for p in parties}
    corrupt = corrupt or {}
    channels = {}
    for p in parties:
        m = machines[p]
        inner = _Corrupted(m, corrupt[p]) if p in corrupt else m
        channels[p] = Channel(inner, session_id, keys[p], identity)
    net = Network(channels, keys, session_id)
    rng = SeededRng(hashlib.sha256(b"delivery order %d" % seed).digest())
    queue: list[tuple[int, int, Outgoing]] = []

    def post(sender: int, out: list[Outgoing]) -> None:
        for o in out:
            for r in (parties if o.recipient is None else [o.recipient]):
                if r == sender:
                    continue
                bodies = network(sender, r, o.body) if network else [o.body]
                queue.extend((sender, r, Outgoing(o.round, r, b)) for b in bodies)

    for p in parties:
        post(p, channels[p].start())
    while queue:
        if net.delivered >= max_messages:
            raise AssertionError("the session does not terminate")
        sender, recipient, o = queue.pop(randbelow(rng, len(queue)))
        net.delivered += 1
        net.log.append((sender, recipient, o.body))
        post(recipient, channels[recipient].receive(Incoming(sender, o.round, o.body)))
    idle = sorted(p for p, hook in corrupt.items() if getattr(hook, "fired", None) == 0)
    if idle:
        raise AssertionError(f"the tamper hook of parties {idle} never changed a message")
    return net


def honest(net: Network, bad: set[int] = frozenset()) -> dict[int, Channel]:
    return {p: c for p, c in net.channels.items() if p not in bad}


def assert_all_blame(net: Network, culprit: int, check_contains: str = "") -> None:
    """Every party other than ``culprit`` aborted, naming exactly ``culprit``."""
    for p, ch in honest(net, {culprit}).items():
        assert ch.blame is not None, f"party {p} did not abort"
        assert ch.blame.culprits == (culprit,), f"party {p} blamed {ch.blame.culprits}: {ch.blame.check}"
        assert check_contains in ch.blame.check, f"party {p}: {ch.blame.check}"


def assert_success(net: Network) -> dict[int, object]:
    for p, ch in net.channels.items():
        assert ch.blame is None, f"party {p} aborted: {ch.blame}"
        assert ch.result is not None, f"party {p} has no result"
    return {p: ch.result for p, ch in net.channels.items()}


__all__ = ["TO_ALL", "Network", "assert_all_blame", "assert_success", "honest", "resign", "run", "signers"]
