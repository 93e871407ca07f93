"""Whether this node takes part in a proposed session, and with what.

``authentic`` decides whether a proposal deserves an answer at all: it must come
from its coordinator, a validator, signed with that validator's identity key, for
a session id never seen here (a replay is dropped). ``prepare`` then checks the
proposal's meaning against this node's state and builds the worker ``Job``; any
failed check raises ``Refused``, which is sent back with its reason. The
coordinator runs its own proposal through ``prepare`` too, so both sides apply the
same rules, and a pooled presignature is taken (deleted from the store) here,
before anything is computed from it.

Membership is the directory's (``daemon.membership``): with a ledger, the set of this
node's ledger, with the identity keys the ledger holds (``ValidatorDirectory.get``). A proposal whose coordinator
this node does not count as a validator is dropped; one naming a participant it does
not count is refused with ``not_a_validator``, which is retryable: nodes at different
ledger heights can disagree for a moment around a validator change.

Only a holder of a key may coordinate its presign and sign sessions: a validator
without a share must not get the holders to sign what it likes. A keygen reserves
its key id in the engine until it ends, so a second keygen of that id is refused
while the first runs (and the key write refuses it after). Safe primes are not
taken here but when the keygen's aux phase starts (``worker.Step.needs_primes``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from daemon.records import KeyRecord, valid_key_id, valid_session_id
from daemon.sessions import messages as m
from daemon.sessions.machines import Job
from protocol.cmp.signature import HASHES, message_digest
from protocol.errors import UsageError
from protocol.hd import parse_path
from protocol.parties import MAX_PARTIES

if TYPE_CHECKING:
    from daemon.sessions.engine import SessionEngine

#: how far past its timeout a proposal's deadline may lie (clocks differ a little)
DEADLINE_SLACK = 30.0
#: presignatures a pool may hold beyond ``presign_pool_size`` (explicit presign requests)
PRESIGN_MARGIN = 100


class Refused(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def timeout_for(engine: SessionEngine, protocol: str) -> float:
    config = engine.config
    return config.keygen_timeout if protocol in m.KEYGENS else config.session_timeout


async def authentic(engine: SessionEngine, peer: str, signed: m.SignedProposal) -> bool:
    proposal = signed.proposal
    directory = engine.directory
    if peer != proposal.coordinator or not directory.is_member(peer):
        return False
    if not valid_session_id(proposal.session_id):
        return False
    record = directory.get(peer)
    if record is None or not m.proposal_signed_by(record.identity_key, signed):
        return False
    return not await engine.seen(proposal.session_id)


def _require(condition: bool, reason: str, code: str = "bad_proposal") -> None:
    if not condition:
        raise Refused(code, reason)


def frost_message(proposal: m.Proposal) -> bytes:
    """What FROST signs: Ed25519 the message bytes; BIP340 a 32-byte digest."""
    if proposal.suite == "ed25519":
        _require(proposal.message is not None and proposal.hash in ("", "none"),
                 "Ed25519 signs a message with no hash")
        return proposal.message
    if proposal.digest is not None:
        return proposal.digest
    _require(proposal.message is not None, "nothing to sign")
    if proposal.hash in ("", "none"):
        _require(len(proposal.message) == 32, "BIP340 signs 32 bytes")
        return proposal.message
    _require(proposal.hash in HASHES, f"unknown hash {proposal.hash!r}")
    return message_digest(proposal.message, proposal.hash)


async def prepare(engine: SessionEngine, proposal: m.Proposal) -> tuple[dict[int, str], Job]:
    """(party -> peer id, this node's job) for an authentic proposal; Refused when it cannot join."""
    now = time.time()
    timeout = timeout_for(engine, proposal.protocol)
    _require(proposal.protocol in m.PROTOCOLS, f"unknown protocol {proposal.protocol!r}")
    _require(now * 1000 < proposal.deadline_ms <= (now + timeout + DEADLINE_SLACK) * 1000,
             "the deadline is past or too far ahead")
    participants = proposal.participants
    _require(len(set(participants)) == len(participants) <= MAX_PARTIES, "participants repeat")
    strangers = [p for p in participants if not engine.directory.is_member(p)]
    _require(not strangers, f"{', '.join(s[:64] for s in strangers[:3])} is not a validator here; "
             "retry once the validators' ledgers agree", "not_a_validator")
    _require(engine.peer_id in participants, "this node is not a participant")
    if proposal.protocol in m.KEYGENS:
        peers = {i + 1: peer for i, peer in enumerate(participants)}
        return peers, await _keygen_job(engine, proposal, peers)
    key = await engine.keys.key_record(proposal.key_id)
    secret = await engine.keys.share(proposal.key_id) if key is not None else None
    _require(key is not None and secret is not None, f"no share of key {proposal.key_id!r} here",
             "key_id_not_exists")
    _require(key.party_of(proposal.coordinator) is not None,
             f"the coordinator {proposal.coordinator} holds no share of key {key.key_id!r}",
             "not_a_key_holder")
    _require(key.epoch == proposal.epoch, "the key's epoch differs")
    parties = [key.party_of(p) for p in participants]
    _require(None not in parties, "a participant holds no share of the key")
    peers = dict(sorted(zip(parties, participants, strict=True)))
    job = Job(session_id=proposal.session_id, protocol=proposal.protocol, party=key.party,
              parties=tuple(peers), identity_keys=_identity_keys(engine, peers),
              key_id=key.key_id, threshold=key.threshold, secret=secret, level=engine.level,
              path=proposal.path or None, deadline=proposal.deadline_ms / 1000)
    return peers, await _signing_job(engine, proposal, key, job)


async def _keygen_job(engine: SessionEngine, proposal: m.Proposal, peers: dict[int, str]) -> Job:
    n = len(peers)
    _require(1 <= proposal.threshold < n, "the threshold must be in [1, n)")
    _require(valid_key_id(proposal.key_id), "invalid key id")
    if proposal.protocol == m.CMP_KEYGEN:
        _require(proposal.paillier_bits == engine.config.paillier_bits, "another Paillier modulus size")
    else:
        _require(proposal.suite in ("ed25519", "bip340"), f"unknown suite {proposal.suite!r}")
    identity_keys = _identity_keys(engine, peers)
    _require(await engine.keys.key_record(proposal.key_id) is None,
             f"a key with id {proposal.key_id!r} exists here", "key_id_exists")
    engine.reserve_key_id(proposal.key_id, proposal.session_id)   # the last check: nothing awaits after
    party = list(peers.values()).index(engine.peer_id) + 1
    return Job(session_id=proposal.session_id, protocol=proposal.protocol, party=party,
               parties=tuple(peers), identity_keys=identity_keys,
               key_id=proposal.key_id, threshold=proposal.threshold, suite=proposal.suite,
               paillier_bits=proposal.paillier_bits, level=engine.level,
               deadline=proposal.deadline_ms / 1000)


async def _signing_job(engine: SessionEngine, proposal: m.Proposal, key: KeyRecord, job: Job) -> Job:
    t, signers = key.threshold, job.parties
    if proposal.path:
        try:
            parse_path(proposal.path)
        except UsageError as exc:
            raise Refused("bad_proposal", str(exc)) from None
    if key.scheme != "ecdsa":
        _require(proposal.protocol == m.FROST_SIGN and key.curve == _curve(proposal.suite),
                 "the key is not a FROST key of this suite")
        _require(len(signers) >= t + 1, "too few signers")
        return replace(job, suite=proposal.suite, message=frost_message(proposal))
    _require(proposal.protocol in (m.CMP_PRESIGN, m.CMP_SIGN, m.CMP_FULLSIGN), "not an ECDSA protocol")
    _require(len(signers) == t + 1, f"ECDSA signs with exactly {t + 1} signers")
    if proposal.protocol == m.CMP_FULLSIGN:
        _require(proposal.digest is not None, "a full signing session signs a digest")
        return replace(job, digest=proposal.digest)
    if proposal.protocol == m.CMP_PRESIGN:
        limit = engine.config.presign_pool_size + PRESIGN_MARGIN
        ready = await engine.keys.presign_ids(key.key_id, key.epoch, signers)
        _require(len(ready) < limit, f"the presignature pool of these signers is full ({limit})",
                 "pool_full")
    if proposal.protocol == m.CMP_SIGN:
        _require(proposal.message is not None and proposal.hash in HASHES,
                 "signing with a presignature needs a message and its hash")
        presignature = await engine.keys.take_presignature(key.key_id, key.epoch, signers,
                                                           proposal.presign_id)
        _require(presignature is not None, "the presignature is not available here",
                 "presignature_missing")
        return replace(job, presignature=presignature, message=proposal.message, hash=proposal.hash)
    return job


def _curve(suite: str) -> str:
    return "ed25519" if suite == "ed25519" else "secp256k1"


def _identity_keys(engine: SessionEngine, peers: dict[int, str]) -> tuple[bytes, ...]:
    keys = []
    for peer in peers.values():
        record = engine.directory.get(peer)
        _require(record is not None, f"peer {peer} is not a validator", "not_a_validator")
        keys.append(record.identity_key)
    return tuple(keys)


__all__ = ["DEADLINE_SLACK", "PRESIGN_MARGIN", "Refused", "authentic", "frost_message", "prepare",
           "timeout_for"]
