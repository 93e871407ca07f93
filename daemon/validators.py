"""The validator set: self-signed records of who the validators are and where they listen.

Each validator publishes a ``ValidatorRecord`` signed with its own identity key, so a
record relayed by anyone still speaks only for the peer it names. The directory keeps
the newest record of each peer, persists each change atomically under
``validators/<peer id>`` and re-verifies everything it loads. Members sorted by peer
id give the 0-based indices users see in ``GET /validators`` and pass as ``players``;
every node that holds the same set derives the same indices.

Which peers are members is ``daemon.membership.Membership``'s answer: every record
without a ledger; with one, exactly the ledger's current set, its indices and identity
keys taken from the ledger. A validator whose record this node lacks is still a member
(listed with no addresses or URL, so it shows offline), and a record the ledger does not
name is a candidate (known, so it may hold a transport link, but no validator).

Bounds: without a ledger at most ``MAX_VALIDATORS`` records. With one, a record of a
ledger validator (current or scheduled) is always taken, and candidates (peers the
ledger never added, or has removed) share ``MAX_CANDIDATES`` places: a new candidate
takes the place of the offline one with the oldest record, and is refused only when
every candidate is online, so a flood of candidates can never keep a validator out.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from multiaddr import Multiaddr
from multiaddr.exceptions import Error as MultiaddrError

from daemon.errors import BadRequest
from daemon.identity import NodeIdentity, peer_id_of
from daemon.membership import Membership
from protocol import wire
from protocol.errors import EncodingError
from protocol.identity import (
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    Verifier,
    domain_prefix,
    valid_public_key,
)

log = logging.getLogger("tssnet.validators")

DEFAULT_NETWORK = "tssnet-devnet"
RECORD_DOMAIN = b"tssnet/validator-record/v1"
STORE_PREFIX = "validators/"
# Bounds chosen so that a hello answer with every record fits the host's 64 KiB hello limit.
MAX_VALIDATORS = 64
#: records of peers the ledger does not name (candidates) held at once, when a ledger runs
MAX_CANDIDATES = 16
MAX_ADDRS = 4
MAX_ADDR_BYTES = 128
MAX_URL_BYTES = 200
MAX_PEER_ID_BYTES = 64
#: a peer counts as online this long after it was last heard from
ONLINE_WINDOW_S = 90.0


@wire.message(0x0500)
@dataclass(frozen=True, slots=True)
class ValidatorRecord:
    """A validator's signed statement of its identity, addresses and API URL."""

    peer_id: str = wire.field(wire.Str(MAX_PEER_ID_BYTES))
    identity_key: bytes = wire.field(wire.Bytes(size=PUBLIC_KEY_SIZE))
    addrs: tuple[str, ...] = wire.field(wire.Seq(wire.Str(MAX_ADDR_BYTES), max_len=MAX_ADDRS))
    http_url: str = wire.field(wire.Str(MAX_URL_BYTES))
    #: unix ms when the record was signed; of two records of a peer the later one wins
    joined_at: int = wire.field(wire.UInt(2**63 - 1))
    signature: bytes = wire.field(wire.Bytes(size=SIGNATURE_SIZE))

    @classmethod
    def create(cls, identity: NodeIdentity, addrs: list[str] | tuple[str, ...], http_url: str,
               now_ms: int, *, network: str = DEFAULT_NETWORK) -> ValidatorRecord:
        """This node's record, signed; addresses beyond what a record holds are left out."""
        published = tuple(a for a in addrs if len(a.encode()) <= MAX_ADDR_BYTES)[:MAX_ADDRS]
        if len(published) < len(addrs):
            log.warning("publishing %d of this node's %d addresses (at most %d of %d bytes each)",
                        len(published), len(addrs), MAX_ADDRS, MAX_ADDR_BYTES)
        if len(http_url.encode()) > MAX_URL_BYTES:
            raise BadRequest(f"the public URL {http_url[:64]!r}... is longer than {MAX_URL_BYTES} bytes")
        signer = identity.signer()
        unsigned = cls(peer_id=identity.peer_id, identity_key=signer.public_key, addrs=published,
                       http_url=http_url, joined_at=now_ms, signature=bytes(SIGNATURE_SIZE))
        signature = signer.sign(_prefix(network) + unsigned.signed_bytes())
        return dataclasses.replace(unsigned, signature=signature)

    def signed_bytes(self) -> bytes:
        """What the signature covers: the record's encoding with the signature zeroed."""
        return wire.encode(dataclasses.replace(self, signature=bytes(SIGNATURE_SIZE)))

    def problem(self, network: str = DEFAULT_NETWORK) -> str | None:
        """Why this record cannot be trusted, or None when it verifies."""
        if not valid_public_key(self.identity_key):
            return "identity key is not a valid Ed25519 point"
        if self.peer_id != peer_id_of(self.identity_key):
            return "peer id does not match the identity key"
        for addr in self.addrs:
            try:
                named = Multiaddr(addr).get_peer_id()
            except (ValueError, MultiaddrError) as exc:
                return f"address {addr!r} is not a multiaddr: {exc}"
            if named not in (None, self.peer_id):
                return f"address {addr!r} names another peer"
        if not Verifier(_prefix(network)).verify(self.identity_key, self.signed_bytes(), self.signature):
            return "signature does not verify"
        return None

    def verify(self, network: str = DEFAULT_NETWORK) -> bool:
        return self.problem(network) is None

    def dial_addrs(self) -> list[str]:
        """The record's addresses, each ending in /p2p/<peer id> as dialling needs."""
        return [a if "/p2p/" in a else f"{a}/p2p/{self.peer_id}" for a in self.addrs]


