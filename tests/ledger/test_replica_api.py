"""The replica as its caller sees it: configuration, submissions and timers."""

from __future__ import annotations

import dataclasses

import pytest

from ledger.certs import sign_body
from ledger.config import LedgerConfig
from ledger.crypto import signing_prefix
from ledger.messages import FetchBlocks, Status, TxBatch, ViewChange
from ledger.replica import Replica
from ledger.store import MemoryLedgerStore
from ledger.txs import InvalidTransaction
from protocol.errors import UsageError
from tests.ledger.helpers import keygen_tx, make_config, signer
from tests.ledger.scenario import register_key, workload
from tests.ledger.sim import Simulation


def _replica(name: str = "v1", **overrides) -> Replica:
    return Replica(make_config(4, **overrides), signer(name), MemoryLedgerStore())


def test_config_is_checked():
    config = make_config(4)
    with pytest.raises(UsageError):
        make_config(3)
    with pytest.raises(UsageError):
        LedgerConfig("c", config.validators + config.validators[:1])
    with pytest.raises(UsageError):
        make_config(4, window=3, checkpoint_interval=2)
    with pytest.raises(UsageError):
        LedgerConfig("c", (dataclasses.replace(config.validators[0], public_key=bytes(32)),
                           *config.validators[1:]))


def test_idle_replica_wants_no_timer():
    r = _replica()
    out = r.start(now=5)
    assert [type(o.message) for o in out] == [Status]
    assert r.timer is None and r.primary == "v0" and r.height == 0


def test_submit_forwards_and_starts_the_timer():
    r = _replica()
    keygen, _ = keygen_tx("k")
    out = r.submit(keygen, now=10)
    assert [(o.to, type(o.message)) for o in out] == [(None, TxBatch)]
    assert r.timer is not None and r.timer.view == 0 and r.timer.seconds == 1.0
    with pytest.raises(InvalidTransaction):
        r.submit(dataclasses.replace(keygen, key_id="other"))
    _, rejected = r.submit_batch([keygen, b"junk"])
    assert [i for i, _ in rejected] == [1]  # the first is already pending: accepted again quietly


def test_timeouts_grow_and_stale_timers_are_ignored():
    r = _replica()
    r.submit(keygen_tx("k")[0])
    assert r.on_timeout(7) == []  # not the view we are in
    out = r.on_timeout(0)
    assert r.view == 1 and r.changing
    assert any(isinstance(o.message, ViewChange) and o.message.new_view == 1 for o in out)
    assert r.timeout_for(1) == 2.0 and r.timeout_for(3) == 8.0
    assert r.timeout_for(100) == 2.0 ** r.config.max_timeout_doublings
    first = r.timer
    # Alone, a replica does not run ahead through views: it repeats its view change instead.
    out = r.on_timeout(1)
    assert r.view == 1 and [o.message.new_view for o in out if isinstance(o.message, ViewChange)] == [1]
    assert r.timer.token != first.token  # but it asks for a fresh timer


def test_timer_restarts_on_progress_and_stops_when_idle():
    sim = Simulation(make_config(4), seed=0)
    register_key(sim, "v0")
    replica = sim.replicas["v2"]
    assert replica.timer is None  # everything committed, nothing pending
    sim.submit("v2", workload()[1][:4])
    token = replica.timer.token
    assert sim.run(lambda: sim.committed_everywhere(5), max_time=10.0)
    assert replica.timer is None or replica.timer.token != token
    assert all(r.view == 0 for r in sim.replicas.values())


def test_take_committed_drains():
    sim = Simulation(make_config(4), seed=0)
    register_key(sim, "v0")
    fresh = Replica(sim.config, sim.signers["v3"], MemoryLedgerStore())
    [reply] = sim.replicas["v0"].receive("v3", _signed_fetch(sim))
    fresh.receive("v0", reply.data)
    [block] = fresh.take_committed()
    assert block.certificate.seq == block.block.height == fresh.height == 1
    assert fresh.take_committed() == [] and fresh.committed == []


def _signed_fetch(sim: Simulation) -> bytes:
    return sign_body(FetchBlocks(1, "v3"), sim.signers["v3"].sign, signing_prefix(sim.config.chain_id))
