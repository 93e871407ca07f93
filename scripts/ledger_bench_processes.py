"""``bench_ledger.py --processes``: one OS process per replica over the node's real transport.

Each replica (``ledger_bench_replica``) is a LedgerNode over a P2PHost on a free
loopback port (Noise + yamux) with its own SQLite file in a temporary directory;
only the genesis validators are admitted. This process only directs: it commits
the keygen transaction first, hands each submitting replica its share of the
signature transactions, and collects what they measured. There ``outstanding``
clients each submit one transaction and wait for its block before the next, so a
transaction's latency runs from ``LedgerNode.submit`` to its commit at the replica
it was submitted to.

Replicas are told to stop when the run ends, also after an error or Ctrl-C (they
ignore SIGINT and leave it to us), and terminated, then killed, if they do not
stop in time. A stop interrupts a load in progress; a replica whose parent
vanishes sees its pipe close and stops too.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import signal
import tempfile
import time
from pathlib import Path

from ledger_bench_common import make_transactions, summary
from ledger_bench_replica import replica_main

from daemon.identity import NodeIdentity
from daemon.ledger_genesis import GenesisValidator, LedgerGenesis

#: how long a replica may take to start, to answer a status, or to stop
STEP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
#: how long replicas get, after the load, to reach one height
SETTLE_TIMEOUT_S = 30.0


class BenchError(RuntimeError):
    """The run failed: a replica died, failed, or did not answer in time."""


class ReplicaProcesses:
    """The replica processes and their pipes; a context manager that always cleans up."""

    def __init__(self, seeds: list[bytes], genesis: LedgerGenesis, directory: Path) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conns, self.procs = [], []
        # Ctrl-C goes to the whole process group. Replicas are born ignoring it (an ignored
        # signal stays ignored across exec), so only we see it, and stop them in order.
        interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for i, seed in enumerate(seeds):
                ours, theirs = ctx.Pipe()
                proc = ctx.Process(target=replica_main, name=f"bench-replica-{i}", daemon=True,
                                   args=(theirs, i, seed, genesis.to_json(), str(directory / f"r{i}.db")))
                self.conns.append(ours)
                self.procs.append(proc)
                proc.start()
                theirs.close()  # the child holds its end now
        except BaseException:
            self.close()
            raise
        finally:
            signal.signal(signal.SIGINT, interrupt)

    def __enter__(self) -> ReplicaProcesses:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def send(self, i: int, command: tuple) -> None:
        self.conns[i].send(command)

    def receive(self, i: int, kind: str, timeout: float | None = STEP_TIMEOUT_S):
        """The value of replica ``i``'s next answer, which must be of ``kind``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        conn, proc = self.conns[i], self.procs[i]
        while not conn.poll(0.5):
            for j, other in enumerate(self.procs):  # one replica gone spoils the measurement
                if not other.is_alive():
                    raise BenchError(self._last_words(j) or f"replica {j} exited "
                                       f"(code {other.exitcode})")
            if deadline is not None and time.monotonic() > deadline:
                raise BenchError(f"replica {i} did not answer {kind!r} within {timeout} s")
        try:
            got, value = conn.recv()
        except EOFError:
            raise BenchError(f"replica {i} exited (code {proc.exitcode}) before answering") from None
        if got == "error":
            raise BenchError(value)
        if got != kind:
            raise BenchError(f"replica {i} answered {got!r}, expected {kind!r}")
        return value

    def _last_words(self, i: int) -> str | None:
        """The error a replica that ended reported, if it had time to."""
        with contextlib.suppress(EOFError, OSError):
            while self.conns[i].poll():
                got, value = self.conns[i].recv()
                if got == "error":
                    return value
        return None

    def ask_all(self, command: tuple, kind: str, timeout: float | None = STEP_TIMEOUT_S) -> list:
        for i in range(len(self.procs)):
            self.send(i, command)
        return [self.receive(i, kind, timeout) for i in range(len(self.procs))]

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):  # already gone
                conn.send(("stop",))
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for proc in self.procs:
            proc.join(max(0.0, deadline - time.monotonic()))
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(3.0)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for conn in self.conns:
            conn.close()


