"""What the HTTP API asks of a node: the one seam between ``daemon.api`` and the rest.

The API layer checks the *shape* of a request (types, sizes, hex, required fields)
and builds one of the request classes below; the service checks its *meaning*
(a threshold the players can meet, a key this node holds, a path that can be
derived) and raises ``daemon.errors.NodeError`` subclasses that the API maps to
status codes. Every view has ``to_json`` giving exactly what the API returns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

#: scheme -> the curves it runs on (the first is the default)
SCHEMES = {
    "ecdsa": ("secp256k1",),     # CGGMP21
    "eddsa": ("ed25519",),       # FROST(Ed25519, SHA-512)
    "schnorr": ("secp256k1",),   # FROST(secp256k1) with BIP340 semantics
}
#: message hashes a sign request may name; "none" signs the message bytes as they are
HASHES = ("sha256", "sha256d", "keccak256", "none")

#: a player in a request: a validator index as GET /validators lists them, or a peer id
Player = int | str


@dataclass(frozen=True)
class KeygenRequest:
    scheme: str = "ecdsa"
    curve: str | None = None           # None: the scheme's curve
    threshold: int | None = None       # None: floor((n - 1) / 2) of the players
    players: tuple[Player, ...] | None = None   # None: every validator
    key_id: str | None = None          # None: a fresh random id


@dataclass(frozen=True)
class SignRequest:
    key_id: str
    message: bytes | None = None       # with ``hash``
    hash: str | None = None
    digest: bytes | None = None        # a raw 32-byte digest (ECDSA and BIP340 only)
    path: str | None = None            # BIP32 non-hardened, e.g. "m/0/1"
    players: tuple[Player, ...] | None = None


@dataclass(frozen=True)
class ErrorView:
    type: str
    message: str


@dataclass(frozen=True)
class BlameView:
    culprits: tuple[str, ...]          # peer ids
    round: int
    check: str


@dataclass(frozen=True)
class SessionView:
    session_id: str
    protocol: str                      # "keygen" | "sign" | "presign"
    state: str                         # "pending" | "running" | "done" | "failed"
    created_at: float
    participants: tuple[str, ...]
    key_id: str | None = None
    public_key: str | None = None      # hex, once a keygen is done
    error: ErrorView | None = None
    blame: BlameView | None = None

    def to_json(self) -> dict:
        return _without_none(asdict(self))


@dataclass(frozen=True)
class CandidateView:
    """A peer that joined by hello but is no validator: with a ledger, one that no approved
    validator change has added (yet), or one a change removed."""

    peer_id: str
    identity_key: str                  # hex Ed25519 public key
    addrs: tuple[str, ...]
    http_url: str | None
    online: bool
    is_self: bool

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ValidatorView(CandidateView):
    """A validator, with the 0-based index users pass as ``players``."""

    index: int


@dataclass(frozen=True)
class ValidatorChangeRequest:
    """Add candidates and remove validators (peer ids); ``nonce`` None: a fresh one. Other
    validators' operators approve the same proposal by sending its changes and nonce."""

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    nonce: bytes | None = None


@dataclass(frozen=True)
class KeyView:
    key_id: str
    scheme: str
    curve: str
    threshold: int
    participants: tuple[str, ...]      # peer ids in party order (party i = participants[i-1])
    party: int                         # this node's party number
    public_key: str                    # hex: compressed SEC1 / Ed25519 / x-only BIP340
    chain_code: str                    # hex
    epoch: int
    created_at: float
    presignatures: int = 0             # ECDSA: ready in this node's pools for this key
    #: holders that are no longer validators: a refresh or reshare of the key is due
    non_member_holders: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PublicKeyView:
    key_id: str
    path: str
    public_key: str
    chain_code: str

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SignatureView:
    key_id: str
    public_key: str                    # the (derived) key that verifies the signature
    digest: str                        # what was signed: 32-byte digest, or the message for Ed25519
    signature: str                     # r||s or R||s, 64 bytes
    recovery_id: int | None = None     # ECDSA only
    der: str | None = None             # ECDSA only
    session_id: str | None = None

    def to_json(self) -> dict:
        return _without_none(asdict(self))


