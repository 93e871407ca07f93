"""The composition root: builds a validator node from its config, runs it, stops it.

Order matters in both directions. Starting: identity and master key (refusing to
run without them), store, transport, validator set and discovery, the ledger (when
a genesis names this node), prime pool, sessions, then the HTTP API last, so that
nothing is served before the node can act on it. Stopping reverses that: the API
stops accepting first, running sessions end, the ledger stops, then the network,
then the store closes.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import version

from aiohttp import web

from daemon import logs
from daemon.api import ApiMetrics, create_app
from daemon.config import MASTER_KEY_ENV, NodeConfig
from daemon.discovery import Discovery
from daemon.errors import BadRequest
from daemon.identity import NodeIdentity
from daemon.ledger_genesis import LedgerGenesis
from daemon.ledger_keygen import KeygenPublisher
from daemon.ledger_node import LedgerNode
from daemon.mailbox import Mailbox
from daemon.membership import Membership
from daemon.node_service import LocalNodeService
from daemon.orphans import start_worker
from daemon.p2p.host import P2PHost
from daemon.p2p.transport import Transport
from daemon.prime_pool import GENERATOR_NICENESS, PrimePool
from daemon.router import Router
from daemon.sessions import SessionEngine
from daemon.store import open_store
from daemon.store.aio import AsyncStore
from daemon.store.master_key import create_master_key, load_master_key
from daemon.store.sealed import Sealer
from daemon.validator_changes import ValidatorChanges
from daemon.validators import ValidatorDirectory, ValidatorRecord

log = logging.getLogger("tssnet.node")


class Node:
    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self._stops: list = []           # coroutine functions that stop what was started, in order
        self.service: LocalNodeService | None = None
        self.identity: NodeIdentity | None = None

    async def start(self) -> None:
        config = self.config
        if not config.api_keys:
            raise BadRequest("no API key configured: set api_keys in the config or pass --api-key")
        config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.identity = identity = NodeIdentity.load_or_create(config.identity_path)
        sealer = Sealer(self._master_key())
        store = AsyncStore(open_store(config, identity.peer_id))
        self._stops.append(store.close)

        transport = P2PHost(identity, config.p2p_host, config.p2p_port)
        router = Router()

        async def on_message(peer_id: str, payload: bytes) -> None:
            directory.mark_seen(peer_id)   # any admitted traffic shows the peer is up
            await router.dispatch(peer_id, payload)

        transport.set_message_handler(on_message)
        await transport.start()
        self._stops.append(transport.stop)

        record = ValidatorRecord.create(identity, tuple(transport.listen_addrs), config.http_url,
                                        int(time.time() * 1000))
        # With a ledger, its validator set decides who is a member (see daemon.membership);
        # it is opened before discovery so no joiner is ever a member by hello alone.
        membership = Membership()
        ledger = open_ledger(config, identity, transport, router, membership)
        if ledger is not None:
            self._stops.append(ledger.stop)
        directory = ValidatorDirectory(store, record, membership=membership)
        directory.use_connectivity(transport.connected)
        discovery = Discovery(identity, directory, transport, bootstrap=list(config.bootstrap),
                              join_secret=config.join_secret)
        await discovery.start()
        self._stops.append(discovery.stop)

        publisher = changes = None
        if ledger is not None:
            await ledger.start()
            publisher = KeygenPublisher(ledger)
            self._stops.append(publisher.close)
            changes = ValidatorChanges(ledger=ledger, directory=directory, identity=identity,
                                       transport=transport, store=store)
            await changes.start()
            self._stops.append(changes.stop)

        # spawn: forking a process that already runs threads (store, libp2p) is unsafe.
        generator = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=start_worker, initargs=(GENERATOR_NICENESS,))
        self._stops.append(lambda: asyncio.to_thread(generator.shutdown, cancel_futures=True))
        primes = PrimePool(store, sealer, bits=config.paillier_bits // 2, target=config.prime_pool_size,
                           seed_file=config.prime_pool_file, executor=generator)
        await primes.start()
        self._stops.append(primes.stop)

        engine = SessionEngine(config=config, identity=identity, store=store, sealer=sealer,
                               transport=transport, directory=directory, router=router,
                               prime_pool=primes, on_key_created=publisher)
        await engine.start()
        self._stops.append(engine.stop)

        mailbox = Mailbox(transport, router, identity.peer_id, directory.is_member,
                          lambda: [r.peer_id for r in directory.members()])
        self.service = LocalNodeService(engine=engine, directory=directory, mailbox=mailbox,
                                        ledger=ledger, changes=changes)
        app = create_app(self.service, api_keys=config.api_keys, max_body_bytes=config.max_body_bytes,
                         metrics=ApiMetrics(service_metrics=self.service.metrics),
                         keygen_timeout=config.keygen_timeout)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        self._stops.append(runner.cleanup)
        await web.TCPSite(runner, config.http_host, config.http_port).start()
        log.info("tssnet %s node %s serving %s (p2p %s)", version("tssnet"), identity.peer_id,
                 config.http_url, ", ".join(transport.listen_addrs))

    def _master_key(self) -> bytes:
        path = self.config.master_key_path
        if (self.config.master_key_file is None and MASTER_KEY_ENV not in os.environ
                and not path.exists() and not self._has_state()):
            # A brand-new node makes its own key, as `tssnet init` would.
            create_master_key(path)
            log.warning("created a new master key at %s: back it up, sealed state needs it", path)
        return load_master_key(self.config)

    def _has_state(self) -> bool:
        return self.config.redis_url is not None or (self.config.data_dir / "node.db").exists()

    async def stop(self) -> None:
        while self._stops:
            stop = self._stops.pop()
            try:
                await stop()
            except Exception:
                log.exception("error while stopping the node")
        log.info("node stopped")


def open_ledger(config: NodeConfig, identity: NodeIdentity, transport: Transport,
                router: Router, membership: Membership | None = None) -> LedgerNode | None:
    """This node's ledger replica (not started), or None, logged, when the ledger is off here.

    A node the genesis does not name follows the chain (a candidate until an approved
    validator change adds it); ``membership`` follows the ledger's validator set."""
    path = config.ledger_genesis
    if path is None:
        log.info("ledger off: no ledger_genesis configured")
        return None
    genesis = LedgerGenesis.load(path)
    if not genesis.has_validator(identity.peer_id):
        log.info("ledger: this node (%s) is not a validator in the genesis %s of chain %r; it "
                 "follows the chain until an approved validator change adds it",
                 identity.peer_id, path, genesis.chain_id)
    # One namespace per chain: a node given another genesis starts that chain afresh
    # instead of replaying blocks that build on a different genesis hash.
    kv = open_store(config, f"{identity.peer_id}.ledger-{genesis.hash().hex()[:16]}")
    try:
        return LedgerNode(genesis=genesis, identity=identity, kv=kv, transport=transport, router=router,
                          membership=membership)
    except BaseException:
        kv.close()
        raise


async def serve(config: NodeConfig) -> None:
    node = Node(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await node.start()
        await stop.wait()
        log.info("stopping")
    finally:
        await node.stop()


def run_node(config: NodeConfig) -> int:
    logs.setup(config.log_level, as_json=config.log_json)
    asyncio.run(serve(config))
    return 0