def run_processes(replicas: int, transactions: int, block_size: int, outstanding: int,
                  submit_at: int, duration: float | None, base_timeout: float,
                  wait_s: float = 60.0) -> dict:
    seeds = [hashlib.sha256(b"bench-ledger-replica-%d" % i).digest() for i in range(replicas)]
    identities = [NodeIdentity.from_seed(seed) for seed in seeds]
    genesis = LedgerGenesis(
        "bench-processes", int(time.time() * 1000),
        tuple(GenesisValidator(i.peer_id, i.public_key) for i in identities),
        {"max_txs_per_block": block_size, "base_timeout": base_timeout,
         "checkpoint_interval": 16, "window": 64})
    keygen, txs = make_transactions(transactions)
    submitters = min(max(submit_at, 1), replicas)
    with tempfile.TemporaryDirectory(prefix="tssnet-bench-ledger-") as tmp, \
            ReplicaProcesses(seeds, genesis, Path(tmp)) as group:
        addrs = [group.receive(i, "listening") for i in range(replicas)]
        peers = {ident.peer_id: a for ident, a in zip(identities, addrs, strict=True)}
        group.ask_all(("peers", peers), "ready")
        # The signatures need their key in the ledger first, at every replica that checks them.
        group.send(0, ("submit", [keygen], 1, wait_s, None))
        if group.receive(0, "submitted", wait_s + STEP_TIMEOUT_S)["latencies_ms"] == []:
            raise BenchError("the keygen transaction did not commit")
        before = _settle(group, at_least=1)
        if min(s["height"] for s in before) < 1:
            raise BenchError("the keygen block did not reach every replica")
        start = time.monotonic()
        stop_at = None if duration is None else start + duration
        for i in range(submitters):
            group.send(i, ("submit", txs[i::submitters], outstanding, wait_s, stop_at))
        loads = [group.receive(i, "submitted", timeout=None) for i in range(submitters)]
        statuses = _settle(group, at_least=0)
    latencies = [ms for load in loads for ms in load["latencies_ms"]]
    end = max(load["last"] for load in loads)
    tips = {(s["height"], s["last_block_hash"]) for s in statuses}
    submitted = sum(len(load["latencies_ms"]) + load["timed_out"] + load["refused"] for load in loads)
    return summary(
        "processes", replicas=replicas, transactions=submitted,
        committed_everywhere=len(tips) == 1 and len(latencies) == submitted,
        block_size=block_size, blocks=max(s["height"] for s in statuses),
        seconds=end - start, latencies_ms=latencies,
        submitted_at=submitters, outstanding_per_submitter=outstanding,
        base_timeout=base_timeout, views=max(s["view"] for s in statuses),
        timed_out=sum(load["timed_out"] for load in loads),
        refused=sum(load["refused"] for load in loads),
        errors=[e for load in loads for e in load["errors"]][:5],
        **_costs(before, statuses, len(latencies)))


def _costs(before: list[dict], after: list[dict], committed: int) -> dict:
    """Ledger messages received and CPU milliseconds (by thread) spent per committed
    transaction, by all replicas together, between the two rounds of statuses."""
    pairs = list(zip(after, before, strict=True))
    received = sum(a["received"] - b["received"] for a, b in pairs)
    spent = {role: sum(a["cpu_s"][role] - b["cpu_s"][role] for a, b in pairs) for role in after[0]["cpu_s"]}
    spent["total"] = sum(spent.values())
    committed = max(committed, 1)
    return {"messages_per_tx": round(received / committed, 2),
            "cpu_ms_per_tx": {role: round(1000 * s / committed, 2) for role, s in spent.items()}}


def _settle(group: ReplicaProcesses, at_least: int) -> list[dict]:
    """Statuses once every replica is at one height of at least ``at_least`` (or time is up)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        statuses = group.ask_all(("status",), "status")
        heights = {s["height"] for s in statuses}
        if (len(heights) == 1 and min(heights) >= at_least) or time.monotonic() > deadline:
            return statuses
        time.sleep(0.1)
