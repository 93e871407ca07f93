"""``tssnet devnet``: N validators on loopback, each its own process, store and log.

Node i (1-based) serves HTTP on base_port + i and libp2p on base_port + 1000 + i, keeps
its state in <data-dir>/node-i, and logs to <data-dir>/node-i/node.log (and, unless
quiet, to this terminal with a node prefix). Node 1 is every other node's bootstrap
peer. All nodes share one API key and one join secret, both random unless given.
With four nodes or more (PBFT needs n >= 4) every node is a validator of one ledger
whose genesis is <data-dir>/genesis.json; with fewer the ledger is off.
Ctrl-C or SIGTERM stops every node cleanly (SIGTERM, then SIGKILL after a grace time).
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemon.client import ApiError, Client
from daemon.errors import BadRequest
from daemon.identity import NodeIdentity
from daemon.init import init_node
from daemon.ledger_genesis import GenesisValidator, LedgerGenesis
from ledger.config import MIN_VALIDATORS

STOP_GRACE = 10.0
READY_TIMEOUT = 90.0
GENESIS_NAME = "genesis.json"
CHAIN_ID = "tssnet-devnet"


@dataclass
class DevnetNode:
    index: int
    url: str
    peer_id: str
    data_dir: Path
    config_path: Path
    process: subprocess.Popen | None = None
    ledger_genesis: Path | None = None   # None: the ledger is off


def plan(nodes: int, base_port: int, data_dir: Path, api_key: str, join_secret: str,
         settings: dict[str, Any],
         node_settings: Callable[[int, Path], dict[str, Any]] | None = None) -> list[DevnetNode]:
    """Write each node's directory and config, and the ledger genesis; nothing is started yet.

    ``node_settings(i, node_dir)`` adds options for node i alone (tests give each
    node its own slice of pre-generated primes this way). A ``ledger_genesis`` in
    ``settings`` is used as it is; otherwise, with enough nodes, the devnet writes one.
    """
    if not 1 <= nodes <= 32:
        raise BadRequest("--nodes is between 1 and 32")
    if not 1024 <= base_port <= 65535 - 1000 - nodes:
        raise BadRequest("--base-port leaves no room for the nodes' ports")
    genesis = None
    if "ledger_genesis" not in settings and nodes >= MIN_VALIDATORS:
        genesis = (data_dir / GENESIS_NAME).resolve()
    planned: list[DevnetNode] = []
    bootstrap: list[str] = []
    for i in range(1, nodes + 1):
        options = {"http_port": base_port + i, "p2p_port": base_port + 1000 + i,
                   "join_secret": join_secret, "bootstrap": list(bootstrap),
                   **({"ledger_genesis": str(genesis)} if genesis is not None else {}), **settings}
        if node_settings is not None:
            options.update(node_settings(i, data_dir / f"node-{i}"))
        result = init_node(data_dir / f"node-{i}", options, api_key=api_key, replace_config=True)
        if i == 1:
            bootstrap = [result.multiaddr]
        planned.append(DevnetNode(i, f"http://127.0.0.1:{base_port + i}", result.peer_id,
                                  result.config_path.parent, result.config_path,
                                  ledger_genesis=genesis))
    if genesis is not None:
        write_genesis(genesis, planned)
    return planned


def write_genesis(path: Path, nodes: list[DevnetNode]) -> LedgerGenesis:
    """The devnet's genesis with every node as a validator.

    A file that already names exactly these validators for this chain is kept as it is
    (its time, and any knob edited into it), so a restarted devnet keeps its chain; any
    other is replaced.
    """
    validators = tuple(
        GenesisValidator(n.peer_id, NodeIdentity.load_or_create(n.data_dir / "identity.key").public_key)
        for n in nodes)
    if path.exists():
        try:
            existing = LedgerGenesis.load(path)
        except BadRequest:
            existing = None
        if existing is not None and existing.chain_id == CHAIN_ID and existing.validators == validators:
            return existing
    genesis = LedgerGenesis(CHAIN_ID, int(time.time() * 1000), validators)
    genesis.save(path)
    return genesis


def _pipe_log(node: DevnetNode, quiet: bool) -> None:
    """Copy a node's output to its log file and, unless quiet, to this terminal."""
    assert node.process is not None and node.process.stdout is not None
    with open(node.data_dir / "node.log", "ab") as log:
        for line in node.process.stdout:
            log.write(line)
            log.flush()
            if not quiet:
                sys.stdout.write(f"[node{node.index}] {line.decode(errors='replace')}")
                sys.stdout.flush()


