"""Blocks: canonical hashing and the RFC 6962 Merkle tree."""

from __future__ import annotations

import dataclasses
import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.block import (
    Block,
    BlockHeader,
    genesis_hash,
    header_hash,
    make_block,
    merkle_root,
    tx_hash,
)
from protocol import wire
from tests.ledger.helpers import make_config


def _reference_root(txs: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written as the recursive definition."""
    if not txs:
        return hashlib.sha256(b"").digest()
    if len(txs) == 1:
        return hashlib.sha256(b"\x00" + txs[0]).digest()
    k = 1
    while k * 2 < len(txs):
        k *= 2
    return hashlib.sha256(b"\x01" + _reference_root(txs[:k]) + _reference_root(txs[k:])).digest()


@settings(max_examples=60)
@given(st.lists(st.binary(max_size=40), max_size=40))
def test_merkle_root_is_rfc6962(txs):
    assert merkle_root([tx_hash(t) for t in txs]) == _reference_root(txs)


def test_leaf_cannot_pose_as_inner_node():
    a, b = b"left", b"right"
    root = merkle_root([tx_hash(a), tx_hash(b)])
    # The classic trick: a one-leaf tree whose "transaction" is the two child hashes.
    assert merkle_root([tx_hash(tx_hash(a) + tx_hash(b))]) != root
    assert tx_hash(a) != hashlib.sha256(a).digest()


def test_block_hash_covers_every_header_field():
    block = make_block(3, bytes(32), 1000, "v1", [b"tx1", b"tx2"])
    base = block.hash()
    changes = {"height": 4, "prev_hash": b"\x01" * 32, "timestamp_ms": 1001, "proposer": "v2",
               "tx_root": bytes(32), "tx_count": 3}
    for name, value in changes.items():
        assert header_hash(dataclasses.replace(block.header, **{name: value})) != base, name


def test_block_round_trips_through_the_codec():
    block = make_block(1, bytes(32), 5, "v0", [b"a" * 100, b"b"])
    assert wire.decode(wire.encode(block), Block) == block
    assert wire.decode(wire.encode(block.header), BlockHeader) == block.header


def test_genesis_hash_depends_on_chain_and_validators():
    base = genesis_hash(make_config(4))
    assert genesis_hash(make_config(4, chain_id="other")) != base
    assert genesis_hash(make_config(5)) != base
    assert genesis_hash(make_config(4)) == base
