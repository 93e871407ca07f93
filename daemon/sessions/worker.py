"""The session side that runs in a worker: each session's Channel, in a module-level table.

Every function here is called through a single-worker executor (a process in
production, a thread in tests; the same code either way) and takes and returns
plain values: bytes, ints, strings. Protocol objects never leave the worker. The
table is keyed by ``owner`` (one node; several nodes share a process only in
tests) and session id; a session stays on its worker for its whole life.
``init`` is the executor's initializer: it gives the worker the node's identity
seed once, for the Channel's frame signatures. A run left past its deadline (its
node's abandon never came: the node lost track of it) is dropped, secrets erased,
at the next call.

A cmp-keygen asks for its safe primes only when its aux phase starts
(``Step.needs_primes``, answered by ``give_primes``): a keygen that dies in its first
phase never costs the node primes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from daemon.sessions.machines import (
    Job,
    KeyCache,
    Output,
    build,
    channel_session_id,
    output,
    phase_names,
)
from protocol import wire
from protocol.channel import Channel
from protocol.cmp.keygen import KeygenOutput
from protocol.errors import EncodingError
from protocol.frames import ENVELOPES
from protocol.identity import Ed25519Signer
from protocol.machine import Incoming

#: frames kept for a phase not started yet, per session (a fast peer is a phase ahead)
MAX_EARLY = 256
#: safe primes the aux phase of a cmp-keygen takes (its Paillier modulus)
PRIMES_PER_AUX = 2
#: how long past its deadline a forgotten run stays before the worker drops it
DEADLINE_GRACE = 5.0


@dataclass
class Step:
    """What a call into a session produced: messages to send, and how the session stands."""

    sends: list[tuple[int, int | None, bytes]] = field(default_factory=list)  # phase, party|None, body
    state: str = "running"     # running | done | failed
    output: Output | None = None
    blame: tuple[tuple[int, ...], int, str] | None = None
    round: int = 0             # the round the session waits for (running or abandoned)
    missing: tuple[int, ...] = ()
    needs_primes: int = 0      # the next phase waits for this many safe primes (give_primes)


class _Run:
    def __init__(self, job: Job, signer: Ed25519Signer, cache: KeyCache) -> None:
        self.job = job
        self.signer = signer
        self.cache = cache
        self.keys = dict(zip(job.parties, job.identity_keys, strict=True))
        self.phase = 0
        self.phases = len(phase_names(job.protocol))
        self.certificate = None   # the keygen certificate, once a keygen phase is over
        self.early: list[tuple[int, int, bytes]] = []
        self.seen: dict[int, set[int]] = {}    # sender -> rounds it sent something for, this phase
        self.channel = self._channel(None)

    def _channel(self, previous) -> Channel:
        machine = build(self.job, self.phase, self.cache, previous)
        return Channel(machine, channel_session_id(self.job, self.phase), self.signer, self.keys)

    def start(self, step: Step) -> None:
        self._sent(step, self.channel.start())

    def _sent(self, step: Step, out) -> None:
        step.sends += [(self.phase, o.recipient, o.body) for o in out]

    def deliver(self, step: Step, sender: int, phase: int, body: bytes) -> None:
        if phase > self.phase:
            if phase < self.phases and len(self.early) < MAX_EARLY:
                self.early.append((sender, phase, body))
            return
        if phase < self.phase or sender not in self.channel.machine.others:
            return   # a late frame of a finished phase, or a party outside the session
        self._note_round(sender, body)
        self._sent(step, self.channel.receive(Incoming(sender, 0, body)))
        self.advance(step)

    def _note_round(self, sender: int, body: bytes) -> None:
        try:
            envelope = wire.decode_one_of(body, ENVELOPES)
        except EncodingError:
            return   # the channel blames it
        self.seen.setdefault(sender, set()).add(envelope.round)

    def advance(self, step: Step) -> None:
        channel = self.channel
        if channel.blame is not None:
            b = channel.blame
            step.state, step.blame = "failed", (b.culprits, b.round, b.check)
        elif channel.result is not None and self.phase + 1 < self.phases:
            keygen: KeygenOutput = channel.result
            self.certificate = keygen.certificate
            if not self.job.primes:
                step.needs_primes = PRIMES_PER_AUX
                return
            self.phase += 1
            self.seen = {}
            self.channel = self._channel(keygen)
            self.start(step)
            early, self.early = self.early, []
            for sender, phase, body in early:
                self.deliver(step, sender, phase, body)
        elif channel.result is not None:
            step.state = "done"
            step.output = output(self.job, channel.result, self.certificate)

    def waiting(self) -> tuple[int, tuple[int, ...]]:
        """The round this party waits for and the parties that sent nothing for it yet."""
        machine = self.channel.machine
        round_ = machine.round_number or self.channel.final_round
        return round_, tuple(p for p in machine.others if round_ not in self.seen.get(p, ()))


@dataclass
class _Owner:
    signer: Ed25519Signer
    runs: dict[str, _Run] = field(default_factory=dict)
    cache: KeyCache = field(default_factory=KeyCache)


_OWNERS: dict[str, _Owner] = {}


def init(owner: str, seed: bytes) -> None:
    """Executor initializer: this worker serves ``owner``, whose identity seed is ``seed``.

    Thread slots of one owner share its entry (a session only ever runs on its own slot)."""
    if owner not in _OWNERS:
        _OWNERS[owner] = _Owner(Ed25519Signer(seed))


def ready(owner_id: str) -> bool:
    """Whether this worker serves ``owner_id`` (a first call also spawns the process)."""
    return owner_id in _OWNERS


def _finish(owner: _Owner, session_id: str, run: _Run, step: Step) -> Step:
    if step.state == "running":
        step.round, step.missing = run.waiting()
    else:
        owner.runs.pop(session_id, None)
    return step


def _drop_expired(owner: _Owner) -> None:
    now = time.time()
    for session_id, run in list(owner.runs.items()):
        if run.job.deadline and now > run.job.deadline + DEADLINE_GRACE:
            del owner.runs[session_id]
            run.channel.machine.abandon("past its deadline")


def open_session(owner_id: str, job: Job, frames: list[tuple[int, int, bytes]] = ()) -> Step:
    """Start this party's side of ``job`` and feed it the (sender party, phase, body) frames that
    arrived before it could start: one call instead of two."""
    owner = _OWNERS[owner_id]
    _drop_expired(owner)
    if job.session_id in owner.runs:
        raise ValueError(f"session {job.session_id} is already open")
    run = _Run(job, owner.signer, owner.cache)
    step = Step()
    try:
        run.start(step)
        run.advance(step)
        for sender, phase, body in frames:
            if step.state != "running":
                break
            run.deliver(step, sender, phase, body)
    except BaseException:
        run.channel.machine.abandon("the session could not start")
        raise
    owner.runs[job.session_id] = run
    return _finish(owner, job.session_id, run, step)


def deliver(owner_id: str, session_id: str, frames: list[tuple[int, int, bytes]]) -> Step:
    """Feed (sender party, phase, body) frames to a running session."""
    owner = _OWNERS[owner_id]
    _drop_expired(owner)
    run = owner.runs.get(session_id)
    if run is None:
        return Step(state="failed")
    step = Step()
    for sender, phase, body in frames:
        run.deliver(step, sender, phase, body)
        if step.state != "running":
            break
    return _finish(owner, session_id, run, step)


def give_primes(owner_id: str, session_id: str, primes: tuple[int, ...]) -> Step:
    """The safe primes a run asked for (``Step.needs_primes``): its next phase starts."""
    owner = _OWNERS[owner_id]
    run = owner.runs.get(session_id)
    if run is None:
        return Step(state="failed")
    run.job = replace(run.job, primes=tuple(primes))
    step = Step()
    run.advance(step)
    return _finish(owner, session_id, run, step)


def abandon(owner_id: str, session_id: str, reason: str) -> Step:
    """End a session here (timeout, refusal, shutdown): secrets erased, what it waited for reported."""
    owner = _OWNERS[owner_id]
    run = owner.runs.pop(session_id, None)
    if run is None:
        return Step(state="failed")
    round_, missing = run.waiting()
    run.channel.machine.abandon(reason)
    return Step(state="failed", round=round_, missing=missing)


def forget_key(owner_id: str, key_id: str) -> None:
    """Drop the cached key material of a key whose share was deleted."""
    _OWNERS[owner_id].cache.forget(key_id)


def drop_owner(owner_id: str) -> None:
    """Abandon every session of ``owner`` and forget it (the node stopped)."""
    owner = _OWNERS.pop(owner_id, None)
    if owner is not None:
        for run in owner.runs.values():
            run.channel.machine.abandon("the node stopped")


__all__ = ["Step", "abandon", "deliver", "drop_owner", "forget_key", "give_primes", "init", "open_session",
           "ready"]
