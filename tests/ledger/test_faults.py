"""Crashes, restarts, a Byzantine primary and validator-set changes, in the simulator."""

from __future__ import annotations

import dataclasses

import pytest

from ledger.block import make_block
from ledger.certs import sign_body
from ledger.crypto import signing_prefix
from ledger.messages import (
    BODIES,
    BlockBatch,
    Commit,
    CommitCertificate,
    PrePrepare,
    Signed,
    ViewChange,
)
from ledger.state import VALIDATOR_SET_DELAY
from protocol import wire
from tests.ledger.helpers import make_config, validator_tx
from tests.ledger.scenario import assert_same_chain, chain, register_key, submit_spread, workload
from tests.ledger.sim import FAIR, LOSSY, Simulation


def _txs(start: int, count: int):
    return workload()[1][start:start + count]


def _everyone_has(sim: Simulation, tx_count: int, max_time: float = 600.0) -> None:
    assert sim.run(lambda: sim.committed_everywhere(tx_count), max_time=max_time), \
        {k: (r.height, r.view, r.changing) for k, r in sim.replicas.items()}


@pytest.mark.parametrize("seed", [0, 1])
def test_crashed_primary_is_replaced(seed):
    sim = Simulation(make_config(4), seed=seed)
    register_key(sim, "v1")
    submit_spread(sim, _txs(0, 12))
    _everyone_has(sim, 13)
    before = {n: chain(sim, n) for n in sim.replicas}
    assert sim.replicas["v1"].primary == "v0"
    sim.crash("v0")
    sim.conditions = LOSSY
    submit_spread(sim, _txs(12, 12))
    sim.run(lambda: sim.committed_everywhere(25), max_time=20.0)
    sim.conditions = FAIR
    _everyone_has(sim, 25)
    for name in sim.honest():
        assert chain(sim, name)[:len(before[name])] == before[name]  # nothing committed was lost
        # Blocks after the crash were agreed in later views, under other primaries.
        for height in range(len(before[name]) + 1, sim.replicas[name].height + 1):
            cert = wire.decode(sim.stores[name].get_block(height)[1], CommitCertificate)
            assert cert.view % 4 != 0
    sim.assert_agreement()
    assert_same_chain(sim)


def test_block_committed_at_one_replica_survives_the_view_change():
    """Only v6 sees the commits of a block; the primary dies; v6's view change is lost.

    The new view is built from replicas that merely prepared the block, so it must
    re-propose that very block (PBFT's prepared certificates) — never another one.
    """
    sim = Simulation(make_config(7), seed=3)
    register_key(sim, "v1")
    target = sim.replicas["v1"].height + 1

    def intercept(sender, to, out):
        msg = out.message
        if isinstance(msg, Commit) and msg.seq == target and msg.view == 0 and to != "v6":
            return []
        if isinstance(msg, ViewChange) and sender == "v6":
            return []
        if isinstance(msg, BlockBatch) and sender == "v6":
            return []  # v6 cannot simply hand the block over either
        return [out.data]

    sim.intercept = intercept
    submit_spread(sim, _txs(0, 6), batch=6)
    assert sim.run(lambda: sim.replicas["v6"].height >= target, max_time=30.0)
    committed = chain(sim, "v6")[target - 1]
    assert all(sim.replicas[n].height < target for n in sim.replicas if n != "v6")
    sim.crash("v0")
    assert sim.run(lambda: all(sim.replicas[n].height >= target for n in sim.honest()), max_time=60.0)
    assert all(sim.replicas[n].view == 1 for n in sim.honest() if n != "v6")
    sim.intercept = None
    submit_spread(sim, _txs(6, 6))
    _everyone_has(sim, 13)
    for name in sim.honest():
        assert chain(sim, name)[target - 1] == committed
    sim.assert_agreement()
    assert_same_chain(sim)


class EquivocatingPrimary:
    """v0 signs two different blocks for every height it proposes and splits the others."""

    def __init__(self, sim: Simulation, victims_a: set[str]) -> None:
        self.sim = sim
        self.victims_a = victims_a
        self.prefix = signing_prefix(sim.config.chain_id)
        self.signer = sim.signers["v0"]

    def _twin(self, pp: PrePrepare) -> PrePrepare:
        block = pp.block
        txs = block.txs[:-1] if len(block.txs) > 1 else block.txs
        header = block.header
        twin = make_block(header.height, header.prev_hash, header.timestamp_ms + 1, "v0", txs)
        return PrePrepare(pp.view, pp.seq, twin, "v0")

    def __call__(self, sender, to, out):
        msg = out.message
        if sender != "v0":
            return [out.data]
        if isinstance(msg, PrePrepare):
            twin = sign_body(self._twin(msg), self.signer.sign, self.prefix)
            return [out.data] if to in self.victims_a else [twin]
        if isinstance(msg, Commit):
            # Votes for whatever each side was shown, too.
            other = dataclasses.replace(msg, digest=bytes(32))
            return [out.data if to in self.victims_a else sign_body(other, self.signer.sign, self.prefix)]
        return [out.data]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [4, 7])
