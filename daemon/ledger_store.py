"""The replica's ``LedgerStore`` over the node's key-value store.

Layout under ``prefix`` (numbers zero-padded to 20 digits so keys sort numerically)::

    block/<height>                LedgerBlockRecord(block, certificate)
    tip                           LedgerTip(height of the last block)
    vote/<seq>/<view>/<phase>     the VoteRecord bytes as the replica gave them
    prepared/<seq>                LedgerPreparedRecord(view, proof)
    view                          LedgerViewRecord(view, changing)
    checkpoint                    LedgerCheckpointRecord(seq, proof)

A block and the tip move in one batch, so after a crash the tip never names a
block that is not there. Every method is synchronous and durable when it returns,
as the replica's write-before-send rule needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from daemon.store.kv import KVStore
from ledger.block import MAX_HEIGHT
from ledger.messages import MAX_VIEW
from protocol import wire

_DIGITS = 20
_MAX_PHASE = 255
_MAX_RECORD = wire.MAX_MESSAGE_BYTES
_blob = wire.Bytes(max_size=_MAX_RECORD)


@wire.message(0x0551)
@dataclass(frozen=True, slots=True)
class LedgerBlockRecord:
    block: bytes = wire.field(_blob)
    certificate: bytes = wire.field(_blob)


@wire.message(0x0552)
@dataclass(frozen=True, slots=True)
class LedgerTip:
    height: int = wire.field(wire.UInt(MAX_HEIGHT))


@wire.message(0x0553)
@dataclass(frozen=True, slots=True)
class LedgerPreparedRecord:
    view: int = wire.field(wire.UInt(MAX_VIEW))
    proof: bytes = wire.field(_blob)


@wire.message(0x0554)
@dataclass(frozen=True, slots=True)
class LedgerViewRecord:
    view: int = wire.field(wire.UInt(MAX_VIEW))
    changing: bool = wire.field(wire.Bool())


@wire.message(0x0555)
@dataclass(frozen=True, slots=True)
class LedgerCheckpointRecord:
    seq: int = wire.field(wire.UInt(MAX_HEIGHT))
    proof: bytes = wire.field(_blob)


def _number(value: int, limit: int, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise ValueError(f"{what} must be an int in [0, {limit}], not {value!r}")
    return f"{value:0{_DIGITS}d}"


def _decode(data: bytes, cls: type):
    # Two blobs and a header: a record may be a little over one message's bound.
    return wire.decode(data, cls, max_size=2 * _MAX_RECORD + 64)


class KVLedgerStore:
    """``ledger.store.LedgerStore`` persisted in a ``KVStore``."""

    def __init__(self, kv: KVStore, prefix: str = "ledger/") -> None:
        self._kv = kv
        self._prefix = prefix

    def put_block(self, height: int, block: bytes, certificate: bytes) -> None:
        last = self.last_height()
        if height != last + 1:
            raise ValueError(f"block {height} does not follow {last}")
        self._kv.write({
            self._block_key(height): wire.encode(LedgerBlockRecord(block, certificate)),
            self._prefix + "tip": wire.encode(LedgerTip(height)),
        })

    def get_block(self, height: int) -> tuple[bytes, bytes] | None:
        if isinstance(height, bool) or not isinstance(height, int) or not 1 <= height <= MAX_HEIGHT:
            return None
        data = self._kv.get(self._block_key(height))
        if data is None:
            return None
        record = _decode(data, LedgerBlockRecord)
        return record.block, record.certificate

    def last_height(self) -> int:
        data = self._kv.get(self._prefix + "tip")
        return 0 if data is None else _decode(data, LedgerTip).height

    def put_vote(self, seq: int, view: int, phase: int, record: bytes) -> None:
        key = (f"{self._prefix}vote/{_number(seq, MAX_HEIGHT, 'seq')}/"
               f"{_number(view, MAX_VIEW, 'view')}/{_number(phase, _MAX_PHASE, 'phase')}")
        self._kv.write({key: record})

    def votes(self) -> list[bytes]:
        return [value for _, value in self._kv.scan(self._prefix + "vote/")]

    def put_prepared(self, seq: int, view: int, proof: bytes) -> None:
        key = self._prepared_key(seq)
        current = self._kv.get(key)
        # A proof from a lower view never replaces one from a higher view.
        if current is not None and _decode(current, LedgerPreparedRecord).view > view:
            return
        self._kv.write({key: wire.encode(LedgerPreparedRecord(view, proof))})

    def prepared(self) -> list[tuple[int, int, bytes]]:
        found = []
        for key, value in self._kv.scan(self._prefix + "prepared/"):
            record = _decode(value, LedgerPreparedRecord)
            found.append((int(key.rsplit("/", 1)[1]), record.view, record.proof))
        return found

    def put_view(self, view: int, changing: bool) -> None:
        self._kv.write({self._prefix + "view": wire.encode(LedgerViewRecord(view, changing))})

    def get_view(self) -> tuple[int, bool]:
        data = self._kv.get(self._prefix + "view")
        if data is None:
            return 0, False
        record = _decode(data, LedgerViewRecord)
        return record.view, record.changing

    def put_checkpoint(self, seq: int, proof: bytes) -> None:
        self._kv.write({self._prefix + "checkpoint": wire.encode(LedgerCheckpointRecord(seq, proof))})

    def get_checkpoint(self) -> tuple[int, bytes] | None:
        data = self._kv.get(self._prefix + "checkpoint")
        if data is None:
            return None
        record = _decode(data, LedgerCheckpointRecord)
        return record.seq, record.proof

    def prune(self, up_to: int) -> None:
        """Drop votes and prepared proofs with seq <= ``up_to`` in one atomic batch."""
        doomed = []
        for kind in ("vote/", "prepared/"):
            start = len(self._prefix) + len(kind)
            for key, _ in self._kv.scan(self._prefix + kind):
                if int(key[start:start + _DIGITS]) > up_to:
                    break  # keys sort by seq: everything after is newer
                doomed.append(key)
        if doomed:
            self._kv.write(deletes=doomed)

    def _block_key(self, height: int) -> str:
        return f"{self._prefix}block/{_number(height, MAX_HEIGHT, 'height')}"

    def _prepared_key(self, seq: int) -> str:
        return f"{self._prefix}prepared/{_number(seq, MAX_HEIGHT, 'seq')}"

    def __repr__(self) -> str:
        return f"KVLedgerStore({self._kv!r}, prefix={self._prefix!r})"
