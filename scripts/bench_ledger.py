"""Throughput and commit latency of the PBFT ledger, all replicas in this process.

Every replica runs in one Python process over an in-memory FIFO network with no
loss, so the numbers measure the consensus and validation work itself: signing
and checking every message, the Merkle root, and a full ECDSA check of every
bridge-signature transaction by every replica. Clients keep a few blocks' worth
of transactions outstanding and submit more as blocks commit; a transaction's
latency runs from its submission to its commit at the replica it was sent to.

    python scripts/bench_ledger.py --replicas 4 --json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections import deque
from pathlib import Path

from coincurve import PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.block import tx_hash  # noqa: E402
from ledger.config import LedgerConfig, Validator  # noqa: E402
from ledger.crypto import Ed25519Signer  # noqa: E402
from ledger.replica import Replica  # noqa: E402
from ledger.store import MemoryLedgerStore  # noqa: E402
from ledger.txs import KeygenTx, SignatureTx  # noqa: E402
from protocol import wire  # noqa: E402
from protocol.group import SECP256K1  # noqa: E402
from protocol.keygen_certificate import certify  # noqa: E402
from protocol.rng import SeededRng  # noqa: E402


def now_ms() -> int:
    return int(time.time() * 1000)


class Network:
    """Replicas joined by one FIFO queue of (sender, recipient, bytes)."""

    def __init__(self, n: int, block_size: int) -> None:
        signers = [Ed25519Signer(f"validator-{i}", hashlib.sha256(b"bench%d" % i).digest())
                   for i in range(n)]
        config = LedgerConfig(
            chain_id="bench", validators=tuple(Validator(s.node_id, s.public_key) for s in signers),
            max_txs_per_block=block_size, base_timeout=3600.0, checkpoint_interval=16, window=64)
        self.replicas = {s.node_id: Replica(config, s, MemoryLedgerStore()) for s in signers}
        self.queue: deque[tuple[str, str, bytes]] = deque()
        self.origin: dict[bytes, tuple[str, float]] = {}  # tx id -> (replica it went to, when)
        self.latencies_ms: list[float] = []

    def deliver(self, sender: str, out) -> None:
        for msg in out:
            targets = [msg.to] if msg.to is not None else [r for r in self.replicas if r != sender]
            for to in targets:
                self.queue.append((sender, to, msg.data))
        stamp = time.perf_counter()
        for block in self.replicas[sender].take_committed():
            for tx in block.block.txs:
                origin = self.origin.get(tx_hash(tx))
                if origin is not None and origin[0] == sender:
                    self.latencies_ms.append((stamp - origin[1]) * 1000)

    def step(self) -> bool:
        if not self.queue:
            return False
        sender, to, data = self.queue.popleft()
        self.deliver(to, self.replicas[to].receive(sender, data, now=now_ms()))
        return True

    def submit(self, name: str, txs: list[bytes]) -> None:
        stamp = time.perf_counter()
        for data in txs:
            self.origin[tx_hash(data)] = (name, stamp)
        out, rejected = self.replicas[name].submit_batch(txs, now=now_ms())
        if rejected:
            raise SystemExit(f"benchmark transactions refused: {rejected[:3]}")
        self.deliver(name, out)


def make_transactions(count: int) -> tuple[bytes, list[bytes]]:
    """A keygen transaction and ``count`` ECDSA bridge signatures by its key."""
    group, rng, parties = SECP256K1, SeededRng("bench-keygen"), (1, 2, 3)
    polynomials = {i: [group.random_scalar(rng) for _ in range(2)] for i in parties}
    secret = sum(p[0].value for p in polynomials.values()) % group.order
    cert = certify("bench-key", group, parties, 1, polynomials, rng, session_id=b"bench-keygen-session")
    key = PrivateKey(secret.to_bytes(32, "big"))
    keygen = KeygenTx("bench-key", "ecdsa", "secp256k1", key.public_key.format(), parties, 1,
                      wire.encode(cert, group))
    txs = []
    for i in range(count):
        digest = hashlib.sha256(b"bench-message-%d" % i).digest()
        signature = key.sign_recoverable(digest, hasher=None)[:64]
        txs.append(wire.encode(SignatureTx("bench-key", key.public_key.format(), digest, signature,
                                           None)))
    return wire.encode(keygen), txs


def run(replicas: int, transactions: int, block_size: int, outstanding_blocks: int) -> dict:
    net = Network(replicas, block_size)
    names = list(net.replicas)
    keygen, txs = make_transactions(transactions)
    net.submit(names[0], [keygen])
    while net.step():
        pass
    net.latencies_ms.clear()
    next_tx, turn = 0, 0
    start = time.perf_counter()
    while True:
        if next_tx < len(txs) and next_tx - len(net.latencies_ms) < outstanding_blocks * block_size:
            batch = txs[next_tx:next_tx + block_size]
            net.submit(names[turn % len(names)], batch)
            next_tx, turn = next_tx + len(batch), turn + 1
        elif not net.step():
            break
    elapsed = time.perf_counter() - start
    heights = {r.height for r in net.replicas.values()}
    everywhere = all(len(r.state.tx_hashes) == len(txs) + 1 for r in net.replicas.values())
    latencies = sorted(net.latencies_ms)
    return {
        "mode": "in-process",
        "replicas": replicas,
        "transactions": len(txs),
        "committed_everywhere": everywhere,
        "block_size": block_size,
        "blocks": max(heights),
        "seconds": round(elapsed, 3),
        "tx_per_s": round(len(latencies) / elapsed, 1),
        "latency_ms": {
            "p50": round(statistics.median(latencies), 2),
            "p99": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="A --processes mode (one OS process per replica over the node's real transport) "
               "arrives with the node daemon.")
    parser.add_argument("--replicas", type=int, choices=(4, 7), default=4)
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--block-size", type=int, default=500, help="max transactions per block")
    parser.add_argument("--outstanding-blocks", type=int, default=3,
                        help="blocks' worth of transactions clients keep in flight")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = run(args.replicas, args.transactions, args.block_size, args.outstanding_blocks)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
