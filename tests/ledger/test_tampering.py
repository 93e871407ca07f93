"""Hostile input: every bad message is dropped, the replica carries on, and the sender
(only the sender) is on record."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.block import Block, make_block
from ledger.certs import sign_body
from ledger.crypto import signing_prefix
from ledger.messages import (
    BlockBatch,
    Commit,
    CommitCertificate,
    CommittedBlock,
    FetchBlocks,
    NewView,
    Prepare,
    PrePrepare,
    Status,
    ViewChange,
)
from ledger.replica import Replica
from ledger.store import MemoryLedgerStore
from protocol import wire
from tests.ledger.helpers import ecdsa_tx, make_config, signer
from tests.ledger.scenario import register_key, submit_spread, workload
from tests.ledger.sim import Simulation


@pytest.fixture
def sim() -> Simulation:
    sim = Simulation(make_config(4), seed=2)
    register_key(sim, "v1")
    submit_spread(sim, workload()[1][:32], batch=4)
    assert sim.run(lambda: sim.committed_everywhere(33), max_time=60.0)
    return sim


def _signed(sim: Simulation, author: str, body) -> bytes:
    key = sim.signers[author] if author in sim.signers else signer(author)
    return sign_body(body, key.sign, signing_prefix(sim.config.chain_id))


def _blamed(replica: Replica, culprit: str, words: str) -> bool:
    return any(e.culprits == (culprit,) and words in e.reason for e in replica.evidence)


def _dropped(replica: Replica, sender: str, words: str) -> bool:
    return any(d.sender == sender and words in d.reason for d in replica.dropped)


def _next(sim: Simulation, name: str = "v2"):
    r = sim.replicas[name]
    return r, r.height + 1


def test_bad_signature(sim):
    r, seq = _next(sim)
    data = bytearray(_signed(sim, "v1", Prepare(r.view, seq, bytes(32), "v1")))
    data[-1] ^= 1
    sim.inject("v1", "v2", bytes(data))
    assert _blamed(r, "v1", "bad signature")
    assert r.log.voters(1, r.view, seq, bytes(32)) == {}


def test_non_member_sender(sim):
    r, _ = _next(sim)
    sim.inject("mallory", "v2", _signed(sim, "mallory", Status(0, 0, "mallory")))
    # Without a key there is nothing to prove: dropped, the sender on record, nothing done.
    assert _dropped(r, "mallory", "not a validator")
    assert not r.evidence and r.height == sim.replicas["v1"].height


def test_message_relayed_under_another_name(sim):
    r, seq = _next(sim)
    sim.inject("v3", "v2", _signed(sim, "v1", Prepare(r.view, seq, bytes(32), "v1")))
    assert _blamed(r, "v3", "signed by 'v1' but sent by 'v3'")


def test_malformed_bytes(sim):
    r, _ = _next(sim)
    for junk in (b"", b"\xc1", b"\x93\x01\xcd\x04\x05\x00", wire.encode(Status(1, 0, "v1"))):
        sim.inject("v1", "v2", junk)
    assert sum(e.culprits == ("v1",) for e in r.evidence) == 4


def test_wrong_view(sim):
    r, seq = _next(sim)
    sim.inject("v1", "v2", _signed(sim, "v1", Prepare(r.view + 50, seq, bytes(32), "v1")))
    assert _dropped(r, "v1", "far beyond ours")
    r.view += 1  # as if a view change had happened
    sim.inject("v3", "v2", _signed(sim, "v3", Prepare(r.view - 1, seq, bytes(32), "v3")))
    assert _dropped(r, "v3", "we are in")
    assert not r.evidence


def test_replayed_old_message(sim):
    r, _ = _next(sim)
    stable = r.checkpoints.stable
    assert stable >= 4
    old = _signed(sim, "v1", Commit(0, stable - 1, bytes(32), "v1"))
    sim.inject("v1", "v2", old)
    sim.inject("v1", "v2", old)
    assert _dropped(r, "v1", "already executed")
    assert not r.evidence


def test_out_of_window_sequence(sim):
    r, _ = _next(sim)
    far = r.checkpoints.high + 1
    sim.inject("v1", "v2", _signed(sim, "v1", Prepare(r.view, far, bytes(32), "v1")))
    assert _dropped(r, "v1", "outside the window")
    assert r.log.highest() <= r.checkpoints.high


def test_conflicting_votes_are_evidence(sim):
    r, seq = _next(sim)
    first = _signed(sim, "v1", Prepare(r.view, seq, b"\x01" * 32, "v1"))
    second = _signed(sim, "v1", Prepare(r.view, seq, b"\x02" * 32, "v1"))
    sim.inject("v1", "v2", first)
    sim.inject("v1", "v2", second)
    [ev] = [e for e in r.evidence if e.culprits == ("v1",)]
    assert ev.evidence == (first, second)
    assert r.log.voters(1, r.view, seq, b"\x01" * 32) == {"v1": first}


def test_roles_are_checked(sim):
    r, seq = _next(sim)
    primary = r.primary
    backup = next(n for n in sim.replicas if n not in (primary, "v2"))
    block = make_block(seq, r.state.last_hash, r.state.last_timestamp_ms, backup, [b"x"])
    sim.inject(backup, "v2", _signed(sim, backup, PrePrepare(r.view, seq, block, backup)))
    assert _blamed(r, backup, "not from the view's primary")
    sim.inject(primary, "v2", _signed(sim, primary, Prepare(r.view, seq, bytes(32), primary)))
    assert _blamed(r, primary, "does not prepare")


def test_preprepare_with_an_invalid_transaction(sim):
    r, seq = _next(sim)
    primary = r.primary
    _, sigs = workload()
    good = sigs[40]
    forged = dataclasses.replace(good, signature=ecdsa_tx("bridge-key", 12345, 1).signature)
    block = make_block(seq, r.state.last_hash, r.state.last_timestamp_ms, primary,
                       [wire.encode(good), wire.encode(forged)])
    view = r.view
    sim.inject(primary, "v2", _signed(sim, primary, PrePrepare(view, seq, block, primary)))
    assert _blamed(r, primary, "invalid block")
    assert r.votes.get(view, seq, 1) is None  # never prepared it
    assert r.changing and r.view == view + 1  # and it moves away from that primary
    assert r.height == seq - 1


def test_block_from_the_future_refused(sim):
    r, seq = _next(sim)
    primary = r.primary
    tx = wire.encode(workload()[1][41])
    block = make_block(seq, r.state.last_hash, sim.now_ms + 10**7, primary, [tx])
    sim.inject(primary, "v2", _signed(sim, primary, PrePrepare(r.view, seq, block, primary)))
    assert _blamed(r, primary, "future")


def _fresh(sim: Simulation) -> Replica:
    """A replica of the same chain that has nothing yet (a new or wiped node)."""
    return Replica(sim.config, sim.signers["v3"], MemoryLedgerStore())


def _committed(sim: Simulation, height: int) -> CommittedBlock:
    block_data, cert_data = sim.stores["v1"].get_block(height)
    return CommittedBlock(wire.decode(block_data, Block), wire.decode(cert_data, CommitCertificate))


def test_forged_certificates_in_state_transfer(sim):
    fresh = _fresh(sim)
    fresh.receive("v1", _signed(sim, "v1", BlockBatch((_committed(sim, 1),), "v1")))
    assert fresh.height == 1
    real = _committed(sim, 2)
    assert len(real.block.txs) > 1
    cert = real.certificate
    forgeries = {
        "too few": dataclasses.replace(cert, commits=cert.commits[:2]),
        "duplicate": dataclasses.replace(cert, commits=(cert.commits[0],) * 3),
        "other digest": dataclasses.replace(cert, digest=bytes(32)),
        "bad signature": dataclasses.replace(
            cert, commits=(cert.commits[0][:-1] + bytes([cert.commits[0][-1] ^ 1]), *cert.commits[1:])),
        "made up": dataclasses.replace(cert, commits=tuple(
            _signed(sim, f"v{i}", Commit(0, 2, bytes(32), f"v{i}")) for i in range(3))),
    }
    for name, forged in forgeries.items():
        batch = BlockBatch((CommittedBlock(real.block, forged),), "v1")
        fresh.receive("v1", _signed(sim, "v1", batch))
        assert fresh.height == 1, name
    assert len([e for e in fresh.evidence if e.culprits == ("v1",)]) == len(forgeries)
    # A block altered under a genuine certificate is refused too.
    altered = dataclasses.replace(real.block, txs=real.block.txs[::-1])
    fresh.receive("v1", _signed(sim, "v1", BlockBatch((CommittedBlock(altered, cert),), "v1")))
    assert fresh.height == 1 and _blamed(fresh, "v1", "another block")
    # The genuine block is accepted.
    fresh.receive("v1", _signed(sim, "v1", BlockBatch((real,), "v1")))
    assert fresh.height == 2 and fresh.state.last_hash == real.block.hash()


def test_state_transfer_serves_what_is_asked(sim):
    r = sim.replicas["v1"]
    out = r.receive("v3", _signed(sim, "v3", FetchBlocks(2, "v3")))
    [reply] = out
    assert reply.to == "v3" and isinstance(reply.message, BlockBatch)
    assert [b.block.height for b in reply.message.blocks] == list(range(2, r.height + 1))
    # Asked for blocks it does not have, it learns the asker is ahead and asks back.
    [ask] = r.receive("v3", _signed(sim, "v3", FetchBlocks(r.height + 5, "v3")))
    assert ask.to == "v3" and ask.message == FetchBlocks(r.height + 1, "v1")


def test_forged_new_view(sim):
    r, _ = _next(sim, "v3")
    view = r.view + 1
    primary = r.validators.primary(view)
    vcs = tuple(_signed(sim, n, ViewChange(view, 0, None, (), n)) for n in ("v0", "v1"))
    sim.inject(primary, "v3", _signed(sim, primary, NewView(view, vcs, (), primary)))
    assert _blamed(r, primary, "quorum")
    # The right number of view changes, but one claims a height without a certificate.
    vcs = tuple(_signed(sim, n, ViewChange(view, 5, None, (), n)) for n in ("v0", "v1", "v2"))
    sim.inject(primary, "v3", _signed(sim, primary, NewView(view, vcs, (), primary)))
    assert _blamed(r, primary, "no commit certificate")
    assert r.view == view - 1


@settings(max_examples=40)
@given(position=st.integers(0, 10**6), bit=st.integers(0, 7))
def test_a_flipped_bit_blames_only_the_sender(position, bit):
    sim = _SHARED_SIM()
    r = sim.replicas["v2"]
    data = bytearray(_signed(sim, "v1", Prepare(r.view, r.height + 1, b"\x07" * 32, "v1")))
    data[position % len(data)] ^= 1 << bit
    before = len(r.evidence)
    r.receive("v1", bytes(data))
    assert all(e.culprits == ("v1",) for e in list(r.evidence)[before:])


def _make_shared():
    cached: list[Simulation] = []

    def get() -> Simulation:
        if not cached:
            sim = Simulation(make_config(4), seed=9)
            register_key(sim, "v0")
            cached.append(sim)
        return cached[0]

    return get


_SHARED_SIM = _make_shared()


_heights = st.integers(0, 40)
_views = st.integers(0, 12)
_blobs = st.binary(max_size=48)
_digests = st.binary(min_size=32, max_size=32)
_blocks = st.builds(lambda h, txs, ts: make_block(h, bytes(32), ts, "v1", txs),
                    _heights, st.lists(_blobs, min_size=1, max_size=3), st.integers(0, 2**40))
_certs = st.builds(CommitCertificate, _views, _heights, _digests,
                   st.lists(_blobs, min_size=1, max_size=3).map(tuple))
_any_body = st.one_of(
    st.builds(Prepare, _views, _heights, _digests, st.just("v1")),
    st.builds(Commit, _views, _heights, _digests, st.just("v1")),
    st.builds(Status, _heights, _views, st.just("v1")),
    st.builds(FetchBlocks, _heights, st.just("v1")),
    st.builds(PrePrepare, _views, _heights, _blocks, st.just("v1")),
    st.builds(ViewChange, _views, _heights, st.none() | _certs, st.just(()), st.just("v1")),
    st.builds(NewView, _views, st.lists(_blobs, min_size=1, max_size=3).map(tuple),
              st.lists(_blobs, max_size=2).map(tuple), st.just("v1")),
    st.builds(lambda pairs: BlockBatch(tuple(CommittedBlock(b, c) for b, c in pairs), "v1"),
              st.lists(st.tuples(_blocks, _certs), min_size=1, max_size=2)),
)


@settings(max_examples=80)
@given(body=_any_body)
def test_arbitrary_signed_messages_never_break_a_replica(body):
    """Well-signed nonsense from a validator is handled: no exception, blame only for it."""
    sim = _SHARED_SIM()
    r = sim.replicas["v2"]
    before = len(r.evidence)
    sim.inject("v1", "v2", _signed(sim, "v1", body))
    assert all(e.culprits == ("v1",) for e in list(r.evidence)[before:])