def start(node: DevnetNode, quiet: bool) -> None:
    node.process = subprocess.Popen(
        [sys.executable, "-m", "daemon.cli", "node", "--config", str(node.config_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    threading.Thread(target=_pipe_log, args=(node, quiet), daemon=True).start()


def wait_ready(nodes: list[DevnetNode], api_key: str, timeout: float = READY_TIMEOUT,
               expected: int | None = None) -> None:
    """Until each of ``nodes`` answers and knows ``expected`` validators (default: all of them)."""
    expected = len(nodes) if expected is None else expected
    deadline = time.monotonic() + timeout
    for node in nodes:
        while True:
            if node.process is not None and node.process.poll() is not None:
                raise RuntimeError(f"node {node.index} exited with {node.process.returncode}; "
                                   f"see {node.data_dir / 'node.log'}")
            try:
                if len(Client(node.url, api_key, timeout=2).validators()) == expected:
                    break
            except ApiError:   # not listening yet, or still starting
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"node {node.index} not ready after {timeout:.0f} s; "
                                   f"see {node.data_dir / 'node.log'}")
            time.sleep(0.2)


def stop(nodes: list[DevnetNode]) -> None:
    running = [n for n in nodes if n.process is not None and n.process.poll() is None]
    for node in running:
        node.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for node in running:
        try:
            node.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait()


def run(nodes: int, base_port: int, data_dir: Path, api_key: str | None, settings: dict[str, Any],
        *, quiet: bool = False) -> int:
    api_key = api_key or secrets.token_urlsafe(24)
    join_secret = settings.pop("join_secret", None) or secrets.token_urlsafe(24)
    planned = plan(nodes, base_port, data_dir.resolve(), api_key, join_secret, settings)
    print(ledger_note(planned), flush=True)
    stopping = threading.Event()

    def on_signal(signum, frame):
        stopping.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for node in planned:
            start(node, quiet)
        wait_ready(planned, api_key)
        print(describe(planned, api_key), flush=True)
        while not stopping.is_set():
            if any(n.process.poll() is not None for n in planned):
                print("a node exited; stopping the devnet", file=sys.stderr)
                return 1
            stopping.wait(0.5)
        return 0
    except RuntimeError as exc:
        print(f"devnet: {exc}", file=sys.stderr)
        return 1
    finally:
        stop(planned)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def describe(nodes: list[DevnetNode], api_key: str) -> str:
    lines = [f"devnet ready: {len(nodes)} validators", f"API key: {api_key}"]
    lines += [f"  node {n.index}  {n.url}  peer {n.peer_id}  data {n.data_dir}" for n in nodes]
    lines.append(ledger_note(nodes))
    lines.append(f"try: curl -X POST -H 'X-API-Key: {api_key}' '{nodes[0].url}/start?wait=true'")
    lines.append("Ctrl-C stops every node.")
    return "\n".join(lines)


def ledger_note(nodes: list[DevnetNode]) -> str:
    genesis = nodes[0].ledger_genesis if nodes else None
    if genesis is not None:
        return f"ledger: chain {CHAIN_ID}, {len(nodes)} validators, genesis {genesis}"
    if len(nodes) < MIN_VALIDATORS:
        return (f"ledger: off (PBFT needs at least {MIN_VALIDATORS} validators; "
                f"this devnet has {len(nodes)})")
    return "ledger: as the ledger_genesis given with --set says"