def test_equivocating_primary_never_splits_honest_replicas(n, seed):
    sim = Simulation(make_config(n), seed=seed, conditions=LOSSY)
    register_key(sim, "v1")
    sim.byzantine.add("v0")
    honest = [r for r in sim.replicas if r != "v0"]
    sim.intercept = EquivocatingPrimary(sim, set(honest[: len(honest) // 2]))
    submit_spread(sim, _txs(0, 18))
    sim.run(lambda: sim.committed_everywhere(19), max_time=30.0)
    sim.assert_agreement()
    sim.conditions = FAIR
    _everyone_has(sim, 19, max_time=900.0)
    sim.assert_agreement()
    assert_same_chain(sim)


def test_equivocation_seen_by_one_replica_is_evidence():
    sim = Simulation(make_config(4), seed=4)
    register_key(sim, "v1")
    sim.byzantine.add("v0")
    liar = EquivocatingPrimary(sim, {"v1", "v2"})

    def both_to_v3(sender, to, out):
        if sender == "v0" and to == "v3" and isinstance(out.message, PrePrepare):
            return [out.data, *liar(sender, to, out)]
        return liar(sender, to, out)

    sim.intercept = both_to_v3
    submit_spread(sim, _txs(0, 6))
    _everyone_has(sim, 7)
    blamed = [e for e in sim.replicas["v3"].evidence if e.culprits == ("v0",)]
    assert blamed and "two pre-prepares" in blamed[0].reason
    assert len(blamed[0].evidence) == 2  # both signed pre-prepares are kept
    assert sim.replicas["v3"].view >= 1
    assert_same_chain(sim)


@pytest.mark.parametrize("seed", [0, 1])
def test_restarted_replica_catches_up_by_state_transfer(seed):
    sim = Simulation(make_config(4), seed=seed)
    register_key(sim, "v0")
    submit_spread(sim, _txs(0, 8))
    _everyone_has(sim, 9)
    sim.crash("v3")
    submit_spread(sim, _txs(8, 24))
    _everyone_has(sim, 33)
    behind = sim.replicas["v3"].height
    assert behind < sim.replicas["v0"].height
    sim.restart("v3")
    assert sim.replicas["v3"].height == behind  # rebuilt from its own store
    _everyone_has(sim, 33)
    assert_same_chain(sim)
    # And it takes part again: without v0 there is no quorum unless v3 votes.
    sim.crash("v0")
    submit_spread(sim, _txs(32, 8))
    _everyone_has(sim, 41)
    assert_same_chain(sim)


def test_replica_restarted_during_a_view_change_stays_out_of_old_views():
    sim = Simulation(make_config(4), seed=6)
    register_key(sim, "v1")
    sim.crash("v0")
    submit_spread(sim, _txs(0, 4))
    assert sim.run(lambda: sim.replicas["v2"].changing, max_time=60.0)
    view = sim.replicas["v2"].view
    sim.crash("v2")
    sim.restart("v2")
    assert sim.replicas["v2"].view >= view
    _everyone_has(sim, 5)
    assert_same_chain(sim)


def test_new_validator_joins_and_old_one_leaves():
    sim = Simulation(make_config(4), seed=8, extra=("v4",))
    sim.crash("v4")  # not running until it is added
    register_key(sim, "v1")
    sim.submit("v1", [validator_tx(add=("v4",), remove=("v0",))])
    _everyone_has(sim, 2)
    effective = sim.replicas["v1"].height + VALIDATOR_SET_DELAY
    sim.restart("v4")  # a fresh node with an empty store fetches the chain
    assert sim.run(lambda: sim.replicas["v4"].height == sim.replicas["v1"].height, max_time=60.0)
    sent = 0
    while sim.replicas["v1"].height <= effective:
        sim.submit("v2", _txs(sent, 2))
        sent += 2
        _everyone_has(sim, 2 + sent)
    assert set(sim.replicas["v1"].validators.ids) == {"v1", "v2", "v3", "v4"}
    # v0 is out and v1 fails: v2, v3 and the newcomer v4 are a quorum only if v4 votes.
    sim.crash("v0")
    sim.crash("v1")
    sim.submit("v2", _txs(sent, 4))
    _everyone_has(sim, 2 + sent + 4)
    assert_same_chain(sim)
    cert = wire.decode(sim.stores["v2"].get_block(sim.replicas["v2"].height)[1], CommitCertificate)
    voters = {BODIES.decode(wire.decode(raw, Signed).body).replica for raw in cert.commits}
    assert voters == {"v2", "v3", "v4"}
