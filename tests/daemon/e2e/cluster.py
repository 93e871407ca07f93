"""Real validator processes on loopback for end-to-end tests, through the devnet code.

Each node gets its own disjoint slice of the committed test safe primes (so keygen
does not wait for prime generation), short session timeouts and no background
presigning unless a test asks for it. Ports come from a base the OS showed free.
"""

from __future__ import annotations

import contextlib
import secrets
import signal
import socket
from pathlib import Path

from daemon import devnet
from daemon.client import Client
from tests.primepool import pool_primes

PRIMES_PER_NODE = 12


def free_base_port(nodes: int) -> int:
    """A base port whose HTTP (base+i) and p2p (base+1000+i) ports are all free now."""
    for _ in range(200):
        base = 20000 + secrets.randbelow(20000)
        ports = [base + i for i in range(1, nodes + 1)] + [base + 1000 + i for i in range(1, nodes + 1)]
        if all(_free(port) for port in ports):
            return base
    raise RuntimeError("no free ports")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class Cluster:
    def __init__(self, root: Path, nodes: int = 3, **settings) -> None:
        self.api_key = secrets.token_urlsafe(16)
        primes = pool_primes()
        if nodes * PRIMES_PER_NODE > len(primes):
            raise ValueError("not enough test primes for that many nodes")

        def per_node(i: int, node_dir: Path) -> dict:
            node_dir.mkdir(parents=True, exist_ok=True)
            mine = primes[(i - 1) * PRIMES_PER_NODE:i * PRIMES_PER_NODE]
            path = node_dir / "test-primes.txt"
            path.write_text("".join(f"{int(p):x}\n" for p in mine))
            return {"prime_pool_file": str(path)}

        options = {"session_timeout": 20.0, "keygen_timeout": 60.0, "presign_pool_size": 0,
                   "prime_pool_size": 2, "workers": 1, "insecure_test_primes": True, **settings}
        self.nodes = devnet.plan(nodes, free_base_port(nodes), root, self.api_key,
                                 secrets.token_urlsafe(16), options, per_node)

    def start(self, *indices: int) -> None:
        """Start the given nodes (default all) and wait until each sees the whole set."""
        picked = self._pick(indices)
        for node in picked:
            devnet.start(node, quiet=True)
        devnet.wait_ready(picked, self.api_key, timeout=60, expected=len(self.nodes))

    def _pick(self, indices) -> list[devnet.DevnetNode]:
        return [n for n in self.nodes if not indices or n.index in indices]

    def client(self, index: int) -> Client:
        return Client(self.nodes[index - 1].url, self.api_key)

    def stop(self, index: int) -> None:
        devnet.stop([self.nodes[index - 1]])

    def kill(self, index: int) -> None:
        node = self.nodes[index - 1]
        with contextlib.suppress(ProcessLookupError):
            node.process.send_signal(signal.SIGKILL)
        node.process.wait()

    def children(self, index: int) -> set[int]:
        """Pids of the node's child processes (its worker pools), from /proc."""
        pid = self.nodes[index - 1].process.pid
        found: set[int] = set()
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.update(int(c) for c in (task / "children").read_text().split())
        return found

    def log(self, index: int) -> str:
        path = self.nodes[index - 1].data_dir / "node.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        devnet.stop(self.nodes)

    def __enter__(self) -> Cluster:
        """Every node started and wired; stopped again if starting fails."""
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
