"""Records each new key in the ledger: a finished keygen becomes a ``keygen`` transaction.

The session engine calls a ``KeygenPublisher`` with the ``KeyRecord`` it just stored
(at the keygen's coordinator; see ``SessionEngine.keep_output``). The publisher turns
it into a ``ledger.txs.KeygenTx`` carrying the keygen certificate, which every replica
verifies before it votes (CGGMP21 ECDSA and both FROST suites alike), and the key's
public chain code, from which replicas derive the child keys that bridge signatures
with a ``path`` verify under. It submits the transaction in the background: the key
exists whatever the ledger does, so a ledger that refuses the transaction or is down
is logged and never fails the keygen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from daemon.errors import NodeError
from daemon.ledger_node import LedgerNode
from daemon.records import KeyRecord
from ledger.txs import SCHEME_CURVES, KeygenTx
from protocol import wire
from protocol.keygen_certificate import KeygenCertificate

log = logging.getLogger("tssnet.ledger")

#: seconds ``close`` gives submissions in flight before cancelling them
CLOSE_GRACE = 2.0


def keygen_tx(record: KeyRecord) -> KeygenTx:
    """The ledger transaction of a key: its parties are numbered 1..n in the record's order,
    as the keygen numbered them when it made the certificate."""
    return KeygenTx(key_id=record.key_id, scheme=record.scheme, curve=record.curve,
                    public_key=certified_key(record),
                    participants=tuple(range(1, len(record.participants) + 1)),
                    threshold=record.threshold, certificate=record.certificate,
                    chain_code=record.chain_code)


def certified_key(record: KeyRecord) -> bytes:
    """The key the certificate proves (Σ F_i[0]), which replicas check the transaction against.

    The record holds the key in its scheme's normal form: the same point for ECDSA and
    Ed25519, but for BIP340 the even-y point, the negation of the certified one half of
    the time. Both have the one x-only key that BIP340 signatures verify under.
    """
    if record.scheme != "schnorr":
        return record.public_key
    group = SCHEME_CURVES[record.scheme]
    certificate = wire.decode(record.certificate, KeygenCertificate, group)
    certified = group.sum_points(e.commitments[0] for e in certificate.entries).encode()
    if certified[1:] != record.public_key[1:]:
        raise ValueError(f"key {record.key_id}: the certificate proves another key than the stored one")
    return certified


class KeygenPublisher:
    """``publisher(record)`` submits the key's transaction without waiting; ``await close()``."""

    def __init__(self, ledger: LedgerNode) -> None:
        self._ledger = ledger
        self._tasks: set[asyncio.Task] = set()
        self.submitted = 0
        self.failed = 0

    def __call__(self, record: KeyRecord) -> None:
        task = asyncio.get_running_loop().create_task(self._submit(record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _submit(self, record: KeyRecord) -> None:
        try:
            # A BIP340 key's certificate is decoded (point checks): off the event loop.
            tx = await asyncio.to_thread(keygen_tx, record)
            receipt = await self._ledger.submit(tx)
        except NodeError as exc:
            self.failed += 1
            log.warning("key %s was not recorded in the ledger (%s): %s", record.key_id, exc.type,
                        exc.message)
        except Exception:
            self.failed += 1
            log.exception("key %s was not recorded in the ledger", record.key_id)
        else:
            self.submitted += 1
            log.info("key %s submitted to the ledger as transaction %s", record.key_id,
                     receipt.tx_hash)

    async def close(self) -> None:
        """Let submissions in flight finish (briefly), then cancel what is left."""
        pending = list(self._tasks)
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=CLOSE_GRACE)
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError):
                await task
