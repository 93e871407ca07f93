"""Four validator processes with the PBFT ledger (issue 6's multi-process test).

A keygen commits its ``keygen`` transaction on all four nodes with one block hash;
with the view-0 primary killed (SIGKILL) the other three change view and commit the
next keygen; the killed node, restarted, catches up to the same blocks. Everything
is read through ``GET /v1/ledger/...``, as a user would.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from tests.daemon.e2e.cluster import Cluster

pytestmark = pytest.mark.slow

#: generous bound on a commit (a view change included); never a timing claim
COMMIT_WAIT = 60.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with Cluster(tmp_path_factory.mktemp("ledger-cluster"), nodes=4) as c:
        yield c


def get(cluster: Cluster, index: int, path: str):
    request = urllib.request.Request(cluster.nodes[index - 1].url + path,
                                     headers={"X-API-Key": cluster.api_key})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


def wait_for(condition, what: str, timeout: float = COMMIT_WAIT):
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = condition()
        except (OSError, urllib.error.URLError, ValueError, KeyError):
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {timeout:.0f} s")
        time.sleep(0.2)


def chain(cluster: Cluster, index: int) -> list[dict]:
    return get(cluster, index, "/v1/ledger/blocks?limit=100")["blocks"]


def block_of_key(cluster: Cluster, index: int, key_id: str) -> dict | None:
    for block in chain(cluster, index):
        if any(tx.get("key_id") == key_id for tx in block["transactions"]):
            return block
    return None


def committed_everywhere(cluster: Cluster, nodes: list[int], key_id: str) -> dict[int, dict]:
    found = wait_for(lambda: (lambda blocks: blocks if all(blocks.values()) else None)(
        {i: block_of_key(cluster, i, key_id) for i in nodes}), f"key {key_id} on nodes {nodes}")
    hashes = {block["hash"] for block in found.values()}
    assert len(hashes) == 1, f"nodes disagree on the block of {key_id}: {found}"
    return found


def without_certificate(block: dict) -> dict:
    return {name: value for name, value in block.items() if name != "certificate"}


def check_keygen_tx(block: dict, key: dict) -> None:
    tx = next(t for t in block["transactions"] if t.get("key_id") == key["key_id"])
    assert tx["type"] == "keygen" and tx["threshold"] == key["threshold"]
    assert block["certificate"]["block_hash"] == block["hash"]
    assert len(set(block["certificate"]["signers"])) >= 3   # a quorum of 4 validators


def test_keygens_commit_on_every_validator_through_a_crash_and_a_restart(cluster):
    everyone = [1, 2, 3, 4]
    status = wait_for(lambda: (lambda s: s if s["state"] == "running" else None)(
        get(cluster, 1, "/v1/ledger/status")), "ledger running")
    assert sorted(status["validators"]) == sorted(n.peer_id for n in cluster.nodes)
    assert status["chain_id"] == "tssnet-devnet"

    first = cluster.client(1).keygen(scheme="ecdsa", curve="secp256k1", threshold=1)
    blocks = committed_everywhere(cluster, everyone, first["key_id"])
    check_keygen_tx(blocks[1], first)
    for index in everyone:   # one block; each node keeps the quorum of commits it saw
        block = get(cluster, index, f"/v1/ledger/blocks/{blocks[1]['height']}")
        assert block == blocks[index]
        assert without_certificate(block) == without_certificate(blocks[1])

    # Kill the primary of the current view: the others must change view to commit.
    primary = get(cluster, 2, "/v1/ledger/status")["primary"]
    victim = next(n.index for n in cluster.nodes if n.peer_id == primary)
    cluster.kill(victim)
    survivors = [i for i in everyone if i != victim]
    players = [cluster.nodes[i - 1].peer_id for i in survivors]
    second = cluster.client(survivors[0]).keygen(scheme="eddsa", curve="ed25519", threshold=1,
                                                 players=players)
    assert sorted(second["participants"]) == sorted(players)
    blocks = committed_everywhere(cluster, survivors, second["key_id"])
    check_keygen_tx(blocks[survivors[0]], second)
    view = get(cluster, survivors[0], "/v1/ledger/status")["view"]
    assert view > 0, "the killed primary was not replaced by a view change"

    cluster.start(victim)
    reference = [without_certificate(b) for b in chain(cluster, survivors[0])]
    wait_for(lambda: [without_certificate(b) for b in chain(cluster, victim)] == reference,
             f"node {victim} catching up")
    tip = (reference[-1]["height"], reference[-1]["hash"])
    wait_for(lambda: all((s["height"], s["last_block_hash"]) == tip
                         for s in (get(cluster, i, "/v1/ledger/status") for i in everyone)),
             "every status at the same tip")