@dataclass(frozen=True)
class PresignView:
    key_id: str
    players: tuple[str, ...]
    created: int
    available: int

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class UserMessage:
    """One message of the seed project's mailbox endpoints."""

    round_id: str
    sender: str                        # peer id
    message: str
    direct: bool

    def to_json(self) -> dict:
        return {"roundId": self.round_id, "from": self.sender, "message": self.message}


class NodeService(Protocol):
    """Operations behind the HTTP API. Every method may raise ``NodeError``."""

    peer_id: str

    async def start_keygen(self, request: KeygenRequest) -> str:
        """Validate, propose the keygen to the players and return its session id at once."""

    async def session(self, session_id: str) -> SessionView: ...

    async def wait_session(self, session_id: str, timeout: float) -> SessionView:
        """The session's view once it is done or failed (or still running after ``timeout``)."""

    async def validators(self) -> list[ValidatorView]: ...

    async def keys(self) -> list[KeyView]: ...

    async def key(self, key_id: str) -> KeyView: ...

    async def public_key(self, key_id: str, path: str | None) -> PublicKeyView: ...

    async def sign(self, request: SignRequest) -> SignatureView: ...

    async def presign(self, key_id: str, count: int, players: tuple[Player, ...] | None) -> PresignView: ...

    async def delete_share(self, key_id: str) -> None: ...

    async def post_message(self, round_id: str, message: str, to: Player | None) -> None:
        """Seed mailbox: to every other validator (``to`` None) or to one."""

    async def messages(self, round_id: str, *, direct: bool) -> list[UserMessage]: ...

    def health(self) -> dict:
        """Cheap liveness facts: peer id, validators known and online, version."""

    async def candidates(self) -> list[CandidateView]:
        """Peers that joined by hello but are no validators (always none without a ledger)."""

    # Validator-set changes through the ledger (Conflict ``ledger_disabled`` without one).
    # A proposal is a JSON object: id, add, remove, nonce (hex), approvers, quorum,
    # submitted, committed, created_at, and error when a submission was refused.

    async def propose_validator_change(self, request: ValidatorChangeRequest) -> dict:
        """Approve the change with this node's identity key and announce the approval;
        the proposal with the approvals collected so far. BadRequest for bad input,
        Conflict ``not_a_validator`` when this node may not approve."""

    async def validator_changes(self) -> list[dict]:
        """The proposals this node holds (pending and recently committed), oldest first."""

    async def withdraw_validator_change(self, change_id: str) -> dict:
        """Forget a proposal on this node (it stops announcing and submitting it); the proposal as it
        was. NotFound for an id not held here, Conflict ``ledger_disabled`` without a ledger."""

    # The ledger (Conflict ``ledger_disabled`` on a node that runs none). Blocks are JSON
    # views as ``daemon.ledger_wire.block_view`` makes them: header, block hash,
    # transactions and commit certificate.

    async def ledger_status(self) -> dict:
        """Chain id, genesis hash, height, last block hash, view, primary, validators."""

    async def ledger_blocks(self, from_height: int, limit: int) -> list[dict]:
        """Up to ``limit`` committed blocks from ``from_height`` on (fewer, or none, at the tip)."""

    async def ledger_block(self, height: int) -> dict:
        """The committed block at ``height``; NotFound ``block_not_exists`` past the tip."""

    async def ers_partial(self, key_id: str, ers_public_key: dict, label: str) -> dict:
        """This node's partial recovery information for the key (``protocol.ers`` JSON object):
        Forbidden ``ers_export_disabled`` unless enabled, BadRequest for a bad ERS key."""


def _without_none(value):
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_none(v) for v in value]
    return value
