"""Three (or more) nodes in one process: real identities, stores and sealers, a FakeNetwork.

    async with Cluster(3) as c:
        session_id = await c.services[0].start_keygen(KeygenRequest(threshold=1))

Each node has its own SQLite store in a temporary directory, its own Sealer and a
disjoint slice of the committed safe-prime pool. Workers are threads unless
``processes=True`` (same code path). ``restart(i)`` builds new objects over node
i's store, as a restarted daemon would.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from daemon.config import NodeConfig
from daemon.errors import BadRequest
from daemon.identity import NodeIdentity
from daemon.node_service import LocalNodeService
from daemon.router import Router
from daemon.sessions import SessionEngine
from daemon.store.aio import AsyncStore
from daemon.store.sealed import Sealer
from daemon.store.sqlite import SqliteStore
from protocol.params import SecurityLevel
from tests.daemon.fake_transport import FakeNetwork
from tests.primepool import pool_primes

FAST = SecurityLevel(name="test-80", repetitions=80)


@dataclass(frozen=True)
class Record:
    peer_id: str
    identity_key: bytes
    addrs: tuple[str, ...] = ()
    http_url: str | None = None


class Directory:
    """The few ValidatorDirectory methods the engine and service use."""

    def __init__(self, records: list[Record], self_id: str, net: FakeNetwork) -> None:
        self._members = sorted(records, key=lambda r: r.peer_id)
        self._self, self._net = self_id, net
        #: peers reported online whatever the network says (to reach a send that fails)
        self.force_online: set[str] = set()

    def members(self):
        return list(self._members)

    def candidates(self):
        return []   # no ledger here: every known validator is a member

    def get(self, peer_id):
        return next((r for r in self._members if r.peer_id == peer_id), None)

    def is_member(self, peer_id):
        return self.get(peer_id) is not None

    def index_of(self, peer_id):
        return [r.peer_id for r in self._members].index(peer_id)

    def resolve(self, player):
        if isinstance(player, bool) or not isinstance(player, int | str):
            raise BadRequest(f"bad player {player!r}")
        if isinstance(player, int):
            if not 0 <= player < len(self._members):
                raise BadRequest(f"no validator {player}")
            return self._members[player].peer_id
        if not self.is_member(player):
            raise BadRequest(f"{player!r} is not a validator")
        return player

    def online(self, peer_id):
        return peer_id in (self._self, *self.force_online) or self._net.reachable(peer_id)


class Primes:
    """A node's slice of the test prime pool (``take`` as daemon.prime_pool.PrimePool)."""

    def __init__(self, primes) -> None:
        self._primes = list(primes)

    def __len__(self) -> int:
        return len(self._primes)

    def ready(self) -> int:
        return len(self._primes)

    async def take(self, count: int, timeout: float) -> list[int]:
        if len(self._primes) < count:
            raise TimeoutError("no primes left in the test slice")
        taken, self._primes = self._primes[:count], self._primes[count:]
        return taken


class Mailbox:
    def __init__(self) -> None:
        self.posts = []

    async def post(self, round_id, message, to):
        self.posts.append((round_id, message, to))

    def messages(self, round_id, direct):
        return []


class Node:
    def __init__(self, cluster: Cluster, index: int, identity: NodeIdentity) -> None:
        self.cluster, self.index, self.identity = cluster, index, identity
        self.peer_id = identity.peer_id
        self.path = Path(cluster.tmp.name) / f"node{index}.db"
        self.primes = Primes(cluster.primes[index::cluster.n])
        self.sealer = Sealer(bytes([index + 1]) * 32)
        self.transport = cluster.net.transport(self.peer_id)
        self.engine: SessionEngine | None = None
        self.service: LocalNodeService | None = None
        self.store: AsyncStore | None = None

    async def start(self) -> None:
        c = self.cluster
        self.store = AsyncStore(SqliteStore(self.path))
        router = Router()
        self.transport.set_message_handler(router.dispatch)
        await self.transport.start()
        self.directory = directory = Directory(c.records, self.peer_id, c.net)
        self.engine = SessionEngine(config=c.config, identity=self.identity, store=self.store,
                                    sealer=self.sealer, transport=self.transport, directory=directory,
                                    router=router, prime_pool=self.primes, processes=c.processes,
                                    level=c.level)
        await self.engine.start()
        self.service = LocalNodeService(engine=self.engine, directory=directory, mailbox=Mailbox())

    async def stop(self) -> None:
        await self.engine.stop()
        await self.transport.stop()
        await self.store.close()

    async def dump(self) -> dict[str, bytes]:
        """Every (key, value) of this node's store."""
        return dict(await self.store.scan(""))


class Cluster:
    def __init__(self, n: int = 3, *, processes: bool = False, copy_from: Path | None = None,
                 level: SecurityLevel = FAST, **config) -> None:
        """``copy_from``: a directory of node stores (``save``) to start from, e.g. with a key made."""
        self.n, self.processes, self.level = n, processes, level
        defaults = {"keygen_timeout": 30.0, "session_timeout": 15.0, "presign_pool_size": 0,
                    "workers": 1}
        self.config = NodeConfig(**{**defaults, **config})
        self.net = FakeNetwork()
        self.tmp = tempfile.TemporaryDirectory()
        self.primes = pool_primes()
        identities = sorted((NodeIdentity.from_seed(bytes([0x40 + i]) * 32) for i in range(n)),
                            key=lambda i: i.peer_id)
        self.records = [Record(i.peer_id, i.public_key) for i in identities]
        self.nodes = [Node(self, k, identity) for k, identity in enumerate(identities)]
        if copy_from is not None:
            for path in Path(copy_from).iterdir():
                shutil.copy(path, Path(self.tmp.name) / path.name)

    def save(self, target: Path) -> None:
        """Copy every node's store files to ``target`` (call once the cluster is stopped)."""
        for path in Path(self.tmp.name).iterdir():
            shutil.copy(path, Path(target) / path.name)

    @property
    def services(self) -> list[LocalNodeService]:
        return [node.service for node in self.nodes]

    async def __aenter__(self) -> Cluster:
        for node in self.nodes:
            await node.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()
        self.tmp.cleanup()

    async def stop(self) -> None:
        for node in self.nodes:
            if node.engine is not None and node.engine.running:
                await node.stop()

    async def restart(self, index: int) -> Node:
        node = self.nodes[index]
        await node.stop()
        fresh = Node(self, index, node.identity)
        fresh.primes = node.primes
        self.net.nodes[node.peer_id] = fresh.transport
        self.nodes[index] = fresh
        await fresh.start()
        return fresh


def run(coro):
    return asyncio.run(coro)


class Timer:
    """Wall time of a block, printed (the suite reports timings; it asserts none)."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        print(f"[timing] {self.label}: {time.perf_counter() - self.start:.3f} s")
