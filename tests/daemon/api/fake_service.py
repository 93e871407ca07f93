"""An in-memory ``NodeService`` that records every call, for tests of the API layer.

``calls`` lists (method name, arguments) in order, so a test can assert that a bad
request never reached the service. Keygens finish at once unless ``session_outcome``
says otherwise ("failed" with ``failure``, or "running"); meaning checks mirror the
real service's (threshold below the player count, known key ids, known validators).
"""

from __future__ import annotations

import hashlib
import itertools

from daemon.errors import BadRequest, NotFound, key_not_found, session_not_found
from daemon.service import (
    SCHEMES,
    ErrorView,
    KeygenRequest,
    KeyView,
    PresignView,
    PublicKeyView,
    SessionView,
    SignatureView,
    SignRequest,
    UserMessage,
    ValidatorView,
)

PEERS = ("12D3KooWAlpha", "12D3KooWBravo", "12D3KooWCharlie")


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

    def _record(self, name: str, *args) -> None:
        self.calls.append((name, args))

    def _players(self, players) -> tuple[str, ...]:
        if players is None:
            return PEERS
        chosen = []
        for player in players:
            if isinstance(player, int):
                if player >= len(PEERS):
                    raise NotFound(f"no validator with index {player}", type="validator_not_exists")
                chosen.append(PEERS[player])
            elif player in PEERS:
                chosen.append(player)
            else:
                raise NotFound(f"no validator with peer id {player}", type="validator_not_exists")
        return tuple(chosen)

    async def start_keygen(self, request: KeygenRequest) -> str:
        self._record("start_keygen", request)
        participants = self._players(request.players)
        threshold = request.threshold if request.threshold is not None else (len(participants) - 1) // 2
        if threshold >= len(participants):
            raise BadRequest(f"threshold {threshold} needs more than {len(participants)} players")
        session_id = f"s{next(self._ids)}"
        key_id = request.key_id or f"key{next(self._ids)}"
        curve = request.curve or SCHEMES[request.scheme][0]
        public_key = hashlib.sha256(key_id.encode()).hexdigest()
        if self.session_outcome == "done":
            self.key_views[key_id] = KeyView(key_id, request.scheme, curve, threshold, participants, 1,
                                             public_key, "00" * 32, 0, 1.0)
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
        return [ValidatorView(i, peer, "11" * 32, (f"/ip4/127.0.0.1/tcp/{9001 + i}/p2p/{peer}",),
                              f"http://127.0.0.1:{8001 + i}", True, i == 0)
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
        digest = request.digest if request.digest is not None else hashlib.sha256(request.message).digest()
        signature = hashlib.sha512(digest).hexdigest()
        if key.scheme == "ecdsa":
            return SignatureView(key.key_id, key.public_key, digest.hex(), signature, 1, "30" + "00" * 70, "s-sign")
        return SignatureView(key.key_id, key.public_key, digest.hex(), signature)

    async def presign(self, key_id: str, count: int, players) -> PresignView:
        self._record("presign", key_id, count, players)
        key = self._lookup(key_id)
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
