"""An in-memory ``NodeService`` that records every call, for tests of the API layer.

``calls`` lists (method name, arguments) in order, so a test can assert that a bad
request never reached the service. Keygens finish at once unless ``session_outcome``
says otherwise ("failed" with ``failure``, or "running"); meaning checks mirror the
real service's (threshold below the player count, known key ids, known validators: an
unknown player is a 400 BadRequest, as ``ValidatorDirectory.resolve`` says). Like a real
node, it holds a share of a new key only when it is one of the key's players.
The ledger serves real committed blocks (``tests.daemon.ledger.blocks``) unless
``ledger_enabled`` is False, when it answers as a node without a ledger.
"""

from __future__ import annotations

import hashlib
import itertools
from types import SimpleNamespace

from daemon import ers_export
from daemon.errors import BadRequest, Conflict, NotFound, key_not_found, session_not_found
from daemon.service import (
    SCHEMES,
    CandidateView,
    ErrorView,
    KeygenRequest,
    KeyView,
    PresignView,
    PublicKeyView,
    SessionView,
    SignatureView,
    SignRequest,
    UserMessage,
    ValidatorChangeRequest,
    ValidatorView,
)
from tests.daemon.ledger.blocks import block_views

PEERS = ("12D3KooWAlpha", "12D3KooWBravo", "12D3KooWCharlie")
#: joined by hello, not a validator: the one peer a validator change may add
CANDIDATES = ("12D3KooWDelta",)


def session_id_of(n: int) -> str:
    """The fake's n-th id in the real form (32 lowercase hex digits)."""
    return f"{n:032x}"


