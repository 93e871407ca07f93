"""Blocks, their hashes and the Merkle root of their transactions.

A block's hash is SHA-256 over its header's wire encoding, and the header commits
to the transactions through ``tx_root``. The Merkle tree follows RFC 6962:
leaves are hashed as H(0x00 || tx) and inner nodes as H(0x01 || left || right),
so a leaf can never be passed off as an inner node (the second-preimage trick on
plain Merkle trees), and the split at the largest power of two below the size
needs no padding and so no duplicated last leaf.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.config import LedgerConfig, Validator
from protocol import wire

HASH_SIZE = 32
MAX_TX_BYTES = 256 * 1024
MAX_TXS = 100_000
MAX_HEIGHT = 2**63 - 1

_LEAF = b"\x00"
_NODE = b"\x01"


@wire.message(0x0402)
@dataclass(frozen=True, slots=True)
class BlockHeader:
    height: int = wire.field(wire.UInt(MAX_HEIGHT))
    prev_hash: bytes = wire.field(wire.Bytes(size=HASH_SIZE))
    timestamp_ms: int = wire.field(wire.UInt(2**63 - 1))
    proposer: str = wire.field(wire.Str(128))
    tx_root: bytes = wire.field(wire.Bytes(size=HASH_SIZE))
    tx_count: int = wire.field(wire.UInt(MAX_TXS))


@wire.message(0x0403)
@dataclass(frozen=True, slots=True)
class Block:
    """A header and its transactions, each kept as its own canonical wire bytes."""

    header: BlockHeader = wire.field(wire.Nested(BlockHeader))
    txs: tuple[bytes, ...] = wire.field(wire.Seq(wire.Bytes(max_size=MAX_TX_BYTES), max_len=MAX_TXS))

    @property
    def height(self) -> int:
        return self.header.height

    def hash(self) -> bytes:
        return header_hash(self.header)


@wire.message(0x0406)
@dataclass(frozen=True, slots=True)
class Genesis:
    """What block 1 builds on: the chain id, the first validators, the start time and every
    parameter that decides whether a block is valid (so replicas that would judge blocks
    differently never share a genesis hash). Type id 0x0404 was the genesis without those
    parameters; it is retired."""

    chain_id: str = wire.field(wire.Str(128))
    validators: tuple[Validator, ...] = wire.field(wire.Seq(wire.Nested(Validator), max_len=256))
    time_ms: int = wire.field(wire.UInt(2**63 - 1))
    validator_set_delay: int = wire.field(wire.UInt(2**32 - 1))
    max_txs_per_block: int = wire.field(wire.UInt(2**32 - 1))
    max_block_bytes: int = wire.field(wire.UInt(2**63 - 1))


def header_hash(header: BlockHeader) -> bytes:
    return hashlib.sha256(wire.encode(header)).digest()


def genesis_hash(config: LedgerConfig) -> bytes:
    genesis = Genesis(config.chain_id, config.validators, config.genesis_time_ms,
                      config.validator_set_delay, config.max_txs_per_block, config.max_block_bytes)
    return hashlib.sha256(wire.encode(genesis)).digest()


def tx_hash(tx: bytes) -> bytes:
    """A transaction's id, which is also its Merkle leaf."""
    return hashlib.sha256(_LEAF + tx).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash over leaf hashes (``tx_hash`` of each transaction)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    # Bottom-up pairing with the odd node carried up unchanged gives the same tree
    # as RFC 6962's split at the largest power of two, without recursion.
    while len(level) > 1:
        paired = [hashlib.sha256(_NODE + level[i] + level[i + 1]).digest()
                  for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def make_block(height: int, prev_hash: bytes, timestamp_ms: int, proposer: str,
               txs: Sequence[bytes], hashes: Sequence[bytes] | None = None) -> Block:
    """A block over ``txs`` (pass their ``tx_hash`` values when already known)."""
    leaves = list(hashes) if hashes is not None else [tx_hash(t) for t in txs]
    header = BlockHeader(height, prev_hash, timestamp_ms, proposer, merkle_root(leaves), len(txs))
    return Block(header, tuple(txs))
