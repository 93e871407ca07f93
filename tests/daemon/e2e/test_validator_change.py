"""A fifth node joins a four-validator ledger network: candidate first, validator once approved.

Five processes through the devnet code; the genesis names nodes 1-4 and makes
validator-set changes effective two blocks after the block that commits them. Node 5
knows the join secret and joins by hello, which makes it only a candidate: not in any
node's validators, and no keygen player. Operators of three nodes approve adding it;
the change commits, one more block (a keygen among the four) brings it into effect,
every node (node 5 included, which followed the chain) lists five validators, and a
keygen among all five succeeds and commits on all five ledgers.
"""

from __future__ import annotations

import time

import pytest

from daemon import devnet
from daemon.client import ApiError
from daemon.identity import NodeIdentity
from daemon.ledger_genesis import GenesisValidator, LedgerGenesis
from tests.daemon.e2e.cluster import Cluster
from tests.daemon.e2e.test_ledger_cluster import committed_everywhere, get, wait_for

pytestmark = pytest.mark.slow

READY = 60.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("validator-change"), nodes=5)
    try:
        founders = c.nodes[:4]
        validators = tuple(
            GenesisValidator(n.peer_id, NodeIdentity.load_or_create(n.data_dir / "identity.key").public_key)
            for n in founders)
        LedgerGenesis(devnet.CHAIN_ID, int(time.time() * 1000), validators,
                      {"validator_set_delay": 2}).save(c.nodes[0].ledger_genesis)
        for node in founders:
            devnet.start(node, quiet=True)
        devnet.wait_ready(founders, c.api_key, timeout=READY, expected=4)
        devnet.start(c.nodes[4], quiet=True)
        devnet.wait_ready([c.nodes[4]], c.api_key, timeout=READY, expected=4)
        yield c
    finally:
        c.close()


def peer(cluster: Cluster, index: int) -> str:
    return cluster.nodes[index - 1].peer_id


def change_block_of(cluster: Cluster, index: int) -> dict | None:
    """The first block of node ``index``'s ledger with a validator-set change, if any yet."""
    return next((b for b in get(cluster, index, "/v1/ledger/blocks?limit=100")["blocks"]
                 if any(t["type"] == "validator_set" for t in b["transactions"])), None)


def members(cluster: Cluster, index: int) -> list[str]:
    return [v["peer_id"] for v in cluster.client(index).validators()]


def test_a_candidate_is_added_by_approved_change_and_then_takes_part_in_a_keygen(cluster):
    newcomer = peer(cluster, 5)
    founders = sorted(peer(cluster, i) for i in range(1, 5))

    # Joined by hello: a candidate everywhere, a member nowhere (its own view included).
    wait_for(lambda: all(newcomer in [c["peer_id"] for c in cluster.client(i).candidates()]
                         for i in range(1, 5)), "node 5 known as a candidate")
    for index in range(1, 6):
        assert sorted(members(cluster, index)) == founders
    with pytest.raises(ApiError) as refused:
        cluster.client(1).keygen("eddsa", "ed25519", 1, players=[peer(cluster, 1), newcomer])
    assert refused.value.status == 400 and "candidate" in refused.value.message

    # Three of the four operators approve (a quorum of four validators is three).
    first = cluster.client(1).propose_validator_change(add=[newcomer])
    assert first["approvers"] == [peer(cluster, 1)] and first["quorum"] == 3
    for index in (2, 3):
        answer = cluster.client(index).propose_validator_change(add=[newcomer], nonce=first["nonce"])
        assert answer["id"] == first["id"]
    wait_for(lambda: all(c["committed"] for c in cluster.client(4).validator_changes()
                         if c["id"] == first["id"]) and cluster.client(4).validator_changes(),
             "the change committed")
    # Node 4 saw the commit; node 1 may still be a block behind: wait for it to hold the block.
    change_block = wait_for(lambda: change_block_of(cluster, 1), "node 1 holds the change's block")
    tx = next(t for t in change_block["transactions"] if t["type"] == "validator_set")
    assert tx["add"] == [newcomer] and tx["remove"] == []
    assert len(tx["approvers"]) >= 3 and set(tx["approvers"]) <= set(founders)
    assert tx["nonce"] == first["nonce"]

    # One more block and the change is in effect: the four make a key to get there.
    filler = cluster.client(2).keygen("eddsa", "ed25519", 1)
    assert sorted(filler["participants"]) == founders
    committed_everywhere(cluster, [1, 2, 3, 4], filler["key_id"])
    everyone = sorted([*founders, newcomer])
    wait_for(lambda: all(sorted(members(cluster, i)) == everyone for i in range(1, 6)),
             "five validators on every node")
    assert cluster.client(1).candidates() == []
    status = get(cluster, 5, "/v1/ledger/status")
    assert sorted(status["validators"]) == everyone

    # Now a keygen among all five (the default players) succeeds and commits on all five.
    key = cluster.client(1).keygen("eddsa", "ed25519", 2)
    assert sorted(key["participants"]) == everyone
    committed_everywhere(cluster, [1, 2, 3, 4, 5], key["key_id"])
