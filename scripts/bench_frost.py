#!/usr/bin/env python3
"""Benchmark FROST keygen (DKG) and signing; prints median milliseconds per party.

    python scripts/bench_frost.py --scheme ed25519 --parties 3 --threshold 1 --json
    python scripts/bench_frost.py --scheme bip340 --parties 5 --threshold 2 --taproot

Every party runs in this process behind its ``Channel`` (signed frames, echo
broadcast), so a party's time is everything a node spends on the protocol except
the network: its round machine plus its frame signatures and checks. Per party is
the total time of all parties divided by their number (the t+1 signers for
signing); the median is over ``--runs`` sessions. The JSON also carries one sample
signature, verified here before it is printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections import deque

from protocol.channel import Channel
from protocol.frost.keygen import FrostKeygen
from protocol.frost.sign import FrostSign
from protocol.frost.suites import suite_by_name
from protocol.identity import Ed25519Signer
from protocol.machine import Incoming, Machine
from protocol.rng import SystemRng


def drive(machines: dict[int, Machine], session: str) -> tuple[dict[int, object], float]:
    """Run the machines to the end; their results and the protocol time per party in seconds."""
    keys = {p: Ed25519Signer(hashlib.sha256(b"bench identity %d" % p).digest()) for p in machines}
    identity = {p: k.public_key for p, k in keys.items()}
    nodes = {p: Channel(m, session, keys[p], identity) for p, m in machines.items()}
    spent = 0.0
    queue: deque = deque()

    def post(sender, out):
        for o in out:
            for r in ([o.recipient] if o.recipient is not None else nodes):
                if r != sender:
                    queue.append((sender, r, o))

    for p, node in nodes.items():
        start = time.perf_counter()
        out = node.start()
        spent += time.perf_counter() - start
        post(p, out)
    while queue:
        sender, recipient, o = queue.popleft()
        start = time.perf_counter()
        out = nodes[recipient].receive(Incoming(sender, o.round, o.body))
        spent += time.perf_counter() - start
        post(recipient, out)
    for p, node in nodes.items():
        if node.blame is not None or node.result is None:
            raise SystemExit(f"party {p} did not finish: {node.blame}")
    return {p: node.result for p, node in nodes.items()}, spent / len(nodes)


def bench(scheme: str, n: int, t: int, runs: int, taproot: bool) -> dict:
    parties = list(range(1, n + 1))
    signers = parties[: t + 1]
    rng = SystemRng()
    keygen_ms, sign_ms = [], []
    shares = signature = None
    message = b"tssnet FROST benchmark message"
    for run in range(runs):
        machines = {p: FrostKeygen(scheme, p, parties, t, f"bench-key-{run}", b"keygen %d" % run, rng)
                    for p in parties}
        results, per_party = drive(machines, f"keygen-{run}")
        keygen_ms.append(per_party * 1000)
        shares = {p: out.share for p, out in results.items()}
    for run in range(runs):
        machines = {p: FrostSign(shares[p], signers, message, b"sign %d" % run, rng, taproot=taproot)
                    for p in signers}
        results, per_party = drive(machines, f"sign-{run}")
        sign_ms.append(per_party * 1000)
        signature = results[signers[0]]
    if not suite_by_name(scheme).verify(signature.public_key, message, signature.signature):
        raise SystemExit("the sample signature does not verify")
    return {
        "scheme": scheme,
        "parties": n,
        "threshold": t,
        "signers": len(signers),
        "taproot": taproot,
        "runs": runs,
        "keygen_ms_per_party": round(statistics.median(keygen_ms), 3),
        "sign_ms_per_party": round(statistics.median(sign_ms), 3),
        "public_key": signature.public_key.hex(),
        "message": message.hex(),
        "signature": signature.signature.hex(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheme", choices=["ed25519", "bip340"], default="ed25519")
    parser.add_argument("--parties", type=int, default=3)
    parser.add_argument("--threshold", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--taproot", action="store_true", help="bip340: sign for the BIP86 output key")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if not 1 <= args.threshold < args.parties:
        parser.error("need 1 <= threshold < parties")
    if args.taproot and args.scheme != "bip340":
        parser.error("--taproot is for bip340")
    report = bench(args.scheme, args.parties, args.threshold, max(1, args.runs), args.taproot)
    if args.json:
        print(json.dumps(report))
    else:
        for name, value in report.items():
            print(f"{name:>20}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
