"""Throughput and commit latency of the PBFT ledger.

By default every replica runs in this one process over an in-memory FIFO network
with no loss, so the numbers measure the consensus and validation work itself:
signing and checking every message, the Merkle root, and a full ECDSA check of
every bridge-signature transaction by every replica. Clients keep a few blocks'
worth of transactions outstanding and submit more as blocks commit; a
transaction's latency runs from its submission to its commit at the replica it
was sent to.

With ``--processes`` each replica is a LedgerNode in its own OS process over the
node's real transport (libp2p on loopback) and its own SQLite store; see
``ledger_bench_processes``.

    python scripts/bench_ledger.py --replicas 4 --json
    python scripts/bench_ledger.py --replicas 4 --processes --json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import sys
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger_bench_common import make_transactions, summary  # noqa: E402

from ledger.block import tx_hash  # noqa: E402
from ledger.config import LedgerConfig, Validator  # noqa: E402
from ledger.crypto import Ed25519Signer  # noqa: E402
from ledger.replica import Replica  # noqa: E402
from ledger.store import MemoryLedgerStore  # noqa: E402


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
    everywhere = all(len(r.state.tx_hashes) == len(txs) + 1 for r in net.replicas.values())
    return summary("in-process", replicas=replicas, transactions=len(txs),
                   committed_everywhere=everywhere, block_size=block_size,
                   blocks=max(r.height for r in net.replicas.values()), seconds=elapsed,
                   latencies_ms=net.latencies_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, choices=(4, 7), default=4)
    parser.add_argument("--transactions", type=int,
                        help="signature transactions (default 20000; 5000 with --processes)")
    parser.add_argument("--block-size", type=int, default=500, help="max transactions per block")
    parser.add_argument("--outstanding-blocks", type=int, default=3,
                        help="in-process: blocks' worth of transactions clients keep in flight")
    parser.add_argument("--processes", action="store_true",
                        help="one OS process per replica over the real transport")
    parser.add_argument("--outstanding", type=int, default=5,
                        help="--processes: clients per submitting replica, one transaction each")
    parser.add_argument("--submit-at", type=int, default=0,
                        help="--processes: replicas that take submissions (default all)")
    parser.add_argument("--duration", type=float,
                        help="--processes: stop submitting after this many seconds")
    parser.add_argument("--base-timeout", type=float, default=1.0,
                        help="--processes: the genesis' view-change base timeout in seconds")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.processes:
        from ledger_bench_processes import BenchError, run_processes

        # SIGTERM unwinds like Ctrl-C, so the replica processes are stopped on the way out.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            result = run_processes(args.replicas, args.transactions or 5_000, args.block_size,
                                   args.outstanding, args.submit_at or args.replicas,
                                   args.duration, args.base_timeout)
        except BenchError as exc:
            raise SystemExit(f"bench_ledger --processes failed: {exc}") from None
        except KeyboardInterrupt:
            print("interrupted; the replica processes were stopped", file=sys.stderr)
            raise SystemExit(130) from None
    else:
        result = run(args.replicas, args.transactions or 20_000, args.block_size,
                     args.outstanding_blocks)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>26}: {value}")


if __name__ == "__main__":
    main()
