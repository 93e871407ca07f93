"""PBFT safety and liveness over a network that drops, delays, duplicates and reorders.

For every seed: while the network misbehaves no two honest replicas ever commit
different blocks at one height, and once it is fair again every honest replica
commits every transaction, all with the same chain.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ledger.helpers import make_config
from tests.ledger.scenario import assert_same_chain, register_key, submit_spread, workload
from tests.ledger.sim import FAIR, LOSSY, Conditions, Simulation

HARSH = Conditions(drop=0.3, duplicate=0.2, min_delay=0.001, max_delay=1.5)


def _run(n: int, seed: int, conditions: Conditions, tx_count: int = 36) -> Simulation:
    sim = Simulation(make_config(n), seed=seed, conditions=conditions)
    names = list(sim.replicas)
    register_key(sim, names[seed % n])
    _, sigs = workload()
    submit_spread(sim, sigs[:tx_count])
    sim.run(lambda: sim.committed_everywhere(tx_count + 1), max_time=30.0)
    sim.assert_agreement()
    sim.conditions = FAIR
    assert sim.run(lambda: sim.committed_everywhere(tx_count + 1), max_time=900.0), \
        {k: (r.height, r.view, r.changing) for k, r in sim.replicas.items()}
    sim.assert_agreement()
    assert_same_chain(sim)
    assert not any(r.evidence for r in sim.replicas.values())  # honest peers are never blamed
    return sim


@pytest.mark.parametrize("n", [4, 7])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lossy_network(n, seed):
    _run(n, seed, LOSSY)


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_any_seed_four_replicas(seed):
    _run(4, seed, LOSSY, tx_count=24)


@settings(max_examples=8, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_any_seed_seven_replicas(seed):
    _run(7, seed, LOSSY, tx_count=24)


@pytest.mark.parametrize("seed", [3, 4])
def test_harsh_network_then_fair(seed):
    _run(4, seed, HARSH, tx_count=24)


def test_fair_network_needs_no_view_change():
    sim = _run(4, 11, FAIR)
    assert {r.view for r in sim.replicas.values()} == {0}
    # Blocks batch transactions: 36 signatures need far fewer than 36 blocks.
    assert sim.replicas["v0"].height <= 1 + 36 // 4


def test_checkpoints_collect_garbage():
    sim = _run(4, 5, FAIR)
    for replica in sim.replicas.values():
        stable = replica.checkpoints.stable
        assert stable >= 4 and stable % replica.config.checkpoint_interval == 0
        assert all(record.seq > stable for record in replica.votes.records())
        assert all(seq > stable for seq, _, _ in sim.stores[replica.id].prepared())
        assert replica.log.highest() <= replica.height + 1
