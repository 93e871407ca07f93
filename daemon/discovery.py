"""How a node joins the validator set and keeps its copy of it complete.

A joiner sends a ``Hello`` (its own signed record) to a bootstrap peer on the
transport's hello protocol, which is open to peers not yet admitted; the answer is
every record the bootstrap holds. A member that admits a joiner announces the record
on gossipsub, so every member learns it, and each node re-syncs with one member now
and then to pick up anything the gossip missed. Records speak only for the peer that
signed them, and records are taken only from members (or from the bootstrap peers
the operator named), so the join secret cannot be bypassed by gossip.

When the node runs a ledger, passing hello makes a peer a *candidate*, not a member
(see ``daemon.membership``): it is admitted to the transport and its record travels
like any other, but only an approved validator change in the ledger makes it a
validator. Without a ledger the join secret is the only gate.

With a join secret, a hello carries an HMAC over its encoding under the secret, with
a fresh nonce and a timestamp: a hello older than the window, or seen before, is
refused. The answer carries an HMAC too, binding it to the hello's nonce, so a joiner
knows it talks to a node of its own network.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from daemon.errors import BadRequest
from daemon.identity import NodeIdentity
from daemon.p2p.transport import Transport, TransportError
from daemon.tasks import cancel_and_wait
from daemon.validators import (
    DEFAULT_NETWORK,
    MAX_VALIDATORS,
    ValidatorDirectory,
    ValidatorRecord,
    newer,
)
from protocol import wire
from protocol.errors import EncodingError
from protocol.identity import domain_prefix

log = logging.getLogger("tssnet.discovery")

TOPIC = "tssnet/validators/1"
HELLO_DOMAIN = b"tssnet/hello/v1"
ANSWER_DOMAIN = b"tssnet/hello-answer/v1"
NONCE_SIZE = 16
MAC_SIZE = 32
MAX_REASON_BYTES = 256
#: a hello's timestamp may be this far from the receiver's clock
HELLO_WINDOW_MS = 60_000
#: nonces of accepted hellos kept at once; more hellos in one window are refused
MAX_NONCES = 4096
# A record is at most ~0.9 KiB (see daemon.validators), so a full answer stays under the
# host's 64 KiB hello limit; tests pin these against the largest encodings.
MAX_RECORD_BYTES = 1024
MAX_HELLO_BYTES = MAX_RECORD_BYTES + 128
MAX_ANSWER_BYTES = 64 * 1024


@wire.message(0x0501)
@dataclass(frozen=True, slots=True)
class Hello:
    """A joiner's record, a fresh nonce and time, and (with a join secret) a MAC over them."""

    record: ValidatorRecord = wire.field(wire.Nested(ValidatorRecord))
    nonce: bytes = wire.field(wire.Bytes(size=NONCE_SIZE))
    sent_at: int = wire.field(wire.UInt(2**63 - 1))
    mac: bytes = wire.field(wire.Bytes(max_size=MAC_SIZE))


@wire.message(0x0502)
@dataclass(frozen=True, slots=True)
class HelloAnswer:
    """Every record the answering node holds, or an empty set and the reason for a refusal."""

    records: tuple[ValidatorRecord, ...] = wire.field(
        wire.Seq(wire.Nested(ValidatorRecord), max_len=MAX_VALIDATORS))
    refusal: str = wire.field(wire.Str(MAX_REASON_BYTES))
    mac: bytes = wire.field(wire.Bytes(max_size=MAC_SIZE))


def hello_mac(secret: str, network: str, hello: Hello) -> bytes:
    body = wire.encode(dataclasses.replace(hello, mac=b""))
    return hmac.new(secret.encode(), domain_prefix(HELLO_DOMAIN, network) + body, hashlib.sha256).digest()


def answer_mac(secret: str, network: str, nonce: bytes, answer: HelloAnswer) -> bytes:
    body = wire.encode(dataclasses.replace(answer, mac=b""))
    return hmac.new(secret.encode(), domain_prefix(ANSWER_DOMAIN, network) + nonce + body,
                    hashlib.sha256).digest()


def make_hello(record: ValidatorRecord, join_secret: str | None, network: str, now_ms: int,
               nonce: bytes | None = None) -> Hello:
    hello = Hello(record=record, nonce=nonce or secrets.token_bytes(NONCE_SIZE), sent_at=now_ms, mac=b"")
    if join_secret is None:
        return hello
    return dataclasses.replace(hello, mac=hello_mac(join_secret, network, hello))


def _refusal(reason: str) -> HelloAnswer:
    return HelloAnswer(records=(), refusal=reason, mac=b"")


def peer_of_multiaddr(multiaddr: str) -> str | None:
    _, sep, peer_id = multiaddr.rpartition("/p2p/")
    return peer_id if sep and peer_id else None