class FakeService:
    def __init__(self) -> None:
        self.peer_id = PEERS[0]
        self.calls: list[tuple[str, tuple]] = []
        #: state changes made (sessions, keys, posts, presignatures, deletions)
        self.mutations = 0
        self.sessions: dict[str, SessionView] = {}
        self.key_views: dict[str, KeyView] = {}
        self.mailbox: list[tuple[UserMessage, str | int | None]] = []
        self.session_outcome = "done"
        self.failure = ErrorView("session_timeout", "party 2 did not answer in 60 s")
        self.health_facts = {"peer_id": self.peer_id, "validators": 3, "online": 3, "version": "test"}
        self._ids = itertools.count(1)
        self.ledger_enabled = True
        self.proposals: dict[tuple, dict] = {}
        #: whether POST /v1/keys/{id}/ers/partial answers (a real node's enable_ers_export)
        self.ers_export_enabled = True
        #: the fingerprints a real node's ers_allowed_keys would list (tests set them)
        self.ers_allowed_keys: tuple[str, ...] = ()

    def _record(self, name: str, *args) -> None:
        self.calls.append((name, args))

    def _players(self, players) -> tuple[str, ...]:
        if players is None:
            return PEERS
        chosen = []
        for player in players:
            if isinstance(player, int):
                if player >= len(PEERS):
                    raise BadRequest(f"no validator with index {player}: indices run from 0 to {len(PEERS) - 1}")
                chosen.append(PEERS[player])
            elif player in PEERS:
                chosen.append(player)
            else:
                raise BadRequest(f"{player!r} is not the peer id of a validator")
        return tuple(chosen)

    async def start_keygen(self, request: KeygenRequest) -> str:
        self._record("start_keygen", request)
        participants = self._players(request.players)
        n = len(participants)
        if n < 2:
            raise BadRequest(f"a key needs at least 2 distinct players, got {n}")
        threshold = request.threshold if request.threshold is not None else max(1, (n - 1) // 2)
        if threshold >= n:
            raise BadRequest(f"threshold must be an integer in [1, {n - 1}] for {n} players")
        if request.key_id in self.key_views:
            raise Conflict(f"a key with id {request.key_id!r} already exists", type="key_id_exists")
        session_id = session_id_of(next(self._ids))
        key_id = request.key_id or f"key{next(self._ids)}"
        curve = request.curve or SCHEMES[request.scheme][0]
        public_key = hashlib.sha256(key_id.encode()).hexdigest()
        if self.session_outcome == "done":
            if self.peer_id in participants:   # as a real node, it holds a share only as a player
                self.key_views[key_id] = KeyView(key_id, request.scheme, curve, threshold, participants,
                                                 participants.index(self.peer_id) + 1, public_key,
                                                 "00" * 32, 0, 1.0)
            view = SessionView(session_id, "keygen", "done", 1.0, participants, key_id, public_key)
        elif self.session_outcome == "failed":
            view = SessionView(session_id, "keygen", "failed", 1.0, participants, error=self.failure)
        else:
            view = SessionView(session_id, "keygen", "running", 1.0, participants)
        self.sessions[session_id] = view
        self.mutations += 1
        return session_id

    async def session(self, session_id: str) -> SessionView:
        self._record("session", session_id)
        if session_id not in self.sessions:
            raise session_not_found(session_id)
        return self.sessions[session_id]

    async def wait_session(self, session_id: str, timeout: float) -> SessionView:
        self._record("wait_session", session_id, timeout)
        return self.sessions[session_id]

    async def validators(self) -> list[ValidatorView]:
        self._record("validators")
        return [ValidatorView(peer, "11" * 32, (f"/ip4/127.0.0.1/tcp/{9001 + i}/p2p/{peer}",),
                              f"http://127.0.0.1:{8001 + i}", True, i == 0, index=i)
                for i, peer in enumerate(PEERS)]

    async def keys(self) -> list[KeyView]:
        self._record("keys")
        return list(self.key_views.values())

    async def key(self, key_id: str) -> KeyView:
        self._record("key", key_id)
        return self._lookup(key_id)

    def _lookup(self, key_id: str) -> KeyView:
        if key_id not in self.key_views:
            raise key_not_found(key_id)
        return self.key_views[key_id]

    async def public_key(self, key_id: str, path: str | None) -> PublicKeyView:
        self._record("public_key", key_id, path)
        key = self._lookup(key_id)
        derived = key.public_key if path in (None, "m") else hashlib.sha256(f"{key_id}{path}".encode()).hexdigest()
        return PublicKeyView(key_id, path or "m", derived, key.chain_code)

    async def sign(self, request: SignRequest) -> SignatureView:
        self._record("sign", request)
        key = self._lookup(request.key_id)
        self._players(request.players)
        _check_scheme_input(key.scheme, request)
        digest = request.digest if request.digest is not None else hashlib.sha256(request.message).digest()
        signature = hashlib.sha512(digest).hexdigest()
        if key.scheme == "ecdsa":
            return SignatureView(key.key_id, key.public_key, digest.hex(), signature, 1, "30" + "00" * 70, "s-sign")
        return SignatureView(key.key_id, key.public_key, digest.hex(), signature)

    async def presign(self, key_id: str, count: int, players) -> PresignView:
        self._record("presign", key_id, count, players)
        key = self._lookup(key_id)
        if key.scheme != "ecdsa":
            raise BadRequest("presignatures are for ECDSA keys; FROST signs in two rounds without them")
        signers = self._players(players)
        self.mutations += 1
        return PresignView(key_id, signers, count, key.presignatures + count)

    async def delete_share(self, key_id: str) -> None:
        self._record("delete_share", key_id)
        self._lookup(key_id)
        del self.key_views[key_id]
        self.mutations += 1

    async def post_message(self, round_id: str, message: str, to) -> None:
        self._record("post_message", round_id, message, to)
        if to is not None:
            self._players([to])
        self.mailbox.append((UserMessage(round_id, self.peer_id, message, to is not None), to))
        self.mutations += 1

    async def messages(self, round_id: str, *, direct: bool) -> list[UserMessage]:
        self._record("messages", round_id, direct)
        return [m for m, _ in self.mailbox if m.round_id == round_id and m.direct == direct]

    def health(self) -> dict:
        return dict(self.health_facts)

    async def candidates(self) -> list[CandidateView]:
        self._record("candidates")
        return [CandidateView(peer, "22" * 32, (), None, False, False) for peer in CANDIDATES]

    async def propose_validator_change(self, request: ValidatorChangeRequest) -> dict:
        """As the real node: only candidates are added, only validators removed, 4 stay."""
        self._record("propose_validator_change", request)
        self._ledger()
        for peer in request.add:
            if peer not in CANDIDATES:
                raise BadRequest(f"{peer!r} has no verified record here")
        for peer in request.remove:
            if peer not in PEERS:
                raise BadRequest(f"{peer!r} is not a validator, so it cannot be removed")
        if len(PEERS) + 1 + len(request.add) - len(request.remove) < 4:   # the ledger's four
            raise BadRequest("the change would leave fewer than 4 validators")
        if 2 * len(request.remove) >= len(PEERS) + 1:
            raise BadRequest("a change may not remove half or more of the validators at once")
        nonce = request.nonce or bytes([len(self.proposals) + 1]) * 16
        key = (tuple(sorted(request.add)), tuple(sorted(request.remove)), nonce)
        proposal = self.proposals.setdefault(key, {
            "id": hashlib.sha256(repr(key).encode()).hexdigest(), "add": list(key[0]),
            "remove": list(key[1]), "nonce": nonce.hex(), "approvers": [], "quorum": 3,
            "submitted": False, "committed": False, "created_at": 1.0})
        if self.peer_id not in proposal["approvers"]:
            proposal["approvers"].append(self.peer_id)
        self.mutations += 1
        return proposal

    async def validator_changes(self) -> list[dict]:
        self._record("validator_changes")
        self._ledger()
        return list(self.proposals.values())

    async def withdraw_validator_change(self, change_id: str) -> dict:
        """As the real node: forget a proposal held here; 404 for an unknown id."""
        self._record("withdraw_validator_change", change_id)
        self._ledger()
        for key, proposal in self.proposals.items():
            if proposal["id"] == change_id:
                del self.proposals[key]
                self.mutations += 1
                return proposal
        raise NotFound(f"no validator change {change_id!r} is held here")

    async def ledger_status(self) -> dict:
        self._record("ledger_status")
        blocks = self._ledger()
        return {"chain_id": "test-chain", "genesis_hash": blocks[0]["prev_hash"], "state": "running",
                "height": len(blocks), "last_block_hash": blocks[-1]["hash"], "view": 0,
                "view_changing": False, "primary": "v0", "validators": ["v0", "v1", "v2", "v3"]}

    async def ledger_blocks(self, from_height: int, limit: int) -> list[dict]:
        self._record("ledger_blocks", from_height, limit)
        return self._ledger()[from_height - 1:from_height - 1 + limit]

    async def ledger_block(self, height: int) -> dict:
        self._record("ledger_block", height)
        blocks = self._ledger()
        if height > len(blocks):
            raise NotFound(f"no ledger block at height {height}", type="block_not_exists")
        return blocks[height - 1]

    async def ers_partial(self, key_id: str, ers_public_key: dict, label: str) -> dict:
        """As the real node: 403 when disabled or for an ERS key not in ``ers_allowed_keys``, 404 for
        an unknown key, 400 for an ERS key that fails its checks; then a stand-in partial of the
        documented shape (no real share to encrypt)."""
        self._record("ers_partial", key_id, ers_public_key, label)
        config = SimpleNamespace(enable_ers_export=self.ers_export_enabled, ers_allowed_keys=self.ers_allowed_keys)
        ers_export.check_enabled(config)
        fingerprint = ers_export.fingerprint_of(ers_public_key)
        ers_export.check_allowed(config, fingerprint)
        key = self._lookup(key_id)
        ers_export.load_ers_key(ers_public_key)
        return {"version": 1, "type": "tssnet-ers-partial", "key_id": key_id, "scheme": key.scheme,
                "curve": key.curve, "epoch": 0, "chain_code": "00" * 32, "ers_key": fingerprint,
                "index": key.party, "holder": self.peer_id, "share_ciphertext": "1",
                "chain_code_ciphertext": "1", "proof": ""}

    def _ledger(self) -> list[dict]:
        if not self.ledger_enabled:
            raise Conflict("this node runs no ledger", type="ledger_disabled")
        return block_views()


def _check_scheme_input(scheme: str, request: SignRequest) -> None:
    """What the real service refuses for a key's scheme (``node_service._check_input``)."""
    if scheme == "eddsa" and (request.digest is not None or request.hash not in (None, "none")):
        raise BadRequest("Ed25519 signs the message itself: give message with hash none")
    if scheme == "ecdsa" and request.hash == "none":
        raise BadRequest("hash none is for Ed25519, or BIP340 with a 32-byte message")
    if scheme == "schnorr" and request.hash == "none" and len(request.message) != 32:
        raise BadRequest("hash none is for Ed25519, or BIP340 with a 32-byte message")
