"""How the node decides to run the ledger (``daemon.node.open_ledger``) and the devnet's genesis."""

from __future__ import annotations

import asyncio
import json
import logging
import tomllib

import pytest

from daemon import devnet, node
from daemon.config import NodeConfig, load
from daemon.errors import BadRequest
from daemon.identity import NodeIdentity
from daemon.ledger_genesis import LedgerGenesis
from daemon.membership import Membership
from daemon.node import open_ledger
from daemon.router import Router
from tests.daemon.fake_transport import FakeNetwork
from tests.daemon.ledger.cluster import identity, make_genesis

API_KEY = "devnet-test-api-key-0123"


def _open(config: NodeConfig, me: NodeIdentity):
    return open_ledger(config, me, FakeNetwork().transport(me.peer_id), Router())


def test_without_a_genesis_the_ledger_is_off_and_says_so(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="tssnet.node"):
        assert _open(NodeConfig(data_dir=tmp_path), identity("n0")) is None
    assert [r.getMessage() for r in caplog.records] == ["ledger off: no ledger_genesis configured"]


def test_a_node_missing_from_the_genesis_follows_the_chain_as_a_candidate(tmp_path, caplog):
    members = [identity(f"n{k}") for k in range(4)]
    path = tmp_path / "genesis.json"
    make_genesis(members).save(path)
    membership = Membership()
    stranger = identity("stranger")
    with caplog.at_level(logging.INFO, logger="tssnet.node"):
        ledger = open_ledger(NodeConfig(data_dir=tmp_path, ledger_genesis=path), stranger,
                             FakeNetwork().transport(stranger.peer_id), Router(), membership)
    try:
        assert ledger is not None
        assert "is not a validator" in caplog.records[0].getMessage()
        assert "follows the chain" in caplog.records[0].getMessage()
        # From the moment it exists, the ledger decides: until its store is replayed nobody
        # is a member (not even the genesis validators, whom the chain may have removed).
        assert membership.ledger_driven and not membership.admits(stranger.peer_id)
        assert not any(membership.admits(m.peer_id) for m in members)
        assert membership.validators is None

        async def started() -> None:
            try:
                await ledger.start()
                assert all(membership.admits(m.peer_id) for m in members)
                assert not membership.admits(stranger.peer_id)
            finally:
                await ledger.stop()
        asyncio.run(started())
    finally:
        asyncio.run(ledger.stop())


def test_a_bad_genesis_stops_the_node_with_a_clear_error(tmp_path):
    path = tmp_path / "genesis.json"
    path.write_text('{"chain_id": "x"}')
    with pytest.raises(BadRequest, match="genesis: missing"):
        _open(NodeConfig(data_dir=tmp_path, ledger_genesis=path), identity("n0"))


def test_a_validator_runs_its_ledger_in_a_store_namespace_of_its_chain(tmp_path, monkeypatch):
    members = [identity(f"n{k}") for k in range(4)]
    path = tmp_path / "genesis.json"
    make_genesis(members).save(path)
    config = load(overrides={"data_dir": str(tmp_path), "ledger_genesis": str(path)})
    assert config.ledger_genesis == path
    opened = []

    def open_store(config, namespace):
        opened.append(namespace)
        return real_open_store(config, namespace)

    real_open_store = node.open_store
    monkeypatch.setattr(node, "open_store", open_store)

    async def main():
        ledger = _open(config, members[0])
        assert ledger is not None and ledger.peer_id == members[0].peer_id
        await ledger.start()
        try:
            assert ledger.status().state == "running"
            assert ledger.status().genesis_hash == LedgerGenesis.load(path).hash().hex()
        finally:
            await ledger.stop()
    asyncio.run(main())
    genesis_hash = LedgerGenesis.load(path).hash().hex()
    assert opened == [f"{members[0].peer_id}.ledger-{genesis_hash[:16]}"]


# --- the devnet's genesis -------------------------------------------------------------------


def _plan(root, nodes: int, **settings):
    return devnet.plan(nodes, 30000, root, API_KEY, "join-secret-0123456789", settings)


def _config(planned: devnet.DevnetNode) -> dict:
    return tomllib.loads(planned.config_path.read_text())


def test_four_nodes_share_one_genesis_naming_them_all(tmp_path):
    nodes = _plan(tmp_path, 4)
    path = tmp_path / "genesis.json"
    genesis = LedgerGenesis.load(path)
    assert genesis.chain_id == "tssnet-devnet"
    keys = {n.peer_id: NodeIdentity.load_or_create(n.data_dir / "identity.key").public_key for n in nodes}
    assert {v.peer_id: v.identity_key for v in genesis.validators} == keys
    for planned in nodes:
        assert _config(planned)["ledger_genesis"] == str(path.resolve())
        assert planned.ledger_genesis == path.resolve()
    assert "ledger: chain tssnet-devnet, 4 validators" in devnet.describe(nodes, API_KEY)


def test_a_rerun_with_the_same_nodes_keeps_the_genesis_byte_for_byte(tmp_path):
    _plan(tmp_path, 4)
    path = tmp_path / "genesis.json"
    before = path.read_bytes()
    _plan(tmp_path, 4)
    assert path.read_bytes() == before


def test_other_validators_get_a_new_genesis(tmp_path):
    _plan(tmp_path, 4)
    path = tmp_path / "genesis.json"
    first = LedgerGenesis.load(path)
    nodes = _plan(tmp_path, 5)
    second = LedgerGenesis.load(path)
    assert len(second.validators) == 5 and second.hash() != first.hash()
    assert {v.peer_id for v in second.validators} == {n.peer_id for n in nodes}


def test_a_corrupt_genesis_file_is_replaced(tmp_path):
    path = tmp_path / "genesis.json"
    path.write_text("{not json")
    _plan(tmp_path, 4)
    assert len(LedgerGenesis.load(path).validators) == 4


def test_fewer_than_four_nodes_run_no_ledger_and_the_devnet_says_so(tmp_path):
    nodes = _plan(tmp_path, 3)
    assert not (tmp_path / "genesis.json").exists()
    assert all("ledger_genesis" not in _config(n) for n in nodes)
    assert "ledger: off (PBFT needs at least 4 validators; this devnet has 3)" in devnet.describe(nodes, API_KEY)


def test_a_genesis_given_with_set_is_used_as_it_is(tmp_path):
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps({"chain_id": "elsewhere"}))
    nodes = _plan(tmp_path, 4, ledger_genesis=str(mine))
    assert not (tmp_path / "genesis.json").exists()
    assert all(_config(n)["ledger_genesis"] == str(mine) for n in nodes)
    assert mine.read_text() == json.dumps({"chain_id": "elsewhere"})
