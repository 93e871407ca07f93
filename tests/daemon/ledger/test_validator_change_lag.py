"""Validator changes seen by a node whose ledger lags, and changes naming a wrong peer id.

A node one block behind the approvers receives a quorum of approvals at the new base:
its ledger cannot take the change yet (``FutureBase``), so the proposal waits, alive,
and is submitted once the node has caught up; it is never marked dead. An added
validator whose id is not the peer id of its key is refused (``judge_change`` and the
gossip both).
"""

from __future__ import annotations

import asyncio

from daemon.ledger_wire import added_id_problem
from daemon.validator_proposals import ApprovalNote
from ledger.config import Validator
from ledger.crypto import Ed25519Signer
from ledger.txs import ValidatorChange, change_id, sign_approval
from tests.daemon.ledger.cluster import wait_until
from tests.daemon.ledger.test_validator_change_node import Network, run


def _approval(network: Network, peer, change: ValidatorChange):
    signer = Ed25519Signer(peer.peer_id, peer.identity.seed)
    return sign_approval(signer, network.genesis.chain_id, network.genesis.hash(), change)


def test_a_node_behind_keeps_a_change_at_the_next_base_alive_and_submits_it_once_caught_up(tmp_path):
    async def scenario(network: Network):
        v0, v1, v2, v3, candidate = network.peers
        new = candidate.peer_id
        network.net.partition(v3.peer_id)
        for peer in (v0, v1, v2):
            await peer.changes.propose([new], [], b"a" * 8)
        await wait_until(lambda: all(p.ledger.change_count == 1 for p in (v0, v1, v2)))
        assert v3.ledger.change_count == 0

        # At base 1 (the approvers' ledgers), four approvals reach v3 directly.
        change = ValidatorChange((), (new,), 1, b"b" * 8)
        for peer in (v0, v1, v2, v3):
            await v3.changes._take(ApprovalNote(network.genesis.chain_id, change,
                                                _approval(network, peer, change)), peer.peer_id)
        verdict = await v3.ledger.judge_change(change)
        assert verdict is not None and verdict[0] == "wait", verdict
        [held] = v3.changes.list()
        assert held["id"] == change_id(change).hex()
        assert (held["dead"], held["submitted"], held["committed"]) == (False, False, False), held
        assert v0.ledger.change_count == 1    # nobody else holds it: only v3 can submit it

        network.net.heal(v3.peer_id)
        await wait_until(lambda: all(p.ledger.change_count == 2 for p in network.peers[:4]), timeout=20)
        await wait_until(lambda: v3.changes.list()[0]["committed"])
        assert not v3.changes.list()[0]["dead"]

    asyncio.run(run(scenario)(tmp_path))


def test_an_added_validator_must_be_named_by_the_peer_id_of_its_key(tmp_path):
    async def scenario(network: Network):
        v0, v1, *_, candidate = network.peers
        key = v0.directory.get(candidate.peer_id).identity_key
        wrong = ValidatorChange((Validator(v1.peer_id[:-1] + "x", key),), (), 0, b"w" * 8)
        assert "is not the peer id of its key" in added_id_problem(wrong)
        assert added_id_problem(ValidatorChange((Validator(candidate.peer_id, key),), (), 0, b"r" * 8)) == ""
        verdict = await v0.ledger.judge_change(wrong)
        assert verdict is not None and verdict[0] == "invalid" and "peer id" in verdict[1]
        # Announced with a valid approval, it is refused by every node, never held.
        await v1.changes._take(ApprovalNote(network.genesis.chain_id, wrong, _approval(network, v0, wrong)),
                               v0.peer_id)
        assert v1.changes.list() == []

    asyncio.run(run(scenario)(tmp_path))
