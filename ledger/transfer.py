"""State transfer: fetching missed blocks from peers, and serving them.

Mixed into ``Replica``. A replica learns it is behind from any signed message
about a height it has not reached (a vote two heights ahead, a checkpoint, a
view change, a status); it then asks that peer for the blocks after its own tip,
one request at a time. Peers answer with blocks and their commit certificates.
Each block is checked against its certificate, under the validator set that the
blocks before it define, and against our chain tip before it is executed, so a
peer can slow us down by not answering but cannot make us accept a wrong block.
"""

from __future__ import annotations

from ledger.block import Block
from ledger.certs import verify_commit_certificate
from ledger.events import Drop, Outgoing
from ledger.messages import (
    BODIES,
    BlockBatch,
    CommitCertificate,
    CommittedBlock,
    FetchBlocks,
    Signed,
    Status,
)
from protocol import wire
from protocol.errors import InvalidProof

# Stop adding blocks to one reply past this many bytes (the codec caps a message at 8 MiB).
MAX_REPLY_BYTES = 4 * 1024 * 1024


class StateTransfer:
    def _behind(self, peer: str) -> None:
        """``peer`` is past our tip: ask it for what follows, unless a request is out."""
        if peer == self.id or self._fetch_at == self.height + 1:
            return
        self._fetch_at = self.height + 1
        self._emit(peer, FetchBlocks(self.height + 1, self.id))

    def _help(self, peer: str, height: int, lacks_view: int) -> None:
        """``peer`` told us it is at ``height`` and has not installed ``lacks_view``: send the
        blocks and the new-view it lacks, once per such report (duplicates are common)."""
        if peer == self.id or self._helped.get(peer) == (height, lacks_view):
            return
        self._helped[peer] = (height, lacks_view)
        if height < self.height:
            self._send_blocks(peer, height + 1)
        if lacks_view <= self.view and not self.changing and self._new_view_raw is not None:
            self._resend(peer, self._new_view_raw)

    def _resend(self, to: str | None, raw: bytes) -> None:
        self._outbox.append(Outgoing(to, raw, BODIES.decode(wire.decode(raw, Signed).body)))

    def _on_status(self, sender: str, msg: Status, raw: bytes) -> None:
        if msg.height > self.height:
            self._behind(sender)
        self._help(sender, msg.height, msg.view + 1)

    def _on_fetch(self, sender: str, msg: FetchBlocks, raw: bytes) -> None:
        if msg.from_height > self.height + 1:
            self._behind(sender)  # asking from there, it holds everything below
        if msg.from_height < 1 or msg.from_height > self.height:
            raise Drop(f"asked for blocks from {msg.from_height}, we have {self.height}")
        self._send_blocks(sender, msg.from_height)

    def _send_blocks(self, peer: str, start: int) -> None:
        blocks, size = [], 0
        last = min(self.height, start + self.config.max_blocks_per_reply - 1)
        for height in range(start, last + 1):
            block_data, cert_data = self._store.get_block(height)
            size += len(block_data) + len(cert_data)
            if blocks and size > MAX_REPLY_BYTES:
                break
            blocks.append(CommittedBlock(wire.decode(block_data, Block),
                                         wire.decode(cert_data, CommitCertificate)))
        if blocks:
            self._emit(peer, BlockBatch(tuple(blocks), self.id))

    def _on_blocks(self, sender: str, msg: BlockBatch, raw: bytes) -> None:
        applied = 0
        try:
            for committed in msg.blocks:
                if committed.block.height <= self.height:
                    continue
                if committed.block.height != self.height + 1:
                    raise Drop("blocks do not follow our chain tip")
                self._apply_certified(committed)
                applied += 1
        finally:
            # Blocks applied before a bad one stay applied: each was proven on its own.
            if applied and len(msg.blocks) == self.config.max_blocks_per_reply:
                self._behind(sender)  # a full reply: the peer may have more
            self._progress()

    def _apply_certified(self, committed: CommittedBlock) -> None:
        """Execute a fetched block once its certificate and contents check out."""
        block, cert = committed.block, committed.certificate
        if cert.seq != block.height or cert.digest != block.hash():
            raise InvalidProof("state-transfer", "certificate is for another block")
        verify_commit_certificate(cert, self.state.validators_at(block.height), self._verifier)
        delta = self._check_block(block, crypto_checked=True, clock=False)
        self._execute(block, delta, cert)
