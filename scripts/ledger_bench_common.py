"""What both modes of ``bench_ledger.py`` share: the transactions and the result's shape.

The transactions are one keygen transaction (with its certificate, checked by
every replica) and ECDSA bridge signatures by that key, each verified in full by
every replica before it votes.
"""

from __future__ import annotations

import hashlib
import os
import statistics

from coincurve import PrivateKey

from ledger.txs import KeygenTx, SignatureTx
from protocol import wire
from protocol.group import SECP256K1
from protocol.keygen_certificate import certify
from protocol.rng import SeededRng

KEY_ID = "bench-key"


def make_transactions(count: int) -> tuple[bytes, list[bytes]]:
    """A keygen transaction and ``count`` ECDSA bridge signatures by its key."""
    group, rng, parties = SECP256K1, SeededRng("bench-keygen"), (1, 2, 3)
    polynomials = {i: [group.random_scalar(rng) for _ in range(2)] for i in parties}
    secret = sum(p[0].value for p in polynomials.values()) % group.order
    cert = certify(KEY_ID, group, parties, 1, polynomials, rng, session_id=b"bench-keygen-session")
    key = PrivateKey(secret.to_bytes(32, "big"))
    keygen = KeygenTx(KEY_ID, "ecdsa", "secp256k1", key.public_key.format(), parties, 1,
                      wire.encode(cert, group))
    txs = []
    for i in range(count):
        digest = hashlib.sha256(b"bench-message-%d" % i).digest()
        signature = key.sign_recoverable(digest, hasher=None)[:64]
        txs.append(wire.encode(SignatureTx(KEY_ID, key.public_key.format(), digest, signature,
                                           None)))
    return wire.encode(keygen), txs


def summary(mode: str, *, replicas: int, transactions: int, committed_everywhere: bool,
            block_size: int, blocks: int, seconds: float, latencies_ms: list[float],
            **extra) -> dict:
    """One run's result; ``tx_per_s`` counts the transactions whose latency was measured."""
    latencies = sorted(latencies_ms)
    return {
        "mode": mode,
        "replicas": replicas,
        "transactions": transactions,
        "committed_everywhere": committed_everywhere,
        "block_size": block_size,
        "blocks": blocks,
        "seconds": round(seconds, 3),
        "tx_per_s": round(len(latencies) / seconds, 1) if seconds > 0 else 0.0,
        "latency_ms": {
            "p50": round(statistics.median(latencies), 2) if latencies else None,
            "p99": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2)
            if latencies else None,
        },
        **extra,
        # the machine is shared: a number means little without how busy it was
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
