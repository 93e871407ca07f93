"""The proposing side of a session: build the proposal, sign it, send it, run or watch it.

The coordinator is the node whose API was called. When it is a participant it
goes through the same ``admission.prepare`` as everyone else (taking its own
pooled presignature there), so a proposal it could not itself accept is never sent.
ECDSA signing first tries a pooled presignature (one round); when the coordinator
has none, or a participant no longer has it, it signs with ``FullSign`` in a new
session and says so in the first session's record.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import TYPE_CHECKING

from daemon.errors import Conflict, NodeError, NotFound, SessionFailed, SessionTimeout, Unavailable
from daemon.p2p.transport import TransportError
from daemon.records import KeyRecord
from daemon.sessions import messages as m
from daemon.sessions.admission import Refused, prepare, timeout_for
from daemon.sessions.session import Session, unreachable
from protocol import wire
from protocol.cmp.signature import message_digest

if TYPE_CHECKING:
    from daemon.sessions.engine import SessionEngine

log = logging.getLogger("tssnet.sessions")

_REFUSAL_ERRORS = {"key_id_exists": Conflict, "key_id_not_exists": NotFound, "no_primes": Unavailable,
                   "not_a_key_holder": Conflict, "pool_full": Conflict, "busy": Unavailable}


def new_session_id() -> str:
    return secrets.token_hex(16)


def _proposal(engine: SessionEngine, protocol: str, key_id: str, participants: tuple[str, ...],
              threshold: int, **fields) -> m.Proposal:
    deadline = time.time() + timeout_for(engine, protocol)
    return m.Proposal(session_id=new_session_id(), protocol=protocol, coordinator=engine.peer_id,
                      key_id=key_id, participants=participants, threshold=threshold,
                      suite=fields.pop("suite", ""), paillier_bits=engine.config.paillier_bits,
                      epoch=fields.pop("epoch", 0), deadline_ms=int(deadline * 1000), **fields)


def _as_error(refused: Refused) -> NodeError:
    return _REFUSAL_ERRORS.get(refused.code, SessionFailed)(refused.reason, type=refused.code)


async def open_session(engine: SessionEngine, proposal: m.Proposal, key: KeyRecord | None = None) -> Session:
    """Propose and start a session; raises Refused when this node, a participant, cannot join."""
    if not engine.running:
        raise Unavailable("the node is shutting down")
    if engine.peer_id in proposal.participants:
        peers, job = await prepare(engine, proposal)
    else:
        job = None
        if key is None:
            peers = {i + 1: p for i, p in enumerate(proposal.participants)}
        else:
            peers = dict(sorted((key.party_of(p), p) for p in proposal.participants))
    session = Session(engine, proposal, peers=peers, job=job, timeout=timeout_for(engine, proposal.protocol))
    session.key = key
    engine.add(session)
    payload = wire.encode(m.sign_proposal(engine.signer, proposal))
    if job is not None and proposal.protocol in m.ONE_ROUND_SIGNS:
        # Opening a one-round run takes a millisecond: the proposal waits for this party's
        # share and goes with it, one transport message per signer instead of two.
        session.launch([], preface=payload)
        return session
    others = [p for p in proposal.participants if p != engine.peer_id]
    results = await asyncio.gather(*(engine.transport.send(p, payload, timeout=5.0) for p in others),
                                   return_exceptions=True)
    session.launch([])
    for peer, result in zip(others, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, TransportError):
                log.error("session %s: sending the proposal to %s failed: %r", session.id, peer, result)
            session.fail(unreachable(peer), tell_others=True)
            break
    return session


async def start_keygen(engine: SessionEngine, *, scheme: str, participants: tuple[str, ...],
                       threshold: int, key_id: str) -> Session:
    protocol = m.CMP_KEYGEN if scheme == "ecdsa" else m.FROST_KEYGEN
    suite = {"ecdsa": "", "eddsa": "ed25519", "schnorr": "bip340"}[scheme]
    proposal = _proposal(engine, protocol, key_id, participants, threshold, suite=suite)
    try:
        if engine.peer_id not in participants:   # a player reserves it in prepare
            engine.reserve_key_id(key_id, proposal.session_id)
        return await open_session(engine, proposal)
    except Refused as refused:
        engine.release_key_id(key_id, proposal.session_id)
        raise _as_error(refused) from None
    except BaseException:
        engine.release_key_id(key_id, proposal.session_id)
        raise


def _require_holder(engine: SessionEngine, key: KeyRecord) -> None:
    if key.party_of(engine.peer_id) is None:
        raise Conflict(f"this node holds no share of key {key.key_id!r}: ask a holder",
                       type="not_a_key_holder")


async def finished(session: Session) -> Session:
    """The session once it ended; SessionTimeout if it has not by its deadline (its end hangs)."""
    await session.wait()
    if not session.done.is_set():
        raise SessionTimeout(f"session {session.id} did not end by its deadline")
    return session


async def presign(engine: SessionEngine, key: KeyRecord, signers: tuple[str, ...]) -> Session:
    _require_holder(engine, key)
    proposal = _proposal(engine, m.CMP_PRESIGN, key.key_id, signers, key.threshold, epoch=key.epoch)
    try:
        return await open_session(engine, proposal, key)
    except Refused as refused:
        raise _as_error(refused) from None


async def sign(engine: SessionEngine, key: KeyRecord, signers: tuple[str, ...], *, message: bytes | None,
               hash_name: str | None, digest: bytes | None, path: str | None) -> Session:
    """Run a signing session to its end (pooled presignature first for ECDSA messages)."""
    _require_holder(engine, key)
    common = {"epoch": key.epoch, "path": path or ""}
    if key.scheme != "ecdsa":
        suite = "ed25519" if key.scheme == "eddsa" else "bip340"
        proposal = _proposal(engine, m.FROST_SIGN, key.key_id, signers, key.threshold, suite=suite,
                             message=message, hash=hash_name or "", digest=digest, **common)
        return await _run(engine, proposal, key)
    if message is not None:
        pooled = await _sign_pooled(engine, key, signers, message, hash_name, common)
        if pooled is not None and (pooled.error is None or pooled.error.type != "presignature_missing"):
            return pooled
        digest = message_digest(message, hash_name)
        proposal = _proposal(engine, m.CMP_FULLSIGN, key.key_id, signers, key.threshold,
                             digest=digest, **common)
        session = await _run(engine, proposal, key)
        if pooled is not None:
            await pooled.persist(error_message=f"{pooled.error.message}; signed instead by full "
                                               f"signing session {session.id}"[:1024])
        return session
    proposal = _proposal(engine, m.CMP_FULLSIGN, key.key_id, signers, key.threshold, digest=digest,
                         **common)
    return await _run(engine, proposal, key)


async def _sign_pooled(engine: SessionEngine, key: KeyRecord, signers: tuple[str, ...], message: bytes,
                       hash_name: str, common: dict) -> Session | None:
    """A finished one-round session on a pooled presignature, or None when this node has none left."""
    parties = tuple(sorted(key.party_of(p) for p in signers))
    if engine.peer_id not in signers:
        return None
    for presign_id in await engine.keys.presign_ids(key.key_id, key.epoch, parties):
        proposal = _proposal(engine, m.CMP_SIGN, key.key_id, signers, key.threshold,
                             presign_id=presign_id, message=message, hash=hash_name, **common)
        try:
            session = await open_session(engine, proposal, key)
        except Refused as refused:
            if refused.code == "presignature_missing":
                continue   # another sign here took it first: try the next one
            raise _as_error(refused) from None
        engine.pool.kick()
        await finished(session)
        if session.error is not None and session.error.type == "presignature_missing":
            log.info("session %s: a signer lacks presignature %s; falling back to a full signing session",
                     session.id, presign_id.hex()[:16])
        return session
    return None


async def _run(engine: SessionEngine, proposal: m.Proposal, key: KeyRecord) -> Session:
    try:
        session = await open_session(engine, proposal, key)
    except Refused as refused:
        raise _as_error(refused) from None
    return await finished(session)


__all__ = ["finished", "new_session_id", "open_session", "presign", "sign", "start_keygen"]