class Discovery:
    def __init__(self, identity: NodeIdentity, directory: ValidatorDirectory, transport: Transport, *,
                 bootstrap: list[str], join_secret: str | None, network: str = DEFAULT_NETWORK,
                 resync_interval: float = 30.0, retry_initial: float = 0.5, retry_max: float = 30.0,
                 hello_timeout: float = 10.0, hello_window_ms: int = HELLO_WINDOW_MS,
                 clock: Callable[[], float] = time.time, rng: random.Random | None = None) -> None:
        if network != directory.network:
            raise ValueError(f"discovery for network {network!r} over a directory of {directory.network!r}")
        for addr in bootstrap:
            if peer_of_multiaddr(addr) is None:
                raise BadRequest(f"bootstrap address {addr!r} does not end in /p2p/<peer id>")
        if join_secret == "":
            raise BadRequest("join_secret is empty: leave it unset for an open set, or give a secret")
        self.identity = identity
        self.directory = directory
        self.transport = transport
        self.peer_id = identity.peer_id
        self.bootstrap = [a for a in bootstrap if peer_of_multiaddr(a) != self.peer_id]
        self.join_secret = join_secret
        self.network = network
        self.resync_interval = resync_interval
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.hello_timeout = hello_timeout
        self.hello_window_ms = hello_window_ms
        self.joined = asyncio.Event()
        self._clock = clock
        self._rng = rng or random.SystemRandom()
        self._nonces: dict[bytes, int] = {}
        self._tasks: list[asyncio.Task] = []
        self._running = False

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        if self._running:
            return
        self._running = True
        self.transport.set_hello_handler(self._on_hello)
        # Candidates too: they need a link to fetch the ledger's blocks and to be reached.
        self.transport.set_admission(self.directory.is_known)
        self.directory.use_connectivity(self.transport.connected)
        self.directory.on_change(self._on_directory_change)
        if self.join_secret is None:
            log.warning("no join_secret configured: the validator set is open to any peer that can "
                        "reach this node")
        await self.directory.load()
        await self.transport.subscribe(TOPIC, self._on_announcement)
        loop = asyncio.get_running_loop()
        if self.bootstrap:
            self._tasks.append(loop.create_task(self._join_loop(), name="discovery-join"))
        else:
            log.info("no bootstrap peers: %d validators known from the store",
                     len(self.directory.members()))
            self.joined.set()
        self._tasks.append(loop.create_task(self._resync_loop(), name="discovery-resync"))

    async def stop(self) -> None:
        self._running = False
        await cancel_and_wait(self._tasks)
        self._tasks.clear()

    async def wait_joined(self) -> None:
        """Until a bootstrap peer has answered (at once when there are none)."""
        await self.joined.wait()

    # -- asking ----------------------------------------------------------------------

    async def hello(self, multiaddr: str) -> bool:
        """Say hello to the peer at ``multiaddr`` and merge its answer; True if it accepted."""
        expected = peer_of_multiaddr(multiaddr)
        hello = make_hello(self.directory.self_record, self.join_secret, self.network, self._now_ms())
        try:
            peer_id, raw = await self.transport.request_hello(multiaddr, wire.encode(hello),
                                                              timeout=self.hello_timeout)
        except (TimeoutError, TransportError, OSError) as exc:
            log.info("hello to %s failed: %s", multiaddr, exc)
            return False
        if peer_id != expected:
            log.warning("hello to %s was answered by %s", multiaddr, peer_id)
            return False
        try:
            answer = wire.decode(raw, HelloAnswer, max_size=MAX_ANSWER_BYTES)
        except EncodingError as exc:
            log.warning("malformed hello answer from %s: %s", peer_id, exc)
            return False
        if answer.refusal:
            log.error("%s refused our hello: %r", peer_id, answer.refusal)
            return False
        if self.join_secret is not None and not hmac.compare_digest(
                answer.mac, answer_mac(self.join_secret, self.network, hello.nonce, answer)):
            log.warning("hello answer from %s does not prove the join secret; ignored", peer_id)
            return False
        self.directory.mark_seen(peer_id)
        await self._merge(answer.records, peer_id)
        return True

    async def resync(self) -> bool:
        """Hello to one random member (preferring online ones) to pick up missed changes."""
        # Members this node has no record of (known only from the ledger) have no address.
        others = [r for r in self.directory.members() if r.peer_id != self.peer_id and r.addrs]
        if not others:
            return False
        online = [r for r in others if self.directory.online(r.peer_id)]
        target = self._rng.choice(online or others)
        for addr in target.dial_addrs():
            if await self.hello(addr):
                return True
        return False

    async def _join_loop(self) -> None:
        delay = self.retry_initial
        while True:
            answered = [addr for addr in self.bootstrap if await self._hello_logged(addr)]
            if answered:
                log.info("joined through %d of %d bootstrap peers: %d validators known",
                         len(answered), len(self.bootstrap), len(self.directory.members()))
                await self._introduce({peer_of_multiaddr(addr) for addr in answered})
                self.joined.set()
                return
            log.warning("no bootstrap peer answered (%d tried); retrying in %.1f s",
                        len(self.bootstrap), delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.retry_max)

    async def _introduce(self, greeted: set[str | None]) -> None:
        """Hello every other member once: gossip reaches a new node's peers only after
        the mesh includes it, so without this they would learn of it at the next resync."""
        for record in self.directory.members():
            if record.peer_id == self.peer_id or record.peer_id in greeted:
                continue
            for addr in record.dial_addrs():
                if await self._hello_logged(addr):
                    break

    async def _hello_logged(self, addr: str) -> bool:
        # A transport failing in a way its contract does not name must not end the loop.
        try:
            return await self.hello(addr)
        except Exception:
            log.exception("hello to %s failed", addr)
            return False

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync_interval)
            try:
                await self.resync()
            except Exception:
                log.exception("validator set re-sync failed")

    # -- answering -------------------------------------------------------------------

    async def _on_hello(self, sender: str, request: bytes) -> bytes:
        try:
            answer = await self._answer(sender, request)
        except Exception:
            log.exception("hello from %s failed", sender)
            answer = _refusal("internal error")
        return wire.encode(answer)

    async def _answer(self, sender: str, request: bytes) -> HelloAnswer:
        if not self._running:
            return _refusal("node is stopping")
        try:
            hello = wire.decode(request, Hello, max_size=MAX_HELLO_BYTES)
        except EncodingError as exc:
            log.warning("malformed hello from %s: %s", sender, exc)
            return _refusal("malformed hello")
        record, now = hello.record, self._now_ms()
        if record.peer_id != sender:
            reason = "the record is not the sender's own"
        elif self.join_secret is not None and not hmac.compare_digest(
                hello.mac, hello_mac(self.join_secret, self.network, hello)):
            reason = "wrong or missing join secret"
        elif abs(now - hello.sent_at) > self.hello_window_ms:
            reason = f"hello time is more than {self.hello_window_ms // 1000} s off"
        else:
            problem = record.problem(self.network)
            reason = f"record refused: {problem}" if problem else self._remember(hello.nonce, now)
        if reason:
            log.warning("refused hello from %s: %s", sender, reason)
            return _refusal(reason)
        changed = await self.directory.add(record, source=sender)
        if not self.directory.is_known(sender):
            return _refusal("the validator set is full")
        self.directory.mark_seen(sender)
        if changed:
            await self._announce(record)
        answer = HelloAnswer(records=tuple(self.directory.shared_records()), refusal="", mac=b"")
        if self.join_secret is None:
            return answer
        return dataclasses.replace(answer, mac=answer_mac(self.join_secret, self.network, hello.nonce, answer))

    def _remember(self, nonce: bytes, now: int) -> str:
        """Record a hello's nonce; the refusal reason if it was seen or there is no room."""
        horizon = now - self.hello_window_ms
        self._nonces = {n: t for n, t in self._nonces.items() if t >= horizon}
        if nonce in self._nonces:
            return "replayed hello"
        if len(self._nonces) >= MAX_NONCES:
            return "too many hellos; retry later"
        self._nonces[nonce] = now
        return ""

    async def _on_announcement(self, sender: str, data: bytes) -> None:
        if not self._running:
            return
        try:
            if not self.directory.is_member(sender):
                log.info("ignored a validator announcement from non-member %s", sender)
                return
            try:
                record = wire.decode(data, ValidatorRecord, max_size=MAX_RECORD_BYTES)
            except EncodingError as exc:
                log.warning("malformed validator announcement from %s: %s", sender, exc)
                return
            self.directory.mark_seen(sender)
            await self._merge((record,), sender)
        except Exception:
            log.exception("validator announcement from %s failed", sender)

    # -- merging ---------------------------------------------------------------------

    async def _merge(self, records: tuple[ValidatorRecord, ...], source: str) -> None:
        for record in records:
            if record.peer_id == self.peer_id:
                await self._outdated_self(record, source)
            else:
                await self.directory.add(record, source=source)

    async def _outdated_self(self, record: ValidatorRecord, source: str) -> None:
        """A peer holds a record of ours later than the one we sign now (our clock went
        back, or our store was lost): sign ours again, later, so peers take it."""
        own = self.directory.self_record
        if record == own or not newer(record, own) or not record.verify(self.network):
            return
        log.warning("%s holds a later record of this node; signing a new one", source)
        renewed = ValidatorRecord.create(self.identity, own.addrs, own.http_url,
                                         max(self._now_ms(), record.joined_at + 1), network=self.network)
        await self.directory.renew_self(renewed)
        await self._announce(renewed)

    async def _announce(self, record: ValidatorRecord) -> None:
        try:
            await self.transport.publish(TOPIC, wire.encode(record))
        except (TransportError, OSError) as exc:
            log.warning("could not announce validator %s: %s", record.peer_id, exc)

    def _on_directory_change(self, record: ValidatorRecord) -> None:
        if record.peer_id != self.peer_id:
            self.transport.add_peer_addrs(record.peer_id, list(record.addrs))
