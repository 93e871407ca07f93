"""The ledger genesis file: round trips, the config it gives, and every way it can be wrong."""

from __future__ import annotations

import json

import pytest

from daemon.errors import BadRequest
from daemon.ledger_genesis import MAX_GENESIS_BYTES, LedgerGenesis, ledger_config
from ledger.block import genesis_hash
from tests.daemon.ledger.cluster import identity, make_genesis

# The identity point encodes as 1 followed by zeros: a small-order point, never a key.
SMALL_ORDER_POINT = "01" + "00" * 31
IDENTITIES = [identity(f"g{k}") for k in range(5)]


def document(**changes) -> dict:
    doc = make_genesis(IDENTITIES[:4], base_timeout=0.5).to_json()
    doc.update(changes)
    return doc


def refused(doc, match: str) -> None:
    with pytest.raises(BadRequest, match=match):
        LedgerGenesis.from_json(doc)


def test_save_load_round_trip_and_config(tmp_path):
    genesis = LedgerGenesis.from_json(document(window=40))
    path = tmp_path / "sub" / "genesis.json"
    genesis.save(path)
    loaded = LedgerGenesis.load(path)
    assert loaded == genesis and loaded.to_json() == json.loads(path.read_text())
    config = ledger_config(loaded)
    assert config.chain_id == "test-ledger" and config.genesis_time_ms == 1_000
    assert config.base_timeout == 0.5 and config.window == 40
    assert [v.id for v in config.validators] == [i.peer_id for i in IDENTITIES[:4]]
    assert [v.public_key for v in config.validators] == [i.public_key for i in IDENTITIES[:4]]
    assert loaded.hash() == genesis_hash(config)
    assert loaded.has_validator(IDENTITIES[0].peer_id) and not loaded.has_validator(IDENTITIES[4].peer_id)


def test_every_consensus_parameter_is_in_the_genesis_hash(tmp_path):
    """Two genesis files that differ only in a parameter that decides whether a block is
    valid (the validator-set delay, the block limits) never share a hash, so their nodes
    never join one chain; a local tuning knob (timeouts) leaves the hash alone."""
    base = LedgerGenesis.from_json(document())
    hashes = {base.hash()}
    for knob, value in (("validator_set_delay", 3), ("max_txs_per_block", 7), ("max_block_bytes", 5000)):
        other = LedgerGenesis.from_json(document(**{knob: value}))
        path = tmp_path / f"{knob}.json"
        other.save(path)
        hashes.add(LedgerGenesis.load(path).hash())
    assert len(hashes) == 4
    assert LedgerGenesis.from_json(document(base_timeout=2.0)).hash() == base.hash()


def test_knobs_left_out_take_the_ledger_defaults():
    doc = document()
    for knob in ("base_timeout", "checkpoint_interval", "window", "max_txs_per_block"):
        del doc[knob]
    config = ledger_config(LedgerGenesis.from_json(doc))
    assert (config.base_timeout, config.checkpoint_interval, config.window) == (1.0, 16, 64)


def test_fewer_than_four_validators_are_refused():
    doc = document()
    doc["validators"] = doc["validators"][:3]
    refused(doc, "needs 4")


@pytest.mark.parametrize("key", ["zz" * 32, "ab" * 31, 12, SMALL_ORDER_POINT])
def test_a_bad_identity_key_is_refused(key):
    doc = document()
    doc["validators"][1]["identity_key"] = key
    refused(doc, "identity_key|identity key")


def test_a_duplicate_validator_is_refused():
    doc = document()
    doc["validators"][3] = dict(doc["validators"][0])
    refused(doc, "appears twice")


def test_a_peer_id_that_is_not_the_keys_is_refused():
    doc = document()
    doc["validators"][2]["peer_id"] = IDENTITIES[4].peer_id
    refused(doc, "not the peer id of its identity key")
    doc["validators"][2]["peer_id"] = "x" * 200
    refused(doc, "peer id")


@pytest.mark.parametrize("changes, match", [
    ({"chain_id": ""}, "chain_id"),
    ({"chain_id": "c" * 129}, "chain_id"),
    ({"chain_id": 7}, "chain_id"),
    ({"genesis_time_ms": -1}, "genesis_time_ms"),
    ({"genesis_time_ms": True}, "genesis_time_ms"),
    ({"genesis_time_ms": "now"}, "genesis_time_ms"),
    ({"base_timeout": 0}, "base_timeout"),
    ({"base_timeout": "1s"}, "base_timeout"),
    ({"window": 3, "checkpoint_interval": 2}, "window"),
    ({"max_block_bytes": 64 * 1024 * 1024}, "max_block_bytes"),
    ({"max_txs_per_block": 0}, "positive"),
    ({"validators": {"a": 1}}, "must be a list"),
    ({"blocktime": 1}, "unknown settings blocktime"),
])
def test_bad_settings_are_refused(changes, match):
    refused(document(**changes), match)


def test_missing_fields_and_malformed_entries_are_refused():
    doc = document()
    del doc["chain_id"]
    refused(doc, "missing chain_id")
    refused([], "JSON object")
    doc = document()
    doc["validators"][0]["extra"] = 1
    refused(doc, "exactly peer_id and identity_key")
    doc = document()
    doc["validators"][0] = "12D3KooW"
    refused(doc, "exactly peer_id and identity_key")


def test_unreadable_files_are_refused(tmp_path):
    with pytest.raises(BadRequest, match="cannot read"):
        LedgerGenesis.load(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(BadRequest, match="not valid JSON"):
        LedgerGenesis.load(broken)
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (MAX_GENESIS_BYTES + 1))
    with pytest.raises(BadRequest, match="larger than"):
        LedgerGenesis.load(huge)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(BadRequest, match="not valid JSON"):
        LedgerGenesis.load(binary)
