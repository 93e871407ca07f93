#!/usr/bin/env python3
"""Benchmark CGGMP21 end to end: keygen, aux info, presign and sign; prints one JSON object.

    python scripts/bench_cmp.py --parties 3 --threshold 1 --json --prime-pool
    python scripts/bench_cmp.py --parties 5 --threshold 2 --json --processes --runs 3

Messages go straight from machine to machine (no channel, no signatures, no
network), broadcasts delivered as ``Incoming(..., broadcast=True)``, so the numbers
are the protocol's own cost. Reported per phase: the median wall time of the phase
(``*_s``; in one process that is the sum of every party's work, with
``--processes`` each party runs in its own process and the phase is as slow as
its slowest party), the median CPU seconds one party spends (``cpu_per_party``,
``time.process_time`` around that party's ``start``/``receive`` calls) and the
median bytes one party sends (``bytes_per_party``: every ``Outgoing.body`` counted
once per recipient). Presign and sign run among the first t+1 parties.

Safe primes are generated fresh unless ``--prime-pool``, which takes them from the
committed test pool (``tests/primepool.py``, distinct pairs per party) so that aux
info costs seconds instead of minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import queue
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from protocol.cmp.presign import KeyMaterial, Presign  # noqa: E402
from protocol.cmp.sign import Sign  # noqa: E402
from protocol.machine import Incoming  # noqa: E402
from protocol.params import DEFAULT_LEVEL  # noqa: E402
from protocol.primes import PrimePool  # noqa: E402
from protocol.rng import SystemRng  # noqa: E402

PARTY_TIMEOUT_S = 900   # a party process that crashed must not hang the benchmark
PHASES = ("keygen", "aux", "presign", "sign")


def _schedule(args) -> list[str]:
    """The phases of one run: keygen, aux, then ``--presigns`` times presign and sign."""
    return ["keygen", "aux"] + ["presign", "sign"] * args.presigns
MESSAGE = b"tssnet bench_cmp sample message"


def _pool_for(party: int) -> PrimePool:
    from tests.primepool import pool_primes

    primes = pool_primes()
    return PrimePool(primes[2 * (party - 1): 2 * party])


def _machine(phase: str, party: int, state: dict, args, run: int):
    """The machine ``party`` runs in ``phase``; ``state`` carries its results between phases."""
    rng = SystemRng()
    parties = list(range(1, args.parties + 1))
    signers = parties[: args.threshold + 1]
    sid = f"bench/{phase}/{run}/{state.setdefault('count', {}).get(phase, 0)}".encode()
    state["count"][phase] = state["count"].get(phase, 0) + 1
    if phase == "keygen":
        from protocol.cmp.keygen import Keygen

        return Keygen(party, parties, args.threshold, "bench-key", sid, rng)
    if phase == "aux":
        from protocol.cmp.aux import AuxRefresh

        pool = _pool_for(party) if args.prime_pool else None
        return AuxRefresh(state["share"], sid, rng, refresh=False, prime_source=pool)
    if party not in signers:
        return None
    if phase == "presign":
        # Built once per key, inside the first presign's measured time.
        material = state.get("material") or state.setdefault("material", KeyMaterial(state["key"], DEFAULT_LEVEL))
        return Presign(state["key"], signers, sid, rng, material=material)
    return Sign(state["key"], state["presignature"], MESSAGE, sid)


def _keep(phase: str, state: dict, result) -> None:
    if phase == "keygen":
        state["share"] = result.share
    elif phase == "aux":
        state["key"] = result
        state.pop("material", None)
    elif phase == "presign":
        state["presignature"] = result
    else:
        state["signature"] = result


def _deliveries(sender: int, out, others) -> list[tuple[int, Incoming]]:
    """(recipient, message) for every copy of ``out``; the byte count is their total size."""
    copies = []
    for o in out:
        targets = others if o.recipient is None else [o.recipient]
        copies += [(r, Incoming(sender, o.round, o.body, broadcast=o.recipient is None)) for r in targets]
    return copies


class _Meter:
    """Per-party CPU seconds and bytes sent in one phase."""

    def __init__(self) -> None:
        self.cpu: dict[int, float] = {}
        self.sent: dict[int, int] = {}

    def call(self, party: int, fn, *a):
        start = time.process_time()
        out = fn(*a)
        self.cpu[party] = self.cpu.get(party, 0.0) + time.process_time() - start
        return out

    def count(self, party: int, copies) -> None:
        self.sent[party] = self.sent.get(party, 0) + sum(len(m.body) for _, m in copies)


def _check(machine, party: int, phase: str) -> None:
    if machine.blame is not None:
        raise SystemExit(f"{phase}: party {party} aborted: {machine.blame}")


# -- one process ------------------------------------------------------------------------------


def _run_phase_inline(phase: str, states: dict, args, run: int) -> tuple[float, _Meter]:
    meter = _Meter()
    machines = {p: m for p in states
                if (m := meter.call(p, _machine, phase, p, states[p], args, run)) is not None}
    members = sorted(machines)
    meter.cpu = {p: meter.cpu[p] for p in members}
    queue: list[tuple[int, Incoming]] = []
    start = time.perf_counter()
    for p in members:
        copies = _deliveries(p, meter.call(p, machines[p].start), [q for q in members if q != p])
        meter.count(p, copies)
        queue += copies
    while queue:
        recipient, msg = queue.pop(0)
        copies = _deliveries(recipient, meter.call(recipient, machines[recipient].receive, msg),
                             [q for q in members if q != recipient])
        meter.count(recipient, copies)
        queue += copies
        _check(machines[recipient], recipient, phase)
    elapsed = time.perf_counter() - start
    for p in members:
        if machines[p].result is None:
            raise SystemExit(f"{phase}: party {p} did not finish")
        _keep(phase, states[p], machines[p].result)
    return elapsed, meter


# -- one process per party -----------------------------------------------------------------


def _party_main(party: int, args, inboxes, results) -> None:
    state: dict = {}
    early: dict[tuple, list] = {}   # (run, step) -> messages that arrived before that step began
    parties = list(range(1, args.parties + 1))
    for run in range(args.runs):
        for step, phase in enumerate(_schedule(args)):
            results.put(("ready", party, run, step, None))
            # Wait for the go signal (every party starts a phase together). Faster
            # parties may already be sending this phase's messages: keep them.
            while (item := inboxes[party].get())[0] != "go":
                early.setdefault((item[1], item[2]), []).append(item)
            meter = _Meter()
            machine = meter.call(party, _machine, phase, party, state, args, run)
            if machine is None:
                results.put(("done", party, run, step, (0.0, 0, None)))
                continue
            members = parties if phase in ("keygen", "aux") else parties[: args.threshold + 1]
            others = [q for q in members if q != party]

            def send(out, meter=meter, others=others, run=run, step=step):
                copies = _deliveries(party, out, others)
                meter.count(party, copies)
                for r, m in copies:
                    inboxes[r].put(("msg", run, step, m.sender, m.round, m.body, m.broadcast))

            send(meter.call(party, machine.start))
            pending = early.pop((run, step), [])
            while not machine.finished:
                item = pending.pop(0) if pending else inboxes[party].get()
                _, r, st, sender, rnd, body, bcast = item
                if (r, st) != (run, step):
                    early.setdefault((r, st), []).append(item)
                    continue
                send(meter.call(party, machine.receive, Incoming(sender, rnd, body, bcast)))
            _check(machine, party, phase)
            _keep(phase, state, machine.result)
            sample = None
            if phase == "sign" and party == 1:
                sample = (state["key"].share.public_key.encode().hex(),
                          state["signature"].to_compact().hex())
            results.put(("done", party, run, step,
                         (meter.cpu.get(party, 0.0), meter.sent.get(party, 0), sample)))


def _run_processes(args) -> tuple[dict, dict, dict, tuple]:
    ctx = multiprocessing.get_context("spawn")
    parties = list(range(1, args.parties + 1))
    inboxes = {p: ctx.Queue() for p in parties}
    results = ctx.Queue()
    procs = [ctx.Process(target=_party_main, args=(p, args, inboxes, results), daemon=True)
             for p in parties]
    for proc in procs:
        proc.start()
    walls = {ph: [] for ph in PHASES}
    cpus = {ph: [] for ph in PHASES}
    sent = {ph: [] for ph in PHASES}
    sample = None
    reports: dict[tuple, list] = {}   # (kind, run, step) -> payloads, in any arrival order

    def collect(kind: str, run: int, step: int) -> list:
        while len(reports.get((kind, run, step), [])) < len(parties):
            try:
                got_kind, _party, got_run, got_step, payload = results.get(timeout=PARTY_TIMEOUT_S)
            except queue.Empty:
                raise SystemExit(f"no report from the party processes for {PARTY_TIMEOUT_S} s") from None
            reports.setdefault((got_kind, got_run, got_step), []).append(payload)
        return reports.pop((kind, run, step))

    for run in range(args.runs):
        for step, phase in enumerate(_schedule(args)):
            collect("ready", run, step)
            start = time.perf_counter()
            for p in parties:
                inboxes[p].put(("go",))
            for cpu, nbytes, got in collect("done", run, step):
                if got is not None:
                    sample = got
                if cpu or nbytes:
                    cpus[phase].append(cpu)
                    sent[phase].append(nbytes)
            walls[phase].append(time.perf_counter() - start)
    for proc in procs:
        proc.join(timeout=30)
    return walls, cpus, sent, sample


# -- reporting ------------------------------------------------------------------------------


def _median(values) -> float | None:
    return round(statistics.median(values), 4) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parties", type=int, default=3)
    parser.add_argument("--threshold", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--presigns", type=int, default=1,
                        help="presign+sign rounds per key in each run (medians over all of them)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.add_argument("--prime-pool", action="store_true", help="use the committed test primes")
    parser.add_argument("--processes", action="store_true", help="one process per party")
    args = parser.parse_args()
    if not 1 <= args.threshold < args.parties:
        parser.error("need 1 <= threshold < parties")
    if args.prime_pool and args.parties > 32:
        parser.error("the prime pool has 32 pairs")

    if args.processes:
        walls, cpus, sent, sample = _run_processes(args)
    else:
        walls = {ph: [] for ph in PHASES}
        cpus = {ph: [] for ph in PHASES}
        sent = {ph: [] for ph in PHASES}
        sample = None
        for run in range(args.runs):
            states = {p: {} for p in range(1, args.parties + 1)}
            for phase in _schedule(args):
                elapsed, meter = _run_phase_inline(phase, states, args, run)
                walls[phase].append(elapsed)
                cpus[phase] += list(meter.cpu.values())
                sent[phase] += list(meter.sent.values())
            sample = (states[1]["key"].share.public_key.encode().hex(),
                      states[1]["signature"].to_compact().hex())
    report = {
        "parties": args.parties, "threshold": args.threshold,
        "signers": list(range(1, args.threshold + 2)), "runs": args.runs, "presigns": args.presigns,
        "mode": "processes" if args.processes else "one process",
        "primes": "test pool" if args.prime_pool else "fresh",
        **{f"{ph}_s": _median(walls[ph]) for ph in PHASES},
        "cpu_per_party": {ph: _median(cpus[ph]) for ph in PHASES},
        "bytes_per_party": {ph: int(statistics.median(sent[ph])) if sent[ph] else None for ph in PHASES},
        "public_key": sample[0],
        "digest": hashlib.sha256(MESSAGE).hexdigest(),
        "signature": sample[1],
    }
    print(json.dumps(report, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
