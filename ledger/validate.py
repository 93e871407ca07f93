"""Whether a block may be the next one on this replica's chain.

Used on every path by which a block arrives: a pre-prepare from the primary, a
re-proposal in a new view, a block fetched by state transfer, and blocks
replayed from the store at start-up. Failures raise ``InvalidProof`` (or
``EncodingError`` for a transaction that does not decode), which the replica
turns into evidence against whoever sent the block.
"""

from __future__ import annotations

from ledger.block import Block, merkle_root, tx_hash
from ledger.config import LedgerConfig
from ledger.mempool import Mempool
from ledger.state import Delta, LedgerState
from ledger.txs import InvalidTransaction, decode_tx
from protocol.errors import InvalidProof

NAME = "block"


def check_block(block: Block, state: LedgerState, config: LedgerConfig, mempool: Mempool, *,
                crypto_checked: bool, now_ms: int | None) -> Delta:
    """The effects of ``block`` as the next block, or InvalidProof naming what is wrong.

    ``crypto_checked``: a commit certificate already vouches for the transactions'
    signatures and proofs. ``now_ms``: the local time, to refuse timestamps from the
    future (None for old blocks, which are judged by their certificates).
    """
    header = block.header
    if header.height != state.height + 1:
        raise InvalidProof(NAME, f"height {header.height} does not follow {state.height}")
    if header.prev_hash != state.last_hash:
        raise InvalidProof(NAME, "previous hash is not our chain tip")
    if not block.txs or header.tx_count != len(block.txs):
        raise InvalidProof(NAME, "empty block or wrong transaction count")
    if len(block.txs) > config.max_txs_per_block:
        raise InvalidProof(NAME, "too many transactions")
    if sum(len(t) for t in block.txs) > config.max_block_bytes:
        raise InvalidProof(NAME, "block too large")
    if header.timestamp_ms < state.last_timestamp_ms:
        raise InvalidProof(NAME, "timestamp earlier than the previous block's")
    if now_ms is not None and header.timestamp_ms > now_ms + config.max_clock_skew_ms:
        raise InvalidProof(NAME, "timestamp too far in the future")
    if header.proposer not in state.validators_at(header.height):
        raise InvalidProof(NAME, "proposer is not a validator")
    hashes = [tx_hash(t) for t in block.txs]
    if merkle_root(hashes) != header.tx_root:
        raise InvalidProof(NAME, "Merkle root does not match the transactions")
    checker = state.checker()
    try:
        for data, h in zip(block.txs, hashes, strict=True):
            known = mempool.get(h)
            tx = known if known is not None else decode_tx(data)
            checker.check(tx, h, crypto_checked or known is not None)
    except InvalidTransaction as exc:
        raise InvalidProof(NAME, f"invalid transaction: {exc}") from None
    return checker.delta(header, block.hash())