def _prefix(network: str) -> bytes:
    return domain_prefix(RECORD_DOMAIN, network)


def newer(candidate: ValidatorRecord, current: ValidatorRecord) -> bool:
    """True when ``candidate`` supersedes ``current`` (same peer): later, or on a tie the
    larger encoding, so that every node settles on the same record."""
    if candidate.joined_at != current.joined_at:
        return candidate.joined_at > current.joined_at
    return wire.encode(candidate) > wire.encode(current)


ChangeListener = Callable[[ValidatorRecord], None]


class ValidatorDirectory:
    """The set of validators this node knows, persisted in the node's store."""

    def __init__(self, store, self_record: ValidatorRecord, *, network: str = DEFAULT_NETWORK,
                 clock: Callable[[], float] = time.monotonic,
                 online_window: float = ONLINE_WINDOW_S, membership: Membership | None = None) -> None:
        problem = self_record.problem(network)
        if problem is not None:
            raise ValueError(f"this node's own validator record does not verify: {problem}")
        self.store = store
        self.self_record = self_record
        self.network = network
        self.membership = membership if membership is not None else Membership()
        self._clock = clock
        self._online_window = online_window
        self._records: dict[str, ValidatorRecord] = {self_record.peer_id: self_record}
        self._sorted: list[ValidatorRecord] = [self_record]   # every record, members or not
        self._seen: dict[str, float] = {}
        self._listeners: list[ChangeListener] = []
        self._connected: Callable[[str], bool] = lambda peer_id: False
        self._lock = asyncio.Lock()

    @property
    def self_id(self) -> str:
        return self.self_record.peer_id

    # -- reading ---------------------------------------------------------------------

    def members(self) -> list[ValidatorRecord]:
        """Every validator, sorted by peer id: position i is validator index i. With a
        ledger, its set's ids; a validator whose record is missing here appears as an
        unsigned stand-in with its ledger key and no addresses (never stored or sent)."""
        ids = self.membership.member_ids()
        if ids is None:
            return list(self._sorted)
        return [self.get(peer) for peer in ids]

    def candidates(self) -> list[ValidatorRecord]:
        """Peers that joined by hello but are no validators (yet): with a ledger, those it
        has not added, or has removed. Always empty without a ledger."""
        return [r for r in self._sorted if not self.membership.admits(r.peer_id)]

    def shared_records(self) -> list[ValidatorRecord]:
        """The records a hello answer carries: members' first, then candidates', at most
        ``MAX_VALIDATORS`` (what an answer holds)."""
        ordered = [r for r in self._sorted if self.membership.admits(r.peer_id)] + self.candidates()
        return ordered[:MAX_VALIDATORS]


    def records(self) -> list[ValidatorRecord]:
        """Every verified record held, members and candidates, sorted by peer id."""
        return list(self._sorted)

    def get(self, peer_id: str) -> ValidatorRecord | None:
        """The verified record of a member or candidate (check ``is_member`` for which); for a
        ledger validator this node has no record of, the stand-in with its ledger key. (A
        record's key is always the ledger's: a peer id is derived from its key.)"""
        record = self._records.get(peer_id)
        if record is None and self.membership.admits(peer_id) and self.membership.ledger_driven:
            return _stand_in(peer_id, self.membership.key_of(peer_id))
        return record

    def is_member(self, peer_id: str) -> bool:
        if self.membership.ledger_driven:
            return self.membership.admits(peer_id)
        return peer_id in self._records

    def is_known(self, peer_id: str) -> bool:
        """A member or a candidate: a peer that may hold a transport link to this node (a
        ledger validator may, even before its record reached this node)."""
        return peer_id in self._records or self.membership.is_ledger_validator(peer_id)

    def index_of(self, peer_id: str) -> int:
        for index, record in enumerate(self.members()):
            if record.peer_id == peer_id:
                return index
        raise BadRequest(f"{peer_id!r} is not a validator")

    def resolve(self, player: int | str) -> str:
        """The peer id of ``player``: a validator index (an int or a string of digits)
        as GET /validators lists them, or a validator's peer id."""
        if isinstance(player, bool) or not isinstance(player, int | str):
            raise BadRequest(f"a player is a validator index or peer id, not {player!r}")
        if isinstance(player, str) and player.isascii() and player.isdigit():
            player = int(player)
        if isinstance(player, int):
            members = self.members()
            if not 0 <= player < len(members):
                raise BadRequest(f"no validator with index {player}: indices run from 0 to {len(members) - 1}")
            return members[player].peer_id
        if self.is_member(player):
            return player
        if player in self._records:
            raise BadRequest(f"{player!r} is a candidate: the ledger has not made it a validator "
                             "(an approved validator change must add it first)")
        raise BadRequest(f"{player[:MAX_PEER_ID_BYTES]!r} is not the peer id of a validator")

    # -- liveness --------------------------------------------------------------------

    def use_connectivity(self, connected: Callable[[str], bool]) -> None:
        """Ask ``connected`` (the transport's) as well as recent traffic for ``online``."""
        self._connected = connected

    def mark_seen(self, peer_id: str) -> None:
        if peer_id in self._records:
            self._seen[peer_id] = self._clock()

    def online(self, peer_id: str) -> bool:
        if peer_id == self.self_id:
            return True
        if peer_id not in self._records:
            return False   # a ledger validator this node has no record of: unreachable here
        seen = self._seen.get(peer_id)
        if seen is not None and self._clock() - seen <= self._online_window:
            return True
        return self._connected(peer_id)

    # -- changing --------------------------------------------------------------------

    def on_change(self, callback: ChangeListener) -> None:
        """Call ``callback(record)`` after each record that joins or replaces one."""
        self._listeners.append(callback)

    async def add(self, record: ValidatorRecord, *, source: str = "local") -> bool:
        """Merge one record (verified here); True when the set changed and was persisted.

        ``source`` is the peer the record came from, for the log of a refused one.
        """
        if self._records.get(record.peer_id) == record:
            return False
        problem = record.problem(self.network)
        if problem is None and record.peer_id == self.self_id and record != self.self_record:
            problem = "only this node speaks for its own peer id"
        if problem is not None:
            log.warning("refused validator record of %r from %s: %s", record.peer_id, source, problem)
            return False
        async with self._lock:
            current = self._records.get(record.peer_id)
            if current is not None and not newer(record, current):
                return False
            evict = None
            if current is None:
                room, evict = self._room_for(record.peer_id)
                if not room:
                    log.warning("refused validator record %s from %s: %s", record.peer_id, source,
                                "the set is full" if not self.membership.ledger_driven
                                else "every candidate place is taken by an online candidate")
                    return False
            await self.store.write({STORE_PREFIX + record.peer_id: wire.encode(record)},
                                   [] if evict is None else [STORE_PREFIX + evict])
            if evict is not None:
                self._forget(evict)
                log.info("forgot candidate %s to make room for %s", evict, record.peer_id)
            self._put(record)
        status = "updated" if current else "joined"
        if not self.membership.admits(record.peer_id):
            status += " as a candidate (a validator once an approved change adds it)"
        log.info("validator %s %s (from %s)", record.peer_id, status, source)
        self._notify(record)
        return True

    async def renew_self(self, record: ValidatorRecord) -> None:
        """Adopt a newly signed record of this node (new addresses, or a later time)."""
        problem = record.problem(self.network)
        if record.peer_id != self.self_id or problem is not None:
            raise ValueError(f"not a valid record of this node: {problem or 'another peer id'}")
        async with self._lock:
            await self.store.write({STORE_PREFIX + record.peer_id: wire.encode(record)}, [])
            self.self_record = record
            self._put(record)
        self._notify(record)

    async def load(self) -> None:
        """Read the persisted set, keeping only records that still verify, then make sure
        this node's own record is in it (keeping the stored one if it says the same)."""
        for key, value in await self.store.scan(STORE_PREFIX):
            record = self._decode(key, value)
            if record is None:
                continue
            if record.peer_id == self.self_id:
                if _same_content(record, self.self_record):
                    self.self_record = record
                continue
            current = self._records.get(record.peer_id)
            if current is None or newer(record, current):
                self._put(record)
                self._notify(record)
        self._put(self.self_record)
        stored = await self.store.get(STORE_PREFIX + self.self_id)
        if stored != wire.encode(self.self_record):
            await self.store.write({STORE_PREFIX + self.self_id: wire.encode(self.self_record)}, [])
        log.info("validator set loaded: %d members, %d candidates", len(self.members()),
                 len(self.candidates()))

    def _decode(self, key: str, value: bytes) -> ValidatorRecord | None:
        try:
            record = wire.decode(value, ValidatorRecord)
        except EncodingError as exc:
            log.warning("dropped stored validator record %s: %s", key, exc)
            return None
        problem = record.problem(self.network)
        if problem is None and key != STORE_PREFIX + record.peer_id:
            problem = "stored under another peer id"
        if problem is not None:
            log.warning("dropped stored validator record %s: %s", key, problem)
            return None
        return record

    def _room_for(self, peer_id: str) -> tuple[bool, str | None]:
        """(whether a new record of ``peer_id`` fits, the candidate to forget for it)."""
        if not self.membership.ledger_driven:
            return len(self._records) < MAX_VALIDATORS, None
        if self.membership.is_ledger_validator(peer_id):
            return True, None
        held = [r for r in self._sorted if r.peer_id != self.self_id
                and not self.membership.is_ledger_validator(r.peer_id)]
        if len(held) < MAX_CANDIDATES:
            return True, None
        offline = [r for r in held if not self.online(r.peer_id)]
        if not offline:
            return False, None
        return True, min(offline, key=lambda r: (r.joined_at, r.peer_id)).peer_id

    def _forget(self, peer_id: str) -> None:
        self._records.pop(peer_id, None)
        self._seen.pop(peer_id, None)
        self._sorted = sorted(self._records.values(), key=lambda r: r.peer_id)

    def _put(self, record: ValidatorRecord) -> None:
        self._records[record.peer_id] = record
        self._sorted = sorted(self._records.values(), key=lambda r: r.peer_id)

    def _notify(self, record: ValidatorRecord) -> None:
        for callback in self._listeners:
            try:
                callback(record)
            except Exception:
                log.exception("validator change listener failed for %s", record.peer_id)


def _stand_in(peer_id: str, key: bytes | None) -> ValidatorRecord:
    """What ``members`` lists for a ledger validator whose record this node lacks."""
    return ValidatorRecord(peer_id=peer_id, identity_key=key or bytes(PUBLIC_KEY_SIZE), addrs=(),
                           http_url="", joined_at=0, signature=bytes(SIGNATURE_SIZE))


def _same_content(a: ValidatorRecord, b: ValidatorRecord) -> bool:
    return (a.identity_key, a.addrs, a.http_url) == (b.identity_key, b.addrs, b.http_url)
