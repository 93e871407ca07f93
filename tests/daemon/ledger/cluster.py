"""Four ledger nodes in one process over a FakeNetwork, each with its own SQLite file."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path

from daemon.identity import NodeIdentity
from daemon.ledger_genesis import GenesisValidator, LedgerGenesis
from daemon.ledger_node import LedgerNode
from daemon.router import Router
from daemon.store.kv import KVStore
from daemon.store.sqlite import SqliteStore
from tests.daemon.fake_transport import FakeNetwork

#: short enough that a view change takes a fraction of a second
FAST = {"base_timeout": 0.15, "checkpoint_interval": 4, "window": 16, "max_txs_per_block": 8}


def identity(name: str) -> NodeIdentity:
    return NodeIdentity.from_seed(hashlib.sha256(b"ledger-node:" + name.encode()).digest())


def make_genesis(identities: list[NodeIdentity], **knobs) -> LedgerGenesis:
    validators = tuple(GenesisValidator(i.peer_id, i.public_key) for i in identities)
    return LedgerGenesis("test-ledger", 1_000, validators, {**FAST, **knobs})


class Cluster:
    def __init__(self, directory: Path, n: int = 4, status_interval: float = 60.0, **knobs) -> None:
        self.directory = directory
        self.status_interval = status_interval
        self.net = FakeNetwork()
        self.identities = {i.peer_id: i for i in (identity(f"n{k}") for k in range(n))}
        self.genesis = make_genesis(list(self.identities.values()), **knobs)
        self.nodes: dict[str, LedgerNode] = {}
        #: peer id -> height -> block hash, as the node's commit subscribers saw them
        self.chains: dict[str, dict[int, bytes]] = {p: {} for p in self.identities}

    @property
    def peers(self) -> list[str]:
        return sorted(self.identities)

    async def start(self, peer_id: str | None = None, kv: KVStore | None = None) -> None:
        for peer in [peer_id] if peer_id else self.peers:
            transport = self.net.transport(peer)
            router = Router()
            transport.set_message_handler(router.dispatch)
            await transport.start()
            node = LedgerNode(genesis=self.genesis, identity=self.identities[peer],
                              kv=kv or SqliteStore(self.directory / f"{peer}.db", "ledger"),
                              transport=transport, router=router,
                              status_interval=self.status_interval)

            async def record(committed, peer=peer):
                self.chains[peer][committed.block.height] = committed.block.hash()

            node.on_commit(record)
            self.nodes[peer] = node
            await node.start()

    async def stop(self, peer_id: str | None = None) -> None:
        for peer in [peer_id] if peer_id else list(self.nodes):
            node = self.nodes.pop(peer)
            await node.stop()
            await self.net.nodes[peer].stop()

    def heights(self, peers: list[str] | None = None) -> dict[str, int]:
        return {p: self.nodes[p].status().height for p in (peers or list(self.nodes))}


async def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``condition`` until it holds; the bound is generous, never a timing claim."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)
