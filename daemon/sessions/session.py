"""One session on this node: its runner task, its inbox, its deadline and its record.

A participant opens its side in a worker, feeds it the frames that arrive (batched:
everything queued goes in one call), sends what the worker hands back and, at the
end, reports an ``Outcome`` to the coordinator. A coordinator that is not a
participant only collects outcomes. Whatever ends the session (result, blame,
refusal, unreachable peer, timeout, shutdown, a dead worker) goes through one
place, ``_end``, which erases the worker's secrets (always: an abandon of a run that
is gone is harmless), drops the job's secrets here, persists the record and wakes
waiters, whatever fails on the way. No wait on a session outlasts its deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from daemon.errors import NodeError, SessionFailed, SessionTimeout, Unavailable
from daemon.p2p.transport import TransportError
from daemon.records import BlameRecord, KeyRecord, SessionRecord
from daemon.sessions import messages as m
from daemon.sessions import worker
from daemon.sessions.machines import Job, Output
from daemon.sessions.workers import BACKGROUND_LANE, FAST_LANE
from protocol import wire

if TYPE_CHECKING:
    from daemon.sessions.engine import SessionEngine

log = logging.getLogger("tssnet.sessions")

#: error types a participant may report, and what they are here; any other is ``session_failed``
REPORTED_ERRORS = {
    "session_blame": lambda text: SessionFailed(text, type="session_blame"),
    "session_timeout": SessionTimeout,
    "peer_unreachable": lambda text: Unavailable(text, type="peer_unreachable"),
    "no_primes": lambda text: Unavailable(text, type="no_primes"),
    "key_id_exists": lambda text: SessionFailed(text, type="key_id_exists"),
    "worker_failed": lambda text: SessionFailed(text, type="worker_failed"),
}
VIEW_PROTOCOL = {m.CMP_KEYGEN: "keygen", m.FROST_KEYGEN: "keygen", m.CMP_PRESIGN: "presign"}
#: frames and outcomes queued for one session at most (a session needs far fewer)
MAX_INBOX = 4096
#: how long past its deadline a waiter waits for a session's end to be recorded
END_GRACE = 5.0


class _Stop(Exception):
    def __init__(self, error: NodeError, blame: BlameRecord | None = None, tell_others: bool = False):
        super().__init__(error.message)
        self.error, self.blame, self.tell_others = error, blame, tell_others


def unreachable(peer_id: str) -> Unavailable:
    return Unavailable(f"peer {peer_id} unreachable", type="peer_unreachable")


class Session:
    def __init__(self, engine: SessionEngine, proposal: m.Proposal, *, peers: dict[int, str],
                 job: Job | None, timeout: float) -> None:
        self.engine = engine
        self.proposal = proposal
        self.id = proposal.session_id
        self.peers = peers                                  # party -> peer id
        self.party_of = {peer: party for party, peer in peers.items()}
        self.job = job                                      # None once ended: no secrets kept
        self.participant = job is not None
        # Keygens stay on their key's slot and full signs spread over every slot; one-round
        # signing has a lane of its own, and presigning (filling pools) a low-priority one.
        if proposal.protocol in m.ONE_ROUND_SIGNS:
            self.route = FAST_LANE
        elif proposal.protocol == m.CMP_PRESIGN:
            self.route = BACKGROUND_LANE
        else:
            self.route = proposal.key_id if proposal.protocol in m.KEYGENS else self.id
        self.slot = engine.slots.index_of(self.route)
        self.timeout = timeout
        self._deadline = time.monotonic() + timeout
        self.coordinator = proposal.coordinator
        self.output: Output | None = None
        self.error: NodeError | None = None
        self.outcomes: dict[str, m.Outcome] = {}
        self.done = asyncio.Event()
        self.record = SessionRecord(
            session_id=self.id, protocol=VIEW_PROTOCOL.get(proposal.protocol, "sign"), state="pending",
            created_ms=int(time.time() * 1000), participants=proposal.participants,
            coordinator=proposal.coordinator, key_id=proposal.key_id)
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._open = False                 # a run may exist in the worker: abandon it at the end
        self._storing: asyncio.Future | None = None
        #: the key a signing session's coordinator verifies reported signatures against
        self.key: KeyRecord | None = None
        #: sent to every other participant together with this party's first frames (see launch)
        self._preface: bytes | None = None

    @property
    def is_coordinator(self) -> bool:
        return self.coordinator == self.engine.peer_id

    @property
    def others(self) -> list[str]:
        return [p for p in self.proposal.participants if p != self.engine.peer_id]

    # -- inputs (from the engine, on the loop) ------------------------------------------------

    def launch(self, early: list[tuple[str, int, bytes]], *, preface: bytes | None = None) -> None:
        """Start the runner. ``preface`` (a coordinator's signed proposal) goes to the others in
        the same transport message as this party's first frames."""
        self._preface = preface
        for peer, phase, body in early:
            self.frame(peer, phase, body)
        self._deadline = time.monotonic() + self.timeout
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"session-{self.id}")

    def frame(self, peer: str, phase: int, body: bytes) -> None:
        party = self.party_of.get(peer)
        if party is not None and self.participant and not self.done.is_set():
            self._queue("frame", (party, phase, body))

    def outcome(self, peer: str, outcome: m.Outcome) -> None:
        if self.is_coordinator and peer in self.party_of and peer not in self.outcomes:
            self._queue("outcome", (peer, outcome))

    def _queue(self, kind: str, value) -> None:
        if self._inbox.qsize() >= MAX_INBOX:
            self.engine.stats["frames_dropped"] += 1
            log.warning("session %s: inbox full, dropped a %s", self.id, kind)
            return
        self._inbox.put_nowait((kind, value))

    def fail(self, error: NodeError, *, tell_others: bool = False) -> None:
        """End the session from outside (a refusal, shutdown): the runner stops at its next step."""
        self._inbox.put_nowait(("fail", _Stop(error, tell_others=tell_others)))

    async def wait(self, timeout: float | None = None) -> None:
        """Until the session ends, ``timeout`` passes, or its deadline (plus a grace) has passed."""
        bound = self._deadline + END_GRACE - time.monotonic()
        if timeout is not None:
            bound = min(bound, timeout)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.done.wait(), max(0.0, bound))

    # -- the runner -------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            # A one-round sign lasts milliseconds: it is recorded once, when it ends,
            # instead of paying a durable write (an fsync) before it may start.
            if self.proposal.protocol not in m.ONE_ROUND_SIGNS:
                await self.persist(state="running")
            async with asyncio.timeout(self.timeout):
                await self._drive()
        except _Stop as stop:
            await self._end(stop)
        except TimeoutError:
            await self._end(None if await self._result_kept() else _Stop(await self._timeout_error()))
        except asyncio.CancelledError:
            kept = await self._result_kept()
            await self._end(None if kept else _Stop(Unavailable("the node is shutting down")))
            raise
        except SessionFailed as exc:   # its worker died (WorkerFailed)
            await self._end(_Stop(exc, tell_others=True))
        except Exception as exc:  # a bug: the session fails, the node goes on
            log.exception("session %s failed inside the node", self.id)
            await self._end(_Stop(SessionFailed(f"session failed inside the node: {type(exc).__name__}"),
                                  tell_others=True))
        else:
            await self._end(None)

    async def _result_kept(self) -> bool:
        """Whether the result went into the store although a timeout or cancel cut in after."""
        if self._storing is None:
            return False
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.shield(self._storing)
        done = self._storing.done() and not self._storing.cancelled()
        return done and self._storing.exception() is None

    async def _drive(self) -> None:
        pending = self._queued()
        if self.job is None and self._preface is not None:
            await self._send([])
        if self.job is not None:
            # Frames that came before the run (a peer's first round) go in with the open.
            early = [value for kind, value in pending if kind == "frame"]
            pending = [(kind, value) for kind, value in pending if kind != "frame"]
            for kind, value in pending:
                if kind == "fail":
                    raise value
            self._open = True   # before the call: a timeout during it must still abandon the run
            step = await self._call(worker.open_session, self.job, early)
            if await self._after(step):
                return
        while True:
            items = pending or [await self._inbox.get()]
            pending = []
            items += self._queued()
            frames = []
            for kind, value in items:
                if kind == "fail":
                    raise value
                if kind == "frame":
                    frames.append(value)
                elif self._note_outcome(*value):
                    return
            if frames and self.output is None \
                    and await self._after(await self._call(worker.deliver, self.id, frames)):
                return

    def _queued(self) -> list:
        items = []
        while not self._inbox.empty():
            items.append(self._inbox.get_nowait())
        return items

    async def _call(self, fn, *args):
        return await self.engine.slots.call(self.route, fn, *args)

    async def _after(self, step: worker.Step) -> bool:
        """Send what the step produced; True once this party has its result."""
        await self._send(step.sends)
        if step.needs_primes:
            return await self._after(await self._call(worker.give_primes, self.id,
                                                      await self._take_primes(step.needs_primes)))
        if step.state == "failed":
            self._open = False
            raise _Stop(*self._blame_error(step.blame))
        if step.state == "done":
            self._open = False
            self.output = step.output
            self._storing = asyncio.ensure_future(self.engine.keep_output(self, step.output))
            try:
                await asyncio.shield(self._storing)
            except NodeError as exc:   # a key of that id got stored first
                raise _Stop(exc, tell_others=True) from None
            return self._complete()
        return False

    def _complete(self) -> bool:
        """Whether this node is through: a keygen's coordinator also waits until every player
        reports its key stored, so a user who reads the key anywhere after the answer finds it."""
        if not (self.is_coordinator and self.proposal.protocol in m.KEYGENS):
            return True
        if any(o.result != self.output.public for o in self.outcomes.values()):
            raise _Stop(SessionFailed("participants report different public keys"))
        return all(peer in self.outcomes for peer in self.others)

    async def _take_primes(self, count: int) -> tuple[int, ...]:
        """Safe primes for the aux phase, taken only now that the keygen phase is done."""
        wait = max(0.0, self._deadline - time.monotonic()) / 2
        try:
            return tuple(await self.engine.prime_pool.take(count, wait))
        except Exception as exc:
            raise _Stop(Unavailable(f"no safe primes ready: {exc}", type="no_primes"),
                        tell_others=True) from None

    async def _send(self, sends: list[tuple[int, int | None, bytes]]) -> None:
        """Each peer's frames of one step (after the preface, the first time) in as few
        transport messages as ``m.batches`` allows."""
        mine = self.job.party if self.job is not None else None
        others = [p for party, p in self.peers.items() if party != mine]
        by_peer: dict[str, list[bytes]] = {}
        if self._preface is not None:
            for peer in others:
                by_peer[peer] = [self._preface]
            self._preface = None
        for phase, recipient, body in sends:
            payload = wire.encode(m.SessionFrame(self.id, phase, body))
            for peer in (others if recipient is None else [self.peers[recipient]]):
                by_peer.setdefault(peer, []).append(payload)
        await asyncio.gather(*(self._send_to(peer, message)
                               for peer, payloads in by_peer.items() for message in m.batches(payloads)))

    async def _send_to(self, peer: str, payload: bytes) -> None:
        try:
            await self.engine.transport.send(peer, payload, timeout=min(10.0, self.timeout))
        except TransportError:
            raise _Stop(unreachable(peer), tell_others=True) from None

    def _note_outcome(self, peer: str, outcome: m.Outcome) -> bool:
        """A participant's report to this coordinator; True when the session is complete here."""
        self.outcomes[peer] = outcome
        if not outcome.ok:
            kind = REPORTED_ERRORS.get(outcome.error_type, SessionFailed)
            raise _Stop(kind(f"peer {peer} failed: {outcome.error_message}"), outcome.blame)
        if self.participant:   # a participating coordinator finishes with its own result
            return self.output is not None and self._complete()
        if self.proposal.protocol in m.SIGNS:
            self.output = self.engine.check_signature(self, outcome.result)
            return self.output is not None
        publics = {o.result for o in self.outcomes.values()}
        if len(publics) > 1:
            raise _Stop(SessionFailed("participants report different public keys"))
        if len(self.outcomes) == len(self.proposal.participants):
            self.output = Output(public=publics.pop())
            return True
        return False

    def _blame_error(self, blame) -> tuple[NodeError, BlameRecord | None]:
        if blame is None:
            return SessionFailed("the session ended without a result"), None
        culprits, round_, check = blame
        peers = tuple(self.peers.get(p, str(p)) for p in culprits)
        record = BlameRecord(peers, round_, check[:1024])
        if not peers:
            return SessionFailed(f"session aborted in round {round_}: {check}"[:1024]), record
        text = f"round {round_}: {', '.join(peers)} blamed: {check}"[:1024]
        return SessionFailed(text, type="session_blame"), record

    async def _timeout_error(self) -> SessionTimeout:
        step = await self._abandon("timeout") if self._open else None
        if step is not None and step.state == "failed" and step.round:
            missing = [self.peers[p] for p in step.missing]
            where = f"round {step.round}"
        elif self.participant:
            # The run never opened here (the worker was busy) or is already gone.
            missing, where = [], "its worker (this node was too busy to start it)"
        else:
            missing = [p for p in self.proposal.participants
                       if p not in self.outcomes and p != self.engine.peer_id]
            where = "the outcome"
        return SessionTimeout(f"session {self.id} timed out after {self.timeout:.3g} s waiting in {where} "
                              f"for {', '.join(missing) or 'no one'}")

    async def _abandon(self, reason: str) -> worker.Step | None:
        """Erase this session's run in the worker (harmless when it is gone); None if the worker failed."""
        self._open = False
        try:
            return await asyncio.shield(self._call(worker.abandon, self.id, reason))
        except Exception as exc:   # a dead worker took the run (and its secrets) with it
            log.warning("session %s: could not abandon its run: %s", self.id, exc)
            return None

    async def _end(self, stop: _Stop | None) -> None:
        try:
            if self._open:   # a finished run already left its worker: no call needed
                await self._abandon("session ended")
            if stop is None:
                public = self.engine.public_of(self) if self.record.protocol == "keygen" else None
                await self.engine.keep_coordinated(self)
                await self.persist(state="done", public_key=public)
            else:
                self.error = stop.error
                log.warning("session %s failed: %s", self.id, stop.error.message)
                await self.persist(state="failed", error_type=stop.error.type,
                                   error_message=stop.error.message[:1024], blame=stop.blame)
        finally:
            self.job = None   # the share, presignature or primes it carried: gone from this process
            self.engine.ended(self)
            self.done.set()
        await self._report(stop)

    def _reports_to_coordinator(self, stop: _Stop | None) -> bool:
        """Whether this participant sends the coordinator an ``Outcome``. A coordinator that
        signs along has its own signature and reads only failures (one message per sign saved)."""
        if self.is_coordinator or not self.participant:
            return False
        return not (stop is None and self.proposal.protocol in m.SIGNS
                    and self.coordinator in self.proposal.participants)

    async def _report(self, stop: _Stop | None) -> None:
        if self._reports_to_coordinator(stop):
            if stop is None:
                outcome = m.Outcome(self.id, True, self._summary())
            else:
                outcome = m.Outcome(self.id, False, b"", stop.error.type, stop.error.message[:1024],
                                    stop.blame)
            await self.engine.send_quietly(self.coordinator, outcome)
        if stop is not None and stop.tell_others:
            refusal = m.Refusal(self.id, stop.error.type, stop.error.message[:1024])
            for peer in set(self.others) | ({self.coordinator} - {self.engine.peer_id}):
                await self.engine.send_quietly(peer, refusal)

    def _summary(self) -> bytes:
        return self.output.public if self.output is not None else b""

    async def persist(self, **changes) -> None:
        fields = {f: getattr(self.record, f) for f in self.record.__dataclass_fields__}
        fields.update(changes)
        self.record = SessionRecord(**fields)
        try:
            await self.engine.keys.put_session(self.record)
        except Exception:  # the store is down: the session still ends, in memory
            log.exception("cannot persist session %s", self.id)

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def closed(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)


__all__ = ["Session", "unreachable"]
