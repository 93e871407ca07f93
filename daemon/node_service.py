"""``LocalNodeService``: the node's answer to every API call (daemon.service.NodeService).

It checks what a request means (a threshold the players can meet, a key this node
holds, a path that derives, a hash the scheme takes), raising BadRequest before
anything changes, then hands the work to the session engine. The seed project's
mailbox calls go to ``daemon.mailbox``; ledger reads go to the node's ``LedgerNode``,
when it runs one.
"""

from __future__ import annotations

import secrets

from daemon import ers_export
from daemon.errors import (
    BadRequest,
    Conflict,
    NodeError,
    Unavailable,
    key_not_found,
    session_not_found,
)
from daemon.ledger_node import LedgerNode
from daemon.ledger_wire import block_view
from daemon.records import (
    MAX_PARTICIPANTS,
    CoordinatedKey,
    KeyRecord,
    SessionRecord,
    valid_key_id,
    valid_session_id,
)
from daemon.service import (
    HASHES,
    SCHEMES,
    BlameView,
    CandidateView,
    ErrorView,
    KeygenRequest,
    KeyView,
    Player,
    PresignView,
    PublicKeyView,
    SessionView,
    SignatureView,
    SignRequest,
    UserMessage,
    ValidatorChangeRequest,
    ValidatorView,
)
from daemon.sessions import coordinator, signatures, worker
from daemon.sessions.pool import member_signers, non_member_holders
from protocol.frost.sign import MAX_MESSAGE

VERSION = "0.1.0"
MAX_PRESIGN_COUNT = 100
DIGEST_SIZE = 32


