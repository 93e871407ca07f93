"""A workload shared by the simulation tests: one key, then bridge signatures by it."""

from __future__ import annotations

from functools import cache

from ledger.block import Block
from ledger.txs import KeygenTx, SignatureTx
from protocol import wire
from tests.ledger.helpers import ecdsa_tx, keygen_tx
from tests.ledger.sim import FAIR, Simulation


@cache
def workload(count: int = 48) -> tuple[KeygenTx, tuple[SignatureTx, ...]]:
    keygen, secret = keygen_tx("bridge-key")
    return keygen, tuple(ecdsa_tx("bridge-key", secret, i) for i in range(count))


def register_key(sim: Simulation, at: str, max_time: float = 600.0) -> None:
    """Commit the workload's keygen everywhere (switching to a fair network if it must)."""
    keygen, _ = workload()
    sim.submit(at, [keygen])
    if not sim.run(lambda: sim.committed_everywhere(1), max_time=30.0):
        sim.conditions = FAIR
        assert sim.run(lambda: sim.committed_everywhere(1), max_time=max_time)


def submit_spread(sim: Simulation, txs, batch: int = 6) -> None:
    """Hand batches of ``txs`` to the live replicas in turn."""
    live = sim.honest()
    for i in range(0, len(txs), batch):
        rejected = sim.submit(live[(i // batch) % len(live)], txs[i:i + batch])
        assert not rejected, rejected


def chain(sim: Simulation, name: str) -> list[bytes]:
    """The block hashes a replica has stored, from height 1."""
    replica = sim.replicas[name]
    store = sim.stores[name]
    return [wire.decode(store.get_block(h)[0], Block).hash() for h in range(1, replica.height + 1)]


def assert_same_chain(sim: Simulation, names: list[str] | None = None) -> None:
    names = sim.honest() if names is None else names
    chains = {n: chain(sim, n) for n in names}
    reference = chains[names[0]]
    for name, blocks in chains.items():
        assert blocks == reference, f"{name} differs from {names[0]}"
