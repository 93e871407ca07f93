"""Persistence: what survives a crash, and the promise never to vote twice differently."""

from __future__ import annotations

import pytest

from ledger.block import make_block
from ledger.certs import sign_body
from ledger.crypto import signing_prefix
from ledger.messages import COMMIT, PREPARE, PREPREPARE, Commit, Prepare, PrePrepare, VoteRecord
from ledger.replica import Replica
from ledger.store import MemoryLedgerStore
from protocol import wire
from tests.ledger.helpers import make_config
from tests.ledger.scenario import register_key, submit_spread, workload
from tests.ledger.sim import Simulation

VOTES = (PrePrepare, Prepare, Commit)


class RecordingStore(MemoryLedgerStore):
    """Notes every vote at the moment it is persisted."""

    def __init__(self) -> None:
        super().__init__()
        self.persisted: set[bytes] = set()

    def put_vote(self, seq, view, phase, record):
        self.persisted.add(wire.decode(record, VoteRecord).message)
        super().put_vote(seq, view, phase, record)


def test_every_vote_is_persisted_before_it_is_sent():
    sim = Simulation(make_config(4), seed=1)
    for name in sim.replicas:
        sim.stores[name] = RecordingStore()
        sim.replicas[name] = Replica(sim.config, sim.signers[name], sim.stores[name])
    sent: list[tuple[str, bytes]] = []
    original = sim._after

    def spy(name, out):
        sent.extend((name, o.data) for o in out if isinstance(o.message, VOTES))
        original(name, out)

    sim._after = spy
    register_key(sim, "v0")
    submit_spread(sim, workload()[1][:12])
    assert sim.run(lambda: sim.committed_everywhere(13), max_time=60.0)
    assert sent
    for name, data in sent:
        assert data in sim.stores[name].persisted


def _two_blocks(sim: Simulation, seq: int):
    r = sim.replicas["v2"]
    txs = [wire.encode(t) for t in workload()[1][30:32]]
    a = make_block(seq, r.state.last_hash, r.state.last_timestamp_ms, "v0", txs)
    b = make_block(seq, r.state.last_hash, r.state.last_timestamp_ms, "v0", txs[:1])
    return a, b


def _sign(sim: Simulation, author: str, body) -> bytes:
    return sign_body(body, sim.signers[author].sign, signing_prefix(sim.config.chain_id))


@pytest.fixture
def sim() -> Simulation:
    sim = Simulation(make_config(4), seed=3)
    register_key(sim, "v1")
    return sim


def test_restarted_backup_never_prepares_a_second_block(sim):
    seq = sim.replicas["v2"].height + 1
    a, b = _two_blocks(sim, seq)
    out = sim.replicas["v2"].receive("v0", _sign(sim, "v0", PrePrepare(0, seq, a, "v0")))
    assert [o.message.digest for o in out if isinstance(o.message, Prepare)] == [a.hash()]
    signed_prepare = sim.replicas["v2"].votes.get(0, seq, PREPARE).message
    sim.crash("v2")
    restarted = Replica(sim.config, sim.signers["v2"], sim.stores["v2"])
    # Back up, it sends again exactly what it signed before the crash.
    assert signed_prepare in [o.data for o in restarted.start()]
    # The equivocating primary now offers another block for the same view and height.
    out = restarted.receive("v0", _sign(sim, "v0", PrePrepare(0, seq, b, "v0")))
    assert not [o for o in out if isinstance(o.message, Prepare)]
    assert restarted.votes.get(0, seq, PREPARE).digest == a.hash()


def test_restarted_backup_never_commits_a_second_block(sim):
    seq = sim.replicas["v2"].height + 1
    a, b = _two_blocks(sim, seq)
    r = sim.replicas["v2"]
    r.receive("v0", _sign(sim, "v0", PrePrepare(0, seq, a, "v0")))
    r.receive("v1", _sign(sim, "v1", Prepare(0, seq, a.hash(), "v1")))
    assert r.votes.get(0, seq, COMMIT).digest == a.hash()
    sim.crash("v2")
    sim.restart("v2")
    restarted = sim.replicas["v2"]
    assert restarted.votes.get(0, seq, COMMIT).digest == a.hash()
    restarted.receive("v0", _sign(sim, "v0", PrePrepare(0, seq, b, "v0")))
    for voter in ("v1", "v3"):
        out = restarted.receive(voter, _sign(sim, voter, Prepare(0, seq, b.hash(), voter)))
        assert not [o for o in out if isinstance(o.message, Commit | Prepare)]
    # Its prepared proof for the first block survived too, for a later view change.
    assert [p.preprepare for p in restarted.votes.prepared_above(seq - 1)] == [
        _sign(sim, "v0", PrePrepare(0, seq, a, "v0"))]


def test_restarted_primary_does_not_propose_again(sim):
    r = sim.replicas["v0"]
    seq = r.height + 1
    sim.intercept = lambda sender, to, out: [] if isinstance(out.message, PrePrepare) else [out.data]
    sim.submit("v0", workload()[1][:3])
    first = r.votes.get(0, seq, PREPREPARE)
    assert first is not None
    sim.crash("v0")
    sim.restart("v0")
    out = sim.replicas["v0"].submit_batch(workload()[1][3:6])[0]
    assert not [o for o in out if isinstance(o.message, PrePrepare)]
    assert sim.replicas["v0"].votes.get(0, seq, PREPREPARE).digest == first.digest


def test_state_rebuilt_from_the_store(sim):
    submit_spread(sim, workload()[1][:20])
    assert sim.run(lambda: sim.committed_everywhere(21), max_time=60.0)
    old = sim.replicas["v1"]
    new = Replica(sim.config, sim.signers["v1"], sim.stores["v1"])
    assert (new.height, new.state.last_hash, new.state.keys, new.state.tx_hashes) == (
        old.height, old.state.last_hash, old.state.keys, old.state.tx_hashes)
    assert new.checkpoints.stable == old.checkpoints.stable
    assert new.view == old.view and new.committed == []


def test_memory_store_contract():
    store = MemoryLedgerStore()
    assert store.last_height() == 0 and store.get_block(1) is None
    store.put_block(1, b"b1", b"c1")
    with pytest.raises(ValueError):
        store.put_block(3, b"b3", b"c3")
    assert store.get_block(1) == (b"b1", b"c1") and store.last_height() == 1
    store.put_prepared(5, 2, b"p2")
    store.put_prepared(5, 1, b"p1")  # a lower view never replaces a higher one
    assert store.prepared() == [(5, 2, b"p2")]
    store.put_vote(5, 2, 1, b"v")
    store.put_vote(9, 2, 1, b"w")
    store.prune(5)
    assert store.votes() == [b"w"] and store.prepared() == []
    assert store.get_view() == (0, False)
    store.put_view(3, True)
    assert store.get_view() == (3, True)
    store.put_checkpoint(8, b"proof")
    assert store.get_checkpoint() == (8, b"proof")