class LocalNodeService:
    def __init__(self, *, engine, directory, mailbox, ledger: LedgerNode | None = None,
                 version: str = VERSION, changes=None) -> None:
        """``ledger`` None: this node runs no ledger, and the ledger calls say so (409).
        ``changes``: the node's ``daemon.validator_changes.ValidatorChanges`` (with a ledger)."""
        self._engine = engine
        self._directory = directory
        self._mailbox = mailbox
        self._ledger = ledger
        self._version = version
        self._changes = changes
        self.peer_id: str = engine.peer_id

    # -- keygen and sessions ------------------------------------------------------------------

    async def start_keygen(self, request: KeygenRequest) -> str:
        scheme = request.scheme
        if scheme not in SCHEMES:
            raise BadRequest(f"unknown scheme {scheme!r}; known: {', '.join(SCHEMES)}")
        curve = request.curve or SCHEMES[scheme][0]
        if curve not in SCHEMES[scheme]:
            raise BadRequest(f"scheme {scheme} runs on {', '.join(SCHEMES[scheme])}, not {curve!r}")
        players = self._players(request.players) if request.players is not None \
            else tuple(r.peer_id for r in self._directory.members())
        n = len(players)
        if not 2 <= n <= MAX_PARTICIPANTS:
            raise BadRequest(f"a key needs 2..{MAX_PARTICIPANTS} distinct players, got {n}")
        threshold = request.threshold if request.threshold is not None else max(1, (n - 1) // 2)
        if not _is_int(threshold) or not 1 <= threshold < n:
            raise BadRequest(f"threshold must be an integer in [1, {n - 1}] for {n} players")
        key_id = request.key_id if request.key_id is not None else "k" + secrets.token_hex(12)
        if not valid_key_id(key_id):
            raise BadRequest("key_id is 1..64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit")
        keys = self._engine.keys
        if await keys.key_record(key_id) is not None or await keys.coordinated(key_id) is not None:
            raise Conflict(f"a key with id {key_id!r} already exists", type="key_id_exists")
        self._require_running()
        session = await coordinator.start_keygen(self._engine, scheme=scheme, participants=players,
                                                 threshold=threshold, key_id=key_id)
        return session.id

    async def session(self, session_id: str) -> SessionView:
        live = self._engine.session(session_id)
        record = live.record if live is not None else await self._stored_session(session_id)
        return _session_view(record)

    async def wait_session(self, session_id: str, timeout: float) -> SessionView:
        live = self._engine.session(session_id)
        if live is not None:
            await live.wait(max(0.0, timeout))
        return await self.session(session_id)

    async def _stored_session(self, session_id: str) -> SessionRecord:
        record = None
        if valid_session_id(session_id):
            record = await self._engine.keys.session(session_id)
        if record is None:
            raise session_not_found(session_id)
        return record

    # -- validators and keys ------------------------------------------------------------------

    async def validators(self) -> list[ValidatorView]:
        return [ValidatorView(**self._peer_fields(r), index=i) for i, r in enumerate(self._directory.members())]

    async def candidates(self) -> list[CandidateView]:
        return [CandidateView(**self._peer_fields(r)) for r in self._directory.candidates()]

    def _peer_fields(self, r) -> dict:
        mine = r.peer_id == self.peer_id
        return dict(peer_id=r.peer_id, identity_key=r.identity_key.hex(), addrs=tuple(r.addrs),
                    http_url=r.http_url or None, online=mine or self._directory.online(r.peer_id),
                    is_self=mine)

    async def propose_validator_change(self, request: ValidatorChangeRequest) -> dict:
        return await self._running_changes().propose(list(request.add), list(request.remove),
                                                     request.nonce)

    async def validator_changes(self) -> list[dict]:
        return self._running_changes().list()

    async def withdraw_validator_change(self, change_id: str) -> dict:
        return await self._running_changes().withdraw(change_id)

    def _running_changes(self):
        if self._changes is None:
            self._running_ledger()
            raise Conflict("this node collects no validator changes", type="ledger_disabled")
        return self._changes

    async def keys(self) -> list[KeyView]:
        records = sorted(await self._engine.keys.key_records(), key=lambda r: (r.created_ms, r.key_id))
        return [await self._key_view(r) for r in records]

    async def key(self, key_id: str) -> KeyView:
        """A key this node holds, or one whose keygen it coordinated without a share (party 0)."""
        try:
            return await self._key_view(await self._key(key_id))
        except NodeError:
            made = await self._coordinated(key_id)
            if made is None:
                raise
            return KeyView(made.key_id, made.scheme, made.curve, made.threshold, made.participants, 0,
                           signatures.display_key(made.scheme, made.public_key).hex(), "", 0,
                           made.created_ms / 1000)

    async def public_key(self, key_id: str, path: str | None) -> PublicKeyView:
        key = await self._key(key_id)
        point, chain_code = signatures.derive(key, path)
        return PublicKeyView(key_id, path or "m", signatures.public_bytes(key, point).hex(), chain_code.hex())

    async def delete_share(self, key_id: str) -> None:
        await self._key(key_id)
        await self._engine.keys.delete_key(key_id)
        await self._engine.slots.call_all(worker.forget_key, key_id)

    # -- signing ------------------------------------------------------------------------------

    async def sign(self, request: SignRequest) -> SignatureView:
        key = await self._held_key(request.key_id)
        message, hash_name, digest = _check_input(key, request)
        signatures.derive(key, request.path)   # a bad or hardened path is a BadRequest, here
        signers = self._signers(key, request.players)
        session = await coordinator.sign(self._engine, key, signers, message=message, hash_name=hash_name,
                                         digest=digest, path=request.path)
        if session.error is not None:
            raise session.error
        return signatures.view(key, session.proposal, session.output.public, session.id)

    async def presign(self, key_id: str, count: int, players: tuple[Player, ...] | None) -> PresignView:
        key = await self._held_key(key_id)
        if key.scheme != "ecdsa":
            raise BadRequest("presignatures are for ECDSA keys; FROST signs in two rounds without them")
        if not _is_int(count) or not 1 <= count <= MAX_PRESIGN_COUNT:
            raise BadRequest(f"count must be an integer in [1, {MAX_PRESIGN_COUNT}]")
        if players is None:
            signers = tuple(key.participants[i - 1] for i in self._member_signers(key))
        else:
            signers = self._holders(key, players)
            if len(signers) != key.threshold + 1:
                raise BadRequest(f"an ECDSA presignature is made by exactly {key.threshold + 1} players")
        self._require_running()
        created = 0
        for _ in range(count):
            try:
                session = await coordinator.finished(await coordinator.presign(self._engine, key, signers))
                if session.error is not None:
                    raise session.error
            except NodeError:
                if created == 0:
                    raise
                break   # the pool is full, or a peer is gone: report what was made
            created += 1
        parties = tuple(sorted(key.party_of(p) for p in signers))
        available = len(await self._engine.keys.presign_ids(key.key_id, key.epoch, parties))
        return PresignView(key_id, signers, created, available)

    # -- the seed mailbox ---------------------------------------------------------------------

    async def post_message(self, round_id: str, message: str, to: Player | None) -> None:
        peer = None if to is None else self._directory.resolve(to)
        await self._mailbox.post(round_id, message, peer)

    async def messages(self, round_id: str, *, direct: bool) -> list[UserMessage]:
        return self._mailbox.messages(round_id, direct)

    # -- the ledger ---------------------------------------------------------------------------

    async def ledger_status(self) -> dict:
        return self._running_ledger().status().to_json()

    async def ledger_blocks(self, from_height: int, limit: int) -> list[dict]:
        return [block_view(c) for c in await self._running_ledger().blocks(from_height, limit)]

    async def ledger_block(self, height: int) -> dict:
        return block_view(await self._running_ledger().block(height))

    def _running_ledger(self) -> LedgerNode:
        if self._ledger is None:
            raise Conflict("this node runs no ledger: it has no ledger_genesis, or is not one of "
                           "its validators", type="ledger_disabled")
        return self._ledger

    # -- emergency recovery -------------------------------------------------------------------

    async def ers_partial(self, key_id: str, ers_public_key: dict, label: str) -> dict:
        # The node's one exporter (its semaphore and cache of verified ERS keys), made on first use.
        if "_ers_exporter" not in self.__dict__:
            self._ers_exporter = ers_export.Exporter(self._engine)
        exporter = self._ers_exporter
        fingerprint = exporter.check_request(ers_public_key)     # 403 before anything else
        key = await self._held_key(key_id)
        return await exporter.partial(key, ers_public_key, fingerprint, label, self.peer_id)

    def health(self) -> dict:
        members = self._directory.members()
        online = sum(1 for r in members if r.peer_id == self.peer_id or self._directory.online(r.peer_id))
        return {"status": "ok", "peer_id": self.peer_id, "validators": len(members), "online": online,
                "version": self._version, "sessions": self._engine.live_sessions(),
                "primes_ready": self._engine.prime_pool.ready()}

    def metrics(self) -> dict[str, float]:
        """Gauges for GET /metrics, read at each scrape."""
        facts = self.health()
        gauges = {"tssnet_validators": facts["validators"], "tssnet_validators_online": facts["online"],
                  "tssnet_sessions_running": facts["sessions"], "tssnet_primes_ready": facts["primes_ready"]}
        if self._ledger is not None:
            status = self._ledger.status()
            gauges |= {"tssnet_ledger_height": status.height, "tssnet_ledger_view": status.view}
        return gauges

    # -- helpers ------------------------------------------------------------------------------

    async def _key(self, key_id: str) -> KeyRecord:
        record = await self._engine.keys.key_record(key_id) if valid_key_id(key_id) else None
        if record is None:
            raise key_not_found(key_id)
        return record

    async def _coordinated(self, key_id: str) -> CoordinatedKey | None:
        return await self._engine.keys.coordinated(key_id) if valid_key_id(key_id) else None

    async def _held_key(self, key_id: str) -> KeyRecord:
        """The key, when this node holds a share; 409 ``not_a_key_holder`` naming the holders when not."""
        try:
            return await self._key(key_id)
        except NodeError:
            made = await self._coordinated(key_id)
            if made is None:
                raise
        members = [r.peer_id for r in self._directory.members()]
        holders = ", ".join(f"{members.index(p)} ({p})" if p in members else p for p in made.participants)
        raise Conflict(f"this node holds no share of key {key_id!r}; ask one of its holders "
                       f"(validator index (peer id)): {holders}", type="not_a_key_holder")

    async def _key_view(self, r: KeyRecord) -> KeyView:
        count = await self._engine.keys.presign_count(r.key_id) if r.scheme == "ecdsa" else 0
        return KeyView(r.key_id, r.scheme, r.curve, r.threshold, r.participants, r.party,
                       signatures.display_key(r.scheme, r.public_key).hex(), r.chain_code.hex(),
                       r.epoch, r.created_at, count, non_member_holders(r, self._directory.is_member))

    def _players(self, players) -> tuple[str, ...]:
        if not isinstance(players, tuple | list) or len(players) > MAX_PARTICIPANTS:
            raise BadRequest(f"players is a list of at most {MAX_PARTICIPANTS} validators")
        resolved = tuple(self._directory.resolve(p) for p in players)
        if len(set(resolved)) != len(resolved):
            raise BadRequest("players name a validator twice")
        return resolved

    def _holders(self, key: KeyRecord, players) -> tuple[str, ...]:
        peers = self._players(players)
        strangers = [p for p in peers if key.party_of(p) is None]
        if strangers:
            raise BadRequest(f"players {', '.join(strangers)} hold no share of key {key.key_id!r}")
        return tuple(sorted(peers, key=key.party_of))

    def _member_signers(self, key: KeyRecord) -> tuple[int, ...]:
        """This node's preferred signer parties among the holders that are validators; Conflict
        when fewer than t+1 holders are (removed validators hold the rest: a reshare is due)."""
        parties = member_signers(key, self._directory.is_member)
        if parties is None:
            gone = non_member_holders(key, self._directory.is_member)
            raise Conflict(f"key {key.key_id!r} needs {key.threshold + 1} signers that are validators, but "
                           f"{len(gone)} of its {len(key.participants)} holders are no longer validators "
                           f"({', '.join(gone)}): it cannot sign until it is reshared to the current validators")
        return parties

    def _signers(self, key: KeyRecord, players) -> tuple[str, ...]:
        """The signing set: t+1 (ECDSA exactly) of the named holders that are validators, online
        ones first (a removed validator is never chosen: every participant would refuse it)."""
        needed = key.threshold + 1
        pool = self._holders(key, players) if players is not None else key.participants
        if len(pool) < needed:
            raise BadRequest(f"key {key.key_id!r} needs at least {needed} signers, got {len(pool)}")
        default = [key.participants[i - 1] for i in self._member_signers(key)]
        pool = tuple(p for p in pool if self._directory.is_member(p))   # named players are members already
        # "Online" (recent traffic or an open connection) is only a preference: a peer
        # that restarted a moment ago is reachable before either shows it, and one
        # that is really down fails the session with peer_unreachable anyway.
        online_first = sorted(pool, key=lambda p: not (p == self.peer_id or self._directory.online(p)))
        if players is not None and key.scheme != "ecdsa":
            chosen = list(pool)
        else:
            up = all(p == self.peer_id or self._directory.online(p) for p in default)
            chosen = default if players is None and up else online_first[:needed]
        self._require_running()
        return tuple(sorted(chosen, key=key.party_of))

    def _require_running(self) -> None:
        if not self._engine.running:
            raise Unavailable("the node is not running sessions")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_input(key: KeyRecord, request: SignRequest) -> tuple[bytes | None, str | None, bytes | None]:
    """(message, hash, digest) as the key's scheme signs them; BadRequest for the rest."""
    message, hash_name, digest = request.message, request.hash, request.digest
    if (message is None) == (digest is None):
        raise BadRequest("give exactly one of message and digest")
    if hash_name is not None and hash_name not in HASHES:
        raise BadRequest(f"unknown hash {hash_name!r}; known: {', '.join(HASHES)}")
    if digest is not None:
        if key.scheme == "eddsa":
            raise BadRequest("Ed25519 signs a message, not a digest")
        if not isinstance(digest, bytes) or len(digest) != DIGEST_SIZE:
            raise BadRequest(f"a digest is exactly {DIGEST_SIZE} bytes")
        if hash_name is not None:
            raise BadRequest("a digest is signed as it is: give no hash")
        return None, None, digest
    if not isinstance(message, bytes) or len(message) > MAX_MESSAGE:
        raise BadRequest(f"a message is at most {MAX_MESSAGE} bytes")
    if key.scheme == "eddsa":
        if hash_name not in (None, "none"):
            raise BadRequest("Ed25519 signs the message itself: hash must be none")
        return message, "none", None
    hash_name = hash_name or "sha256"
    if hash_name == "none" and (key.scheme == "ecdsa" or len(message) != DIGEST_SIZE):
        raise BadRequest("hash none is for Ed25519, or BIP340 with a 32-byte message")
    return message, hash_name, None


def _session_view(r: SessionRecord) -> SessionView:
    error = ErrorView(r.error_type, r.error_message) if r.error_type is not None else None
    blame = BlameView(r.blame.culprits, r.blame.round, r.blame.check) if r.blame is not None else None
    return SessionView(r.session_id, r.protocol, r.state, r.created_ms / 1000, r.participants,
                       r.key_id, r.public_key.hex() if r.public_key is not None else None, error, blame)


__all__ = ["LocalNodeService"]
