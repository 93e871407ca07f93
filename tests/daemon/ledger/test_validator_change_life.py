"""The life of validator changes past the first commit, in one process over a FakeNetwork.

Old approvals die with the base they were given at (a second proposal of a committed
addition is dropped everywhere and never resubmitted), a late announcement of a
committed change is not held again, an operator withdraws a proposal, a removal takes
effect on every node, a restarted collector resubmits a pending proposal it holds a
quorum for, and a restarted ledger admits nobody until it has replayed its store.
"""

from __future__ import annotations

import asyncio

import pytest

from daemon.errors import BadRequest, Conflict, NotFound
from daemon.ledger_node import LedgerNode
from daemon.membership import Membership
from daemon.router import Router
from daemon.store.aio import AsyncStore
from daemon.store.sqlite import SqliteStore
from daemon.validator_changes import RESUBMIT_BLOCKS, TOPIC, ValidatorChanges
from daemon.validator_proposals import (
    MAX_PER_APPROVER,
    PROPOSAL_TTL,
    STORE_PREFIX,
    ApprovalNote,
    ProposalBook,
    StoredProposal,
)
from ledger.config import Validator
from ledger.crypto import Ed25519Signer
from ledger.txs import ValidatorChange, change_id, sign_approval
from protocol import wire
from tests.daemon.ledger.cluster import wait_until
from tests.daemon.ledger.test_validator_change_node import Network, Peer, run
from tests.ledger.helpers import keygen_tx


def _signer(peer: Peer) -> Ed25519Signer:
    return Ed25519Signer(peer.peer_id, peer.identity.seed)


async def _advance(peer: Peer, name: str) -> None:
    """Commit one block (a keygen) so a scheduled change moves closer to taking effect."""
    await peer.ledger.submit(keygen_tx(name)[0], wait=20)


def test_old_approvals_die_with_their_base_and_a_removal_takes_effect_everywhere(tmp_path):
    async def scenario(network: Network):
        v0, v1, v2, v3, candidate = network.peers
        new = candidate.peer_id
        first = await v0.changes.propose([new], [], b"a" * 8)
        second = await v0.changes.propose([new], [], b"b" * 8)   # the same addition, another nonce
        assert first["base"] == second["base"] == 0 and first["id"] != second["id"]
        await wait_until(lambda: all(len(p.changes.list()) == 2 for p in network.peers))
        second_change = v1.changes._book.get(second["id"]).change
        for peer in (v1, v2):
            await peer.changes.propose([new], [], b"a" * 8)
        await wait_until(lambda: all(p.changes.list() and p.changes.list()[0]["committed"]
                                     for p in network.peers[:4]))
        # The second proposal was approved at base 0; the chain is at base 1: dropped everywhere.
        await wait_until(lambda: all(second["id"] not in [c["id"] for c in p.changes.list()]
                                     for p in network.peers))
        # Its approvals, announced late, are refused as stale, and so is a late announcement
        # of the committed change itself.
        stale = ApprovalNote(network.genesis.chain_id, second_change,
                             sign_approval(_signer(v2), network.genesis.chain_id, network.genesis.hash(),
                                           second_change))
        await v2.transport.publish(TOPIC, wire.encode(stale))
        await v3.changes.withdraw(first["id"])
        committed_change = v1.changes._book.get(first["id"]).change
        late = ApprovalNote(network.genesis.chain_id, committed_change,
                            sign_approval(_signer(v0), network.genesis.chain_id, network.genesis.hash(),
                                          committed_change))
        await v0.transport.publish(TOPIC, wire.encode(late))
        await asyncio.sleep(0.3)
        assert v3.changes.list() == []
        assert all(second["id"] not in [c["id"] for c in p.changes.list()] for p in network.peers)
        with pytest.raises(NotFound):
            await v3.changes.withdraw(first["id"])

        await _advance(v3, "filler-1")
        await wait_until(lambda: all(p.directory.is_member(new) for p in network.peers))
        assert v0.ledger.change_count == 1
        with pytest.raises(BadRequest, match="already a validator"):
            await v0.changes.propose([new], [], b"b" * 8)   # at base 1 now: refused by the rules

        # Removing v3 takes four approvals of five; withdrawing a proposal forgets it here only.
        spare = await v0.changes.propose([], [v1.peer_id], b"w" * 8)
        withdrawn = await v0.changes.withdraw(spare["id"])
        assert withdrawn["id"] == spare["id"] and spare["id"] not in [c["id"] for c in v0.changes.list()]
        for peer in (v0, v1, v2, candidate):
            await peer.changes.propose([], [v3.peer_id], b"r" * 8)
        await wait_until(lambda: all(p.ledger.change_count == 2 for p in network.peers))
        await _advance(v0, "filler-2")
        await _advance(v0, "filler-3")
        for peer in network.peers:
            await wait_until(lambda peer=peer: not peer.directory.is_member(v3.peer_id))
            assert v3.peer_id not in [r.peer_id for r in peer.directory.members()]
            assert v3.peer_id in [r.peer_id for r in peer.directory.candidates()]
            assert len(peer.directory.members()) == 4

    asyncio.run(run(scenario)(tmp_path))


