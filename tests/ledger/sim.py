"""A seeded in-process network for ledger replicas.

Every message and timer expiry is an event on one virtual clock. The network
drops, delays (uniformly between two bounds, which also reorders) and duplicates
messages as ``Conditions`` say, all drawn from one ``random.Random(seed)``, so a
failing run replays exactly. Replicas can be crashed (they stop receiving and
their timers stop) and restarted from their store; an ``intercept`` hook sees
every (sender, recipient, bytes) and may replace or suppress it, which is how
Byzantine senders are written.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass

from ledger.config import LedgerConfig
from ledger.crypto import Ed25519Signer
from ledger.events import Outgoing
from ledger.replica import Replica
from ledger.store import MemoryLedgerStore
from tests.ledger.helpers import signer

Intercept = Callable[[str, str, Outgoing], list[bytes]]


@dataclass(frozen=True)
class Conditions:
    drop: float = 0.0
    duplicate: float = 0.0
    min_delay: float = 0.001
    max_delay: float = 0.010


FAIR = Conditions()
LOSSY = Conditions(drop=0.15, duplicate=0.1, min_delay=0.001, max_delay=0.3)


class Simulation:
    def __init__(self, config: LedgerConfig, seed: int, conditions: Conditions = FAIR,
                 extra: tuple[str, ...] = ()) -> None:
        self.config = config
        self.rng = random.Random(seed)
        self.conditions = conditions
        self.now = 0.0
        self._queue: list[tuple[float, int, str, tuple]] = []
        self._counter = itertools.count()
        self.signers: dict[str, Ed25519Signer] = {}
        self.stores: dict[str, MemoryLedgerStore] = {}
        self.replicas: dict[str, Replica] = {}
        self.crashed: set[str] = set()
        self.byzantine: set[str] = set()
        self.chains: dict[str, dict[int, bytes]] = {}
        self.intercept: Intercept | None = None
        self._armed: dict[str, int | None] = {}
        for name in [v.id for v in config.validators] + list(extra):
            self.signers[name] = signer(name)
            self.stores[name] = MemoryLedgerStore()
            self.chains[name] = {}
            self.replicas[name] = Replica(config, self.signers[name], self.stores[name])
        for validator in config.validators:  # extra nodes start when a test says so
            self.start(validator.id)

    @property
    def now_ms(self) -> int:
        return int(self.now * 1000)

    def honest(self) -> list[str]:
        return [r for r in self.replicas if r not in self.crashed and r not in self.byzantine]

    # --- driving replicas ------------------------------------------------------

    def _after(self, name: str, out: list[Outgoing]) -> None:
        replica = self.replicas[name]
        for block in replica.take_committed():
            self.chains[name][block.block.height] = block.block.hash()
        for msg in out:
            targets = [msg.to] if msg.to is not None else [r for r in self.replicas if r != name]
            for to in targets:
                datas = self.intercept(name, to, msg) if self.intercept else [msg.data]
                for data in datas:
                    self._transmit(name, to, data)
        timer = replica.timer
        token = None if timer is None else timer.token
        if token is not None and token != self._armed.get(name):
            self._push(self.now + timer.seconds, "timeout", (name, timer.view, token))
        self._armed[name] = token

    def _transmit(self, sender: str, to: str, data: bytes) -> None:
        c = self.conditions
        if self.rng.random() < c.drop:
            return
        copies = 2 if self.rng.random() < c.duplicate else 1
        for _ in range(copies):
            self._push(self.now + self.rng.uniform(c.min_delay, c.max_delay), "msg", (sender, to, data))

    def _push(self, at: float, kind: str, payload: tuple) -> None:
        heapq.heappush(self._queue, (at, next(self._counter), kind, payload))

    def submit(self, name: str, txs) -> list[tuple[int, str]]:
        out, rejected = self.replicas[name].submit_batch(txs, now=self.now_ms)
        self._after(name, out)
        return rejected

    def start(self, name: str) -> None:
        self._after(name, self.replicas[name].start(now=self.now_ms))

    def inject(self, sender: str, to: str, data: bytes) -> None:
        """Deliver bytes as if ``sender`` had sent them, right now."""
        self._after(to, self.replicas[to].receive(sender, data, now=self.now_ms))

    def step(self) -> bool:
        if not self._queue:
            return False
        at, _, kind, payload = heapq.heappop(self._queue)
        self.now = max(self.now, at)
        if kind == "msg":
            sender, to, data = payload
            if to not in self.crashed and sender not in self.crashed:
                self._after(to, self.replicas[to].receive(sender, data, now=self.now_ms))
        else:
            name, view, token = payload
            if name not in self.crashed and self._armed.get(name) == token:
                self._armed[name] = None
                self._after(name, self.replicas[name].on_timeout(view, now=self.now_ms))
        return True

    def run(self, until: Callable[[], bool], max_time: float = 600.0) -> bool:
        """Process events until ``until()`` holds (True) or virtual time runs out (False)."""
        deadline = self.now + max_time
        while not until():
            if not self._queue or self._queue[0][0] > deadline:
                return False
            self.step()
        return True

    # --- faults ---------------------------------------------------------------------

    def crash(self, name: str) -> None:
        self.crashed.add(name)
        self._armed[name] = None

    def restart(self, name: str) -> None:
        """A new Replica over the crashed one's store, as after a process restart."""
        self.crashed.discard(name)
        self.replicas[name] = Replica(self.config, self.signers[name], self.stores[name])
        self._armed[name] = None
        self.start(name)

    # --- checks ---------------------------------------------------------------------

    def committed_everywhere(self, tx_count: int, names: list[str] | None = None) -> bool:
        names = self.honest() if names is None else names
        return all(len(self.replicas[n].state.tx_hashes) >= tx_count for n in names)

    def assert_agreement(self) -> None:
        """No two honest replicas hold different blocks at one height."""
        by_height: dict[int, set[bytes]] = {}
        for name in self.replicas:
            if name in self.byzantine:
                continue
            for height, digest in self.chains[name].items():
                by_height.setdefault(height, set()).add(digest)
        forks = {h: d for h, d in by_height.items() if len(d) > 1}
        assert not forks, f"honest replicas disagree at heights {sorted(forks)}"
