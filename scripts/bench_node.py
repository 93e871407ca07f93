#!/usr/bin/env python3
"""Benchmark a local network of validator processes end to end, over HTTP.

    python scripts/bench_node.py --nodes 3 --json
    python scripts/bench_node.py --nodes 3 --duration 20 --clients 8 --pool 100

Starts a fresh devnet (each node its own process and store; fresh safe primes,
which each node generates in the background on its first start), then measures:

* ``primes_fill_s``: how long fresh nodes take to have two safe primes ready;
* ``keygen_s``: ECDSA keygen with auxiliary info, end to end through
  ``POST /v1/keys``, each run started once every node has primes ready;
* ``sign_fresh_ms``: signing a raw digest (presign and sign in one session);
* ``presign_fill_per_s``: presignatures the background pool adds per second;
* ``sign_pooled_ms``: signing a message with a presignature ready, one at a time;
* ``throughput``: concurrent clients signing for ``--duration`` seconds:
  ``full_pool_per_s`` over the first ``--pool`` signatures (the two coordinators'
  pools from full down to half, where refilling starts), and ``sustained_per_s``
  over the last half of the run, which presign CPU bounds once the pools are dry.

Latencies are wall-clock medians and 90th percentiles as a client sees them.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from daemon import devnet  # noqa: E402
from daemon.client import AsyncClient  # noqa: E402


def summary(samples: list[float], scale: float = 1.0) -> dict:
    ordered = sorted(samples)
    nearest_rank = max(0, math.ceil(0.9 * len(ordered)) - 1)
    return {"n": len(ordered), "p50": round(statistics.median(ordered) * scale, 3),
            "p90": round(ordered[nearest_rank] * scale, 3)}


async def wait_for(check, timeout: float, what: str, poll: float = 0.2) -> float:
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(poll)
    return time.monotonic() - started


async def primes_ready(clients: list[AsyncClient], count: int = 2) -> bool:
    ready = [(await c.health())["primes_ready"] for c in clients]
    return min(ready) >= count


async def bench(args, nodes: list[devnet.DevnetNode], api_key: str) -> dict:
    clients = [AsyncClient(n.url, api_key, timeout=600) for n in nodes]
    by_peer = {n.peer_id: c for n, c in zip(nodes, clients, strict=True)}
    result: dict = {"nodes": args.nodes, "threshold": 1}
    try:
        result["primes_fill_s"] = round(await wait_for(lambda: primes_ready(clients), 900, "primes"), 2)

        keygen_times = []
        for _ in range(args.keygens):
            await wait_for(lambda: primes_ready(clients), 900, "primes to refill")
            started = time.monotonic()
            timed = await clients[0].keygen("ecdsa", "secp256k1", 1)
            keygen_times.append(time.monotonic() - started)
            # Its presignature pool would compete with the next keygen for the CPU.
            for client in clients:
                await client.delete_share(timed["key_id"])
        result["keygen_s"] = summary(keygen_times)
        await wait_for(lambda: primes_ready(clients), 900, "primes to refill")
        key = await clients[0].keygen("ecdsa", "secp256k1", 1)

        # The pool is filled for parties 1..t+1; their nodes coordinate pooled signs.
        signers = [by_peer[p] for p in key["participants"][:2]]
        fresh = []
        for i in range(args.fresh_signs):
            started = time.monotonic()
            await signers[0].sign(key["key_id"], digest=hashlib.sha256(b"fresh %d" % i).digest())
            fresh.append(time.monotonic() - started)
        result["sign_fresh_ms"] = summary(fresh, 1000)

        async def pool_size() -> int:
            return (await signers[0].key(key["key_id"]))["presignatures"]

        before = await pool_size()
        fill_s = await wait_for(lambda: _at_least(pool_size, args.pool), 3600, "the presignature pool", 1.0)
        result["presign_fill_per_s"] = round((args.pool - before) / max(fill_s, 1e-9), 2)
        # Every holder fills its own signer set's pool: wait until all of them are done.
        await wait_for(lambda: idle(clients), 3600, "every pool to be full", 1.0)

        pooled = []
        for i in range(args.pooled_signs):
            started = time.monotonic()
            await signers[i % 2].sign(key["key_id"], message=b"pooled %d" % i, hash="sha256")
            pooled.append(time.monotonic() - started)
        result["sign_pooled_ms"] = summary(pooled, 1000)
        await wait_for(lambda: _at_least(pool_size, args.pool), 3600, "the pool to refill", 1.0)
        await wait_for(lambda: idle(clients), 3600, "every pool to be full", 1.0)
        result["throughput"] = await throughput(args, key["key_id"], signers)
        return result
    finally:
        for client in clients:
            await client.close()


async def idle(clients: list[AsyncClient]) -> bool:
    """No session running on any node, twice in a row a second apart."""
    for _ in range(2):
        running = [(await c.health())["sessions"] for c in clients]
        if any(running):
            return False
        await asyncio.sleep(1.0)
    return True


async def _at_least(size, target: int) -> bool:
    return await size() >= target


async def throughput(args, key_id: str, signers: list[AsyncClient]) -> dict:
    """Signatures per second with concurrent clients, from full pools and sustained."""
    done: list[float] = []
    stop = time.monotonic() + args.duration
    started = time.monotonic()

    async def client_loop(i: int) -> None:
        n = 0
        while time.monotonic() < stop:
            await signers[i % 2].sign(key_id, message=b"load %d %d" % (i, n), hash="sha256")
            done.append(time.monotonic())
            n += 1

    await asyncio.gather(*(client_loop(i) for i in range(args.clients)))
    end = max(done) if done else time.monotonic()
    windows = [0] * (int((end - started) // 5) + 1)
    for t in done:
        windows[int((t - started) // 5)] += 1
    # Each coordinator signs from its own pool of --pool; refilling starts at half, so
    # the first --pool signatures (half of each pool) come from full pools.
    full = done[:args.pool]
    tail = [t for t in done if t >= started + args.duration / 2]
    return {
        "clients": args.clients, "duration_s": round(end - started, 1), "signatures": len(done),
        "per_s_by_5s_window": [round(n / 5, 1) for n in windows],
        "full_pool_signatures": len(full),
        "full_pool_per_s": round(len(full) / max(full[-1] - started, 1e-9), 1) if full else None,
        "sustained_per_s": round(len(tail) / max(end - (started + args.duration / 2), 1e-9), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--keygens", type=int, default=3, help="keygen runs (default 3)")
    parser.add_argument("--fresh-signs", type=int, default=5, help="signs without a presignature")
    parser.add_argument("--pooled-signs", type=int, default=30, help="one-at-a-time pooled signs")
    parser.add_argument("--pool", type=int, default=200, help="presignature pool size per key")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients for throughput")
    parser.add_argument("--duration", type=float, default=60.0, help="throughput run, seconds")
    parser.add_argument("--base-port", type=int, default=28000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    api_key = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="tssnet-bench-") as tmp:
        options = {"presign_pool_size": args.pool, "prime_pool_size": 4, "log_level": "warning"}
        nodes = devnet.plan(args.nodes, args.base_port, Path(tmp), api_key, secrets.token_urlsafe(16),
                            options)
        try:
            for node in nodes:
                devnet.start(node, quiet=True)
            devnet.wait_ready(nodes, api_key)
            result = asyncio.run(bench(args, nodes, api_key))
        finally:
            devnet.stop(nodes)
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
