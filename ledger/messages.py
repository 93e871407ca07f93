"""What ledger replicas send each other, and what they keep as proof.

Every message travels as ``Signed(body, signature)``: ``body`` is the canonical
wire bytes of one of the messages below and names its author in ``replica``;
the signature is the author's identity key over the chain's signing prefix and
``body``. Certificates (a commit certificate, a prepared proof, the view changes
inside a new-view) are made of such signed bytes exactly as they were received,
so anyone can check them again without trusting whoever forwards them.

Sequence numbers are block heights. Phases follow PBFT: the primary of a view
pre-prepares a block, backups prepare its digest, everyone commits it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.block import HASH_SIZE, MAX_HEIGHT, MAX_TX_BYTES, Block
from ledger.codec import OneOf
from ledger.config import MAX_ID_BYTES
from ledger.crypto import SIGNATURE_SIZE
from protocol import wire

MAX_VIEW = 2**63 - 1
MAX_SIGNED_BYTES = 8 * 1024 * 1024 - 1024
MAX_VOTERS = 256
MAX_BATCH_TXS = 10_000

PREPREPARE, PREPARE, COMMIT = 0, 1, 2

_view = wire.UInt(MAX_VIEW)
_seq = wire.UInt(MAX_HEIGHT)
_digest = wire.Bytes(size=HASH_SIZE)
_replica = wire.Str(MAX_ID_BYTES)
_signed = wire.Bytes(max_size=MAX_SIGNED_BYTES)


@wire.message(0x0405)
@dataclass(frozen=True, slots=True)
class Signed:
    body: bytes = wire.field(_signed)
    signature: bytes = wire.field(wire.Bytes(size=SIGNATURE_SIZE))


@wire.message(0x0410)
@dataclass(frozen=True, slots=True)
class PrePrepare:
    view: int = wire.field(_view)
    seq: int = wire.field(_seq)
    block: Block = wire.field(wire.Nested(Block))
    replica: str = wire.field(_replica)


@wire.message(0x0411)
@dataclass(frozen=True, slots=True)
class Prepare:
    view: int = wire.field(_view)
    seq: int = wire.field(_seq)
    digest: bytes = wire.field(_digest)
    replica: str = wire.field(_replica)


@wire.message(0x0412)
@dataclass(frozen=True, slots=True)
class Commit:
    view: int = wire.field(_view)
    seq: int = wire.field(_seq)
    digest: bytes = wire.field(_digest)
    replica: str = wire.field(_replica)


@wire.message(0x0413)
@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The author has executed up to ``seq``, whose block hash is ``digest``."""

    seq: int = wire.field(_seq)
    digest: bytes = wire.field(_digest)
    replica: str = wire.field(_replica)


@wire.message(0x0414)
@dataclass(frozen=True, slots=True)
class CommitCertificate:
    """A quorum of signed ``Commit`` messages for one (view, seq, digest)."""

    view: int = wire.field(_view)
    seq: int = wire.field(_seq)
    digest: bytes = wire.field(_digest)
    commits: tuple[bytes, ...] = wire.field(wire.Seq(_signed, min_len=1, max_len=MAX_VOTERS))


@wire.message(0x0415)
@dataclass(frozen=True, slots=True)
class PreparedProof:
    """A signed pre-prepare and the signed prepares that matched it (PBFT's P_m)."""

    preprepare: bytes = wire.field(_signed)
    prepares: tuple[bytes, ...] = wire.field(wire.Seq(_signed, min_len=1, max_len=MAX_VOTERS))


@wire.message(0x0416)
@dataclass(frozen=True, slots=True)
class ViewChange:
    """The author moves to ``new_view``.

    Instead of PBFT's checkpoint proof it carries the commit certificate of its
    last executed block: that certificate is itself transferable proof that every
    block up to ``height`` is decided. ``prepared`` holds the proofs of what the
    author prepared above ``height``, so a committed block cannot be lost.
    """

    new_view: int = wire.field(_view)
    height: int = wire.field(_seq)
    certificate: CommitCertificate | None = wire.field(wire.Optional(wire.Nested(CommitCertificate)))
    prepared: tuple[PreparedProof, ...] = wire.field(
        wire.Seq(wire.Nested(PreparedProof), max_len=MAX_VOTERS))
    replica: str = wire.field(_replica)


@wire.message(0x0417)
@dataclass(frozen=True, slots=True)
class NewView:
    """The new primary's proof (a quorum of signed view changes) and its re-proposals."""

    view: int = wire.field(_view)
    view_changes: tuple[bytes, ...] = wire.field(wire.Seq(_signed, min_len=1, max_len=MAX_VOTERS))
    preprepares: tuple[bytes, ...] = wire.field(wire.Seq(_signed, max_len=MAX_VOTERS))
    replica: str = wire.field(_replica)


@wire.message(0x0418)
@dataclass(frozen=True, slots=True)
class TxBatch:
    """Transactions a replica accepted and forwards so every replica knows them."""

    txs: tuple[bytes, ...] = wire.field(
        wire.Seq(wire.Bytes(max_size=MAX_TX_BYTES), min_len=1, max_len=MAX_BATCH_TXS))
    replica: str = wire.field(_replica)


@wire.message(0x0419)
@dataclass(frozen=True, slots=True)
class Status:
    """Where the author is; peers that are further answer with blocks or a new-view."""

    height: int = wire.field(_seq)
    view: int = wire.field(_view)
    replica: str = wire.field(_replica)


@wire.message(0x041A)
@dataclass(frozen=True, slots=True)
class FetchBlocks:
    from_height: int = wire.field(_seq)
    replica: str = wire.field(_replica)


@wire.message(0x041B)
@dataclass(frozen=True, slots=True)
class CommittedBlock:
    """A block and the certificate that proves it committed at its height."""

    block: Block = wire.field(wire.Nested(Block))
    certificate: CommitCertificate = wire.field(wire.Nested(CommitCertificate))


@wire.message(0x041C)
@dataclass(frozen=True, slots=True)
class BlockBatch:
    blocks: tuple[CommittedBlock, ...] = wire.field(
        wire.Seq(wire.Nested(CommittedBlock), min_len=1, max_len=MAX_VOTERS))
    replica: str = wire.field(_replica)


@wire.message(0x041D)
@dataclass(frozen=True, slots=True)
class VoteRecord:
    """One of the replica's own votes as persisted before it is sent."""

    view: int = wire.field(_view)
    seq: int = wire.field(_seq)
    phase: int = wire.field(wire.UInt(COMMIT))
    digest: bytes = wire.field(_digest)
    message: bytes = wire.field(_signed)


@wire.message(0x041E)
@dataclass(frozen=True, slots=True)
class CheckpointProof:
    """A quorum of signed matching checkpoints: the stable checkpoint's proof."""

    seq: int = wire.field(_seq)
    digest: bytes = wire.field(_digest)
    messages: tuple[bytes, ...] = wire.field(wire.Seq(_signed, min_len=1, max_len=MAX_VOTERS))


BODIES = OneOf((PrePrepare, Prepare, Commit, Checkpoint, ViewChange, NewView,
                TxBatch, Status, FetchBlocks, BlockBatch))