def test_a_restarted_collector_resubmits_and_a_restarted_ledger_replays_before_admitting(tmp_path):
    async def scenario(network: Network):
        v0, v1, v2, v3, candidate = network.peers
        new = candidate.peer_id
        record = v3.directory.get(new)
        change = ValidatorChange((Validator(new, record.identity_key),), (), 0, b"p" * 8)
        approvals = tuple(sign_approval(_signer(p), network.genesis.chain_id, network.genesis.hash(), change)
                          for p in sorted((v0, v1, v2), key=lambda p: p.peer_id))
        # A quorum collected and "submitted" before a crash that lost every mempool.
        pending = StoredProposal(change, approvals, 1_000_000, v0.peer_id, True, False, False, "")
        cid = change_id(change).hex()
        await v3.store.write({STORE_PREFIX + cid: wire.encode(pending)}, [])
        again = ValidatorChanges(ledger=v3.ledger, directory=v3.directory, identity=v3.identity,
                                 transport=v3.transport, store=v3.store, clock=lambda: 1_000.5)
        await again.start()
        try:
            await wait_until(lambda: again.list()[0]["committed"])
            assert again.list()[0]["id"] == cid
        finally:
            await again.stop()
        await _advance(v0, "filler")
        await wait_until(lambda: candidate.directory.is_member(new) and v3.directory.is_member(new))

        # v3 restarts its ledger: until the store is replayed nobody is a member (not the
        # genesis set, which lacks the new validator); then the replayed set is.
        await v3.changes.stop()
        await v3.ledger.stop()
        membership = Membership()
        reopened = LedgerNode(genesis=network.genesis, identity=v3.identity, transport=v3.transport,
                              router=Router(), kv=SqliteStore(network.tmp / "node3.db", "ledger"),
                              membership=membership)
        try:
            assert membership.ledger_driven and membership.validators is None
            assert not membership.admits(v0.peer_id) and not membership.admits(new)
            await reopened.start()
            assert membership.admits(new) and membership.admits(v0.peer_id)
            assert reopened.change_count == 1
        finally:
            await reopened.stop()

    asyncio.run(run(scenario)(tmp_path))


def test_one_validator_cannot_fill_every_book(tmp_path):
    async def scenario(network: Network):
        v0, v1, *_, candidate = network.peers
        new = candidate.peer_id
        ids = []
        for k in range(MAX_PER_APPROVER):
            ids.append((await v0.changes.propose([new], [], bytes([k + 1]) * 8))["id"])
        with pytest.raises(Conflict, match="pending already") as refused:
            await v0.changes.propose([new], [], b"\xff" * 8)
        assert refused.value.type == "busy"
        await wait_until(lambda: len(v1.changes.list()) == MAX_PER_APPROVER)
        await v0.changes.withdraw(ids[0])   # room again on v0 ...
        extra = await v0.changes.propose([new], [], b"\xff" * 8)
        await asyncio.sleep(0.3)
        # ... but not on v1, which still holds v0's first four (announced, live).
        assert len(v1.changes.list()) == MAX_PER_APPROVER
        assert extra["id"] not in [c["id"] for c in v1.changes.list()]

    asyncio.run(run(scenario)(tmp_path))


def test_proposals_expire_after_their_time_and_when_their_base_is_stale(tmp_path):
    async def scenario():
        store = AsyncStore(SqliteStore(tmp_path / "book.db"))
        now = [1_000.0]
        book = ProposalBook(store, "me", lambda: now[0])
        try:
            old = await book.hold(ValidatorChange((), ("v1",), 0, b"old"), "v2", local=False)
            now[0] += PROPOSAL_TTL / 2
            fresh = await book.hold(ValidatorChange((), ("v1",), 0, b"new"), "v2", local=False)
            done = await book.hold(ValidatorChange((), ("v3",), 0, b"done"), "v2", local=False)
            done.committed = True
            for proposal in (old, fresh, done):
                await book.persist(proposal)
            now[0] += PROPOSAL_TTL / 2 + 1
            await book.expire(0)
            assert [p.id for p in book] == [fresh.id, done.id]   # the old one expired
            await book.expire(1)   # a change committed: live proposals at base 0 are stale
            assert [p.id for p in book] == [done.id]
            assert [k for k, _ in await store.scan(STORE_PREFIX)] == [STORE_PREFIX + done.id]
            reloaded = ProposalBook(store, "me", lambda: now[0])
            await reloaded.load()
            assert [(p.id, p.committed, p.owner) for p in reloaded] == [(done.id, True, "v2")]
        finally:
            await store.close()

    asyncio.run(scenario())


def test_a_submission_lost_before_its_block_is_made_again_a_few_blocks_later(tmp_path):
    async def scenario(network: Network):
        v0, v1, v2, v3, candidate = network.peers
        record = v0.directory.get(candidate.peer_id)
        change = ValidatorChange((Validator(candidate.peer_id, record.identity_key),), (), 0, b"l" * 8)
        # v0 holds a quorum and believes it submitted, but the transaction never reached
        # any mempool (as when the node crashed right after, or the submission was lost).
        proposal = await v0.changes._book.hold(change, v1.peer_id, local=False)
        for peer in (v1, v2, v3):
            proposal.approvals[peer.peer_id] = sign_approval(
                _signer(peer), network.genesis.chain_id, network.genesis.hash(), change)
        proposal.submitted, proposal.submitted_height = True, v0.ledger.status().height
        for k in range(RESUBMIT_BLOCKS - 1):
            await _advance(v1, f"filler-{k}")
        await asyncio.sleep(0.2)
        assert not v0.changes.list()[0]["committed"] and v0.ledger.change_count == 0
        await _advance(v1, "filler-last")   # RESUBMIT_BLOCKS blocks on: neither committed nor pending
        await wait_until(lambda: v0.changes.list()[0]["committed"])
        assert v0.ledger.change_count == 1

    asyncio.run(run(scenario)(tmp_path))
