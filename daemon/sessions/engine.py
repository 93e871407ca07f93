"""The node's session engine: every session this node coordinates or takes part in.

It receives the session messages (``daemon.sessions.messages``) through the
router, admits proposals (``admission``), keeps frames that arrive before their
proposal (``early``), runs each session (``session``) on the worker slots
(``workers``) and stores what sessions produce (``keystore``). ``coordinator``
holds the proposing side; ``pool`` keeps presignatures ready.

    engine = SessionEngine(config=..., identity=..., store=..., sealer=..., transport=...,
                           directory=..., router=..., prime_pool=...)
    await engine.start()
    ...
    await engine.stop()
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable

from daemon.errors import SessionFailed
from daemon.p2p.transport import TransportError
from daemon.records import SCHEMA, CoordinatedKey, KeyRecord
from daemon.sessions import messages as m
from daemon.sessions import signatures
from daemon.sessions.admission import DEADLINE_SLACK, Refused, authentic, prepare, timeout_for
from daemon.sessions.early import EarlyFrames
from daemon.sessions.keystore import KeyStore
from daemon.sessions.machines import Output
from daemon.sessions.pool import PresignPool
from daemon.sessions.session import Session
from daemon.sessions.workers import WorkerFailed, WorkerSlots
from daemon.tasks import cancel_and_wait
from protocol import wire
from protocol.errors import EncodingError
from protocol.params import DEFAULT_LEVEL, SecurityLevel

log = logging.getLogger("tssnet.sessions")

#: sessions kept in memory (live ones always; finished ones stay readable from the store)
MAX_SESSIONS_KEPT = 1000
#: live sessions at most, in all and per coordinator; proposals being admitted at most
MAX_LIVE_SESSIONS = 512
MAX_LIVE_PER_COORDINATOR = 64
MAX_ADMITTING = 256
#: finished session records are pruned past this age, and beyond this many
RECORD_MAX_AGE_S = 24 * 3600.0
MAX_RECORDS_KEPT = 10_000
PRUNE_SECONDS = 3600.0
#: error types a refusing peer may name; anything else shows as ``session_refused``
PASSED_ON = {"presignature_missing", "peer_unreachable", "key_id_exists", "key_id_not_exists",
             "not_a_key_holder", "pool_full", "busy", "no_primes"}
SCHEMES = {m.CMP_KEYGEN: ("ecdsa", "secp256k1"), "ed25519": ("eddsa", "ed25519"),
           "bip340": ("schnorr", "secp256k1")}


class SessionEngine:
    def __init__(self, *, config, identity, store, sealer, transport, directory, router, prime_pool,
                 processes: bool = True, level: SecurityLevel = DEFAULT_LEVEL,
                 on_key_created: Callable[[KeyRecord], None] | None = None) -> None:
        """``processes`` False runs the workers as threads (tests); ``level`` must match every node's.

        ``on_key_created(record)`` is called once per new key, at the keygen's coordinator
        (or at party 1 when the coordinator holds no share), right after the key is stored;
        it must not block, and its failure never fails the keygen.
        """
        self.config = config
        self.peer_id: str = identity.peer_id
        self.signer = identity.signer()
        self.transport = transport
        self.directory = directory
        self.prime_pool = prime_pool
        self.level = level
        self.keys = KeyStore(store, sealer)
        self.slots = WorkerSlots(seed=identity.seed, count=config.workers, processes=processes)
        self.slots.on_broken = self._slot_broken
        self.pool = PresignPool(self)
        #: counters of what peers sent that was dropped or refused (tests and logs read them)
        self.stats: Counter[str] = Counter()
        self._router = router
        self._sessions: dict[str, Session] = {}
        self._live: dict[str, str] = {}          # live session id -> its coordinator
        self._keygen_ids: dict[str, str] = {}    # key id -> the keygen session reserving it
        self._claimed: set[str] = set()
        self._refused: set[str] = set()
        self._admitting: set[asyncio.Task] = set()
        self._early = EarlyFrames()
        self._pruner: asyncio.Task | None = None
        self._running = False
        self._on_key_created = on_key_created

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        for record in await self.keys.sessions():
            if record.state in ("pending", "running"):
                fields = {f: getattr(record, f) for f in record.__dataclass_fields__}
                fields.update(state="failed", error_type="session_failed",
                              error_message="interrupted by a restart")
                await self.keys.put_session(type(record)(**fields))
        # A presignature must never sign twice, and the store cannot promise it after a
        # rollback (a restored node.db, a Redis failover losing the last takes): one a
        # rolled-back store gives out again would sign a second message with the same
        # nonce and leak the key. So none survives a restart; the pool refills.
        dropped = await self.keys.delete_all_presignatures()
        if dropped:
            log.info("deleted %d stored presignatures at start (a restart never reuses one)", dropped)
        await self._prune()
        await self.slots.start()
        for cls, handler in self._handlers().items():
            self._router.register(cls, handler)
        self._router.register(m.Batch, self._on_batch)
        self._running = True
        self.pool.start()
        self._pruner = asyncio.get_running_loop().create_task(self._prune_forever(), name="session-prune")

    async def stop(self) -> None:
        self._running = False
        await cancel_and_wait([self._pruner])
        await self.pool.stop()
        for task in list(self._admitting):
            task.cancel()
        await asyncio.gather(*self._admitting, return_exceptions=True)
        sessions = list(self._sessions.values())
        for session in sessions:
            session.cancel()
        await asyncio.gather(*(s.closed() for s in sessions), return_exceptions=True)
        await self.slots.stop()

    @property
    def running(self) -> bool:
        return self._running

    def live_sessions(self) -> int:
        """How many sessions are running here now."""
        return len(self._live)

    async def _prune(self) -> None:
        replay_window = max(self.config.keygen_timeout, self.config.session_timeout) + DEADLINE_SLACK
        try:
            pruned = await self.keys.prune_sessions(
                now_ms=int(time.time() * 1000), max_age_ms=int(RECORD_MAX_AGE_S * 1000),
                keep=MAX_RECORDS_KEPT, replay_window_ms=int(replay_window * 1000))
        except Exception:   # the store is down: try again at the next round
            log.exception("pruning session records failed")
            return
        if pruned:
            log.info("pruned %d finished session records", pruned)

    async def _prune_forever(self) -> None:
        while True:
            await asyncio.sleep(PRUNE_SECONDS)
            await self._prune()

    # -- sessions ---------------------------------------------------------------------------

    async def seen(self, session_id: str) -> bool:
        return (session_id in self._claimed or session_id in self._sessions
                or await self.keys.session(session_id) is not None)

    def session(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def reserve_key_id(self, key_id: str, session_id: str) -> None:
        """Claim ``key_id`` for a keygen until it ends; Refused ``key_id_exists`` while another runs."""
        holder = self._keygen_ids.setdefault(key_id, session_id)
        if holder != session_id:
            raise Refused("key_id_exists", f"a keygen of key id {key_id!r} is already running here "
                                           f"(session {holder})")

    def release_key_id(self, key_id: str, session_id: str) -> None:
        if self._keygen_ids.get(key_id) == session_id:
            del self._keygen_ids[key_id]

    def ended(self, session: Session) -> None:
        """A session's end: its key id reservation and its place among the live ones are free."""
        self._live.pop(session.id, None)
        if session.proposal.protocol in m.KEYGENS:
            self.release_key_id(session.proposal.key_id, session.id)

    def _slot_broken(self, index: int) -> None:
        for session in list(self._sessions.values()):
            if session.participant and session.slot == index and not session.done.is_set():
                session.fail(WorkerFailed("the worker process running this session died"),
                             tell_others=True)

    def add(self, session: Session) -> None:
        if len(self._sessions) >= MAX_SESSIONS_KEPT:
            # Finished sessions stay readable (and known, against replays) from the store;
            # memory keeps the live ones.
            finished = [sid for sid, s in self._sessions.items() if s.done.is_set()]
            for sid in finished:
                del self._sessions[sid]
            self._claimed.difference_update(finished)
        self._claimed.add(session.id)
        self._sessions[session.id] = session
        self._live[session.id] = session.coordinator

    def check_capacity(self, coordinator: str) -> None:
        """Refused ``busy`` when this node runs too many sessions, or too many of ``coordinator``."""
        if len(self._live) >= MAX_LIVE_SESSIONS:
            raise Refused("busy", f"this node runs {len(self._live)} sessions; try again shortly")
        if sum(1 for c in self._live.values() if c == coordinator) >= MAX_LIVE_PER_COORDINATOR:
            raise Refused("busy", f"{coordinator} already coordinates {MAX_LIVE_PER_COORDINATOR} "
                                  "sessions running here")

    async def send_quietly(self, peer: str, message) -> bool:
        try:
            await self.transport.send(peer, wire.encode(message), timeout=5.0)
        except TransportError as exc:
            log.info("could not tell %s about a session: %s", peer, exc)
            return False
        return True

    # -- what sessions produce ------------------------------------------------------------------

    async def keep_output(self, session: Session, output: Output) -> None:
        """Store a participant's result: a new key (meta and sealed share in one write), a presignature."""
        p = session.proposal
        if p.protocol in m.KEYGENS:
            scheme, curve = SCHEMES[p.protocol if p.protocol == m.CMP_KEYGEN else p.suite]
            record = KeyRecord(SCHEMA, p.key_id, scheme, curve, p.threshold, p.participants,
                               session.job.party, output.public, output.chain_code, 0,
                               int(time.time() * 1000), output.certificate, p.session_id)
            await self.keys.put_key(record, output.secret)
            self.pool.kick()
            if self._on_key_created is not None and self._announces(session):
                try:
                    self._on_key_created(record)
                except Exception:  # the key is stored: whatever the hook does, the keygen stands
                    log.exception("session %s: the new-key hook failed for key %s", session.id, p.key_id)
        elif p.protocol == m.CMP_PRESIGN:
            await self.keys.put_presignature(p.key_id, p.epoch, session.job.parties, output.public,
                                             output.secret)
        elif p.protocol == m.CMP_SIGN:
            self.pool.kick()   # a pool lost one; the node whose preferred set it is refills it
        output.secret = b""   # sealed in the store now; no second copy in memory

    def _announces(self, session: Session) -> bool:
        """One participant per keygen tells the hook: the coordinator, or party 1 without it."""
        p = session.proposal
        return session.is_coordinator or (p.coordinator not in p.participants and session.job.party == 1)

    async def keep_coordinated(self, session: Session) -> None:
        """What a finished keygen made, kept by its coordinator when it is not a player (no share)."""
        p = session.proposal
        if p.protocol not in m.KEYGENS or session.participant or session.output is None:
            return
        scheme, curve = SCHEMES[p.protocol if p.protocol == m.CMP_KEYGEN else p.suite]
        try:
            await self.keys.put_coordinated(CoordinatedKey(p.key_id, scheme, curve, p.threshold,
                                                           p.participants, session.output.public,
                                                           session.record.created_ms, p.session_id))
        except Exception:   # the store is down: the keygen stands, only this view of it is lost
            log.exception("session %s: cannot keep the key it coordinated", session.id)

    def public_of(self, session: Session) -> bytes | None:
        """A finished keygen's public key as users see it (x-only for BIP340)."""
        if session.output is None:
            return None
        scheme = SCHEMES[m.CMP_KEYGEN if session.proposal.protocol == m.CMP_KEYGEN
                         else session.proposal.suite][0]
        return signatures.display_key(scheme, session.output.public)

    def check_signature(self, session: Session, signature: bytes) -> Output | None:
        """A participant's reported signature, if it verifies (a coordinator without a share)."""
        key = getattr(session, "key", None)
        if key is None or not signatures.verifies(key, session.proposal, signature):
            log.warning("session %s: a participant reported a signature that does not verify", session.id)
            return None
        return Output(public=signature)

    # -- incoming messages --------------------------------------------------------------------

    def _handlers(self) -> dict:
        return {m.SignedProposal: self._on_proposal, m.Refusal: self._on_refusal,
                m.SessionFrame: self._on_frame, m.Outcome: self._on_outcome}

    async def _on_batch(self, peer: str, batch: m.Batch) -> None:
        """Each part as if it had come on its own, in order; a malformed part ends the batch."""
        handlers = self._handlers()
        for part in batch.parts:
            try:
                message = wire.decode_one_of(part, m.MESSAGES)
            except EncodingError as exc:
                self.stats["batches_dropped"] += 1
                log.warning("dropped the rest of a batch from %s: %s", peer, exc)
                return
            await handlers[type(message)](peer, message)

    async def _on_proposal(self, peer: str, signed: m.SignedProposal) -> None:
        # Admission waits on the store; the transport's delivery of every other message
        # must not wait behind it.
        if not self._running:
            return
        if len(self._admitting) >= MAX_ADMITTING:
            self.stats["proposals_dropped"] += 1
            log.warning("dropped a proposal from %s: %d proposals already being admitted",
                        peer, len(self._admitting))
            return
        task = asyncio.get_running_loop().create_task(self._admit(peer, signed))
        self._admitting.add(task)
        task.add_done_callback(self._admitting.discard)

    async def _admit(self, peer: str, signed: m.SignedProposal) -> None:
        proposal = signed.proposal
        if not self._running or not await authentic(self, peer, signed):
            self.stats["proposals_dropped"] += 1
            log.warning("dropped a proposal for session %s from %s: not authentic or replayed",
                        proposal.session_id, peer)
            return
        if proposal.session_id in self._claimed:
            return
        self._claimed.add(proposal.session_id)
        try:
            self.check_capacity(proposal.coordinator)
            peers, job = await prepare(self, proposal)
        except Refused as refused:
            await self._refuse(proposal, refused)
            return
        except Exception as exc:   # a bug or a store failure: refuse with a reason, never die silently
            log.exception("admitting session %s from %s failed", proposal.session_id, peer)
            await self._refuse(proposal, Refused("admission_failed",
                                                 f"this node could not admit the session: {type(exc).__name__}"))
            return
        session = Session(self, proposal, peers=peers, job=job,
                          timeout=self._timeout(proposal))
        self.add(session)
        session.launch(self._early.take(proposal.session_id))

    def _timeout(self, proposal: m.Proposal) -> float:
        left = proposal.deadline_ms / 1000 - time.time()
        return max(0.1, min(timeout_for(self, proposal.protocol), left))

    async def _refuse(self, proposal: m.Proposal, refused: Refused) -> None:
        self.stats["proposals_refused"] += 1
        self.release_key_id(proposal.key_id, proposal.session_id)
        log.info("refused session %s from %s: %s", proposal.session_id, proposal.coordinator,
                 refused.reason)
        if len(self._refused) >= MAX_SESSIONS_KEPT:
            # Both sets only answer quickly; the stored records keep refusing replays.
            self._claimed.difference_update(self._refused)
            self._refused.clear()
        self._refused.add(proposal.session_id)
        self._early.take(proposal.session_id)
        session = Session(self, proposal, peers={}, job=None, timeout=0)
        await session.persist(state="failed", error_type=refused.code, error_message=refused.reason)
        message = m.Refusal(proposal.session_id, refused.code, refused.reason[:1024])
        for other in {proposal.coordinator, *proposal.participants} - {self.peer_id}:
            await self.send_quietly(other, message)

    async def _on_refusal(self, peer: str, refusal: m.Refusal) -> None:
        session = self._sessions.get(refusal.session_id)
        if session is None or session.done.is_set():
            return
        if peer not in session.party_of and peer != session.coordinator:
            return
        kind = refusal.code if refusal.code in PASSED_ON else "session_refused"
        session.fail(SessionFailed(f"peer {peer} refused: {refusal.reason}", type=kind))

    async def _on_frame(self, peer: str, frame: m.SessionFrame) -> None:
        session = self._sessions.get(frame.session_id)
        if session is not None:
            session.frame(peer, frame.phase, frame.body)
        elif (frame.session_id not in self._refused and self._running
              and not self._early.keep(frame.session_id, peer, frame.phase, frame.body)):
            log.warning("dropped an early frame from %s: over its buffer bounds", peer)

    async def _on_outcome(self, peer: str, outcome: m.Outcome) -> None:
        session = self._sessions.get(outcome.session_id)
        if session is not None:
            session.outcome(peer, outcome)


__all__ = ["SessionEngine"]
