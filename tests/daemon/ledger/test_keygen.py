"""Keygen -> ledger: the engine's new-key hook fires once per key at the right node, the
transaction built from the stored record passes every replica's check (and carries the
chain code that the key's child signatures are checked with), and a ledger that refuses
or fails never fails the keygen."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest

from daemon.errors import BadRequest, Unavailable
from daemon.ledger_keygen import KeygenPublisher, keygen_tx
from daemon.ledger_wire import TxReceipt
from daemon.records import SCHEMA, KeyRecord
from daemon.service import KeygenRequest, SignRequest
from daemon.sessions import SessionEngine
from ledger.txs import InvalidTransaction, KeygenTx, SignatureTx, check_keygen, check_signature
from protocol import wire
from protocol.group import SECP256K1
from tests.daemon.sessions import harness
from tests.daemon.sessions.harness import Cluster, run
from tests.ledger.helpers import keygen_tx as ledger_keygen_tx


@pytest.fixture
def announced(monkeypatch):
    """(peer id, KeyRecord) for every call of the engines' new-key hook, in call order."""
    calls = []

    def engine(**options):
        peer = options["identity"].peer_id
        return SessionEngine(**options, on_key_created=lambda record: calls.append((peer, record)))

    monkeypatch.setattr(harness, "SessionEngine", engine)
    return calls


async def _keygen(cluster: Cluster, coordinator: int, **request) -> str:
    """Run a keygen and wait until every participant has stored its share."""
    session_id = await cluster.services[coordinator].start_keygen(KeygenRequest(**request))
    view = await cluster.services[coordinator].wait_session(session_id, 60)
    assert view.state == "done", view
    holders = [n for n in cluster.nodes if n.peer_id in view.participants]
    for _ in range(1000):
        if all([await n.engine.keys.key_record(view.key_id) is not None for n in holders]):
            return view.key_id
        await asyncio.sleep(0.01)
    raise AssertionError("a participant never stored its share")


@pytest.mark.parametrize("scheme", ["ecdsa", "eddsa", "schnorr"])
def test_the_coordinator_announces_each_new_key_once_and_its_tx_verifies(announced, scheme):
    async def main():
        async with Cluster(3) as c:
            key_id = await _keygen(c, 1, scheme=scheme, threshold=1, key_id=f"k-{scheme}")
            assert [(peer, r.key_id) for peer, r in announced] == [(c.nodes[1].peer_id, key_id)]
            record = announced[0][1]
            assert record.certificate
            tx = keygen_tx(record)
            assert tx.participants == (1, 2, 3) and tx.threshold == 1 and tx.scheme == scheme
            assert tx.chain_code == record.chain_code and len(tx.chain_code) == 32
            check_keygen(tx)                                   # what every replica runs
            assert wire.decode(wire.encode(tx), KeygenTx) == tx  # fits the ledger's bounds
            await _child_signature_verifies_in_the_ledger(c, tx)
    run(main())


async def _child_signature_verifies_in_the_ledger(cluster: Cluster, keygen: KeygenTx) -> None:
    """What the threshold signers make under a child key is what the ledger derives and accepts."""
    if keygen.scheme == "eddsa":
        request = SignRequest(keygen.key_id, message=b"bridge payload", path="m/3/4")
    else:
        request = SignRequest(keygen.key_id, digest=bytes(range(32)), path="m/3/4")
    view = await cluster.services[0].sign(request)
    tx = SignatureTx(keygen.key_id, keygen.public_key, bytes.fromhex(view.digest),
                     bytes.fromhex(view.signature), None, "m/3/4")
    check_signature(tx, keygen.scheme, keygen.chain_code)
    with pytest.raises(InvalidTransaction, match="does not verify under the key itself"):
        check_signature(dataclasses.replace(tx, path=None), keygen.scheme, keygen.chain_code)


def test_a_coordinator_without_a_share_leaves_the_announcement_to_party_one(announced):
    async def main():
        async with Cluster(3) as c:
            players = (c.nodes[2].peer_id, c.nodes[1].peer_id)
            await _keygen(c, 0, scheme="eddsa", threshold=1, players=players, key_id="k-away")
            assert [(peer, r.key_id) for peer, r in announced] == [(players[0], "k-away")]
            assert announced[0][1].participants == players
            check_keygen(keygen_tx(announced[0][1]))
    run(main())


def test_a_failing_hook_does_not_fail_the_keygen(monkeypatch, caplog):
    def explode(record):
        raise RuntimeError("ledger on fire")

    monkeypatch.setattr(harness, "SessionEngine",
                        lambda **options: SessionEngine(**options, on_key_created=explode))

    async def main():
        async with Cluster(3) as c:
            with caplog.at_level(logging.ERROR, logger="tssnet.sessions"):
                key_id = await _keygen(c, 0, scheme="eddsa", threshold=1, key_id="k-fire")
            assert (await c.services[0].key(key_id)).key_id == key_id
            assert any("new-key hook failed" in r.getMessage() for r in caplog.records)
    run(main())


def _tampered(tx: KeygenTx, **changes) -> KeygenTx:
    return dataclasses.replace(tx, **changes)


def test_a_tampered_keygen_tx_is_refused(announced):
    async def main():
        async with Cluster(3) as c:
            await _keygen(c, 0, scheme="eddsa", threshold=1, key_id="k-real")
            return keygen_tx(announced[0][1])

    tx = run(main())
    other = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    for bad in (_tampered(tx, public_key=other), _tampered(tx, threshold=2),
                _tampered(tx, participants=(1, 2, 4)), _tampered(tx, key_id="k-other"),
                _tampered(tx, certificate=tx.certificate[:-1]), _tampered(tx, scheme="schnorr")):
        with pytest.raises(InvalidTransaction):
            check_keygen(bad)


class FakeLedger:
    def __init__(self, error: BaseException | None = None, stall: asyncio.Event | None = None) -> None:
        self.error, self.stall = error, stall
        self.submitted: list[KeygenTx] = []

    async def submit(self, tx, *, wait=None):
        if self.stall is not None:
            await self.stall.wait()
        if self.error is not None:
            raise self.error
        self.submitted.append(tx)
        return TxReceipt("ab" * 32, None)


def _record() -> KeyRecord:
    return KeyRecord(SCHEMA, "k1", "eddsa", "ed25519", 1, ("p1", "p2", "p3"), 1, bytes(32), bytes(32),
                     0, 1, b"cert", "s1")


def test_the_publisher_submits_in_the_background():
    async def main():
        ledger = FakeLedger()
        publisher = KeygenPublisher(ledger)
        publisher(_record())
        await publisher.close()
        assert ledger.submitted == [keygen_tx(_record())] and publisher.submitted == 1
    run(main())


@pytest.mark.parametrize("error", [BadRequest("invalid", type="invalid_transaction"),
                                   Unavailable("the ledger halted"), RuntimeError("bug")])
def test_a_ledger_failure_is_logged_and_counted_never_raised(error, caplog):
    async def main():
        publisher = KeygenPublisher(FakeLedger(error))
        with caplog.at_level(logging.WARNING, logger="tssnet.ledger"):
            publisher(_record())
            await publisher.close()
        assert publisher.failed == 1 and publisher.submitted == 0
        assert any("k1 was not recorded in the ledger" in r.getMessage() for r in caplog.records)
    run(main())


def test_close_cancels_a_submission_that_outlasts_the_grace(monkeypatch):
    monkeypatch.setattr("daemon.ledger_keygen.CLOSE_GRACE", 0.01)

    async def main():
        ledger = FakeLedger(stall=asyncio.Event())
        publisher = KeygenPublisher(ledger)
        publisher(_record())
        await asyncio.sleep(0)
        await publisher.close()
        assert ledger.submitted == [] and publisher.submitted == 0
    run(main())


def _schnorr_record(seed: int) -> tuple[KeyRecord, bytes]:
    """A BIP340 key record as the node stores it (even-y key) and the certified key."""
    tx, _ = ledger_keygen_tx(f"tr-{seed}", SECP256K1, "schnorr", seed=seed)
    even = b"\x02" + tx.public_key[1:]
    record = KeyRecord(SCHEMA, tx.key_id, "schnorr", "secp256k1", tx.threshold, ("p1", "p2", "p3"), 1,
                       even, bytes(32), 0, 1, tx.certificate, "s1")
    return record, tx.public_key


def test_a_bip340_key_is_submitted_as_certified_whatever_the_parity_of_its_y():
    records = [_schnorr_record(seed) for seed in range(8)]
    parities = {certified[0] for _, certified in records}
    assert parities == {2, 3}   # both cases occur among these seeds
    for record, certified in records:
        tx = keygen_tx(record)
        assert tx.public_key == certified and tx.public_key[1:] == record.public_key[1:]
        check_keygen(tx)


def test_a_bip340_record_whose_key_the_certificate_does_not_prove_is_refused():
    record, _ = _schnorr_record(0)
    other, _ = _schnorr_record(1)
    with pytest.raises(ValueError, match="proves another key"):
        keygen_tx(dataclasses.replace(record, public_key=other.public_key))


def test_the_publisher_logs_a_record_it_cannot_turn_into_a_transaction(caplog):
    record, _ = _schnorr_record(0)
    other, _ = _schnorr_record(1)

    async def main():
        ledger = FakeLedger()
        publisher = KeygenPublisher(ledger)
        with caplog.at_level(logging.WARNING, logger="tssnet.ledger"):
            publisher(dataclasses.replace(record, public_key=other.public_key))
            await publisher.close()
        assert ledger.submitted == [] and publisher.failed == 1
        assert any("was not recorded in the ledger" in r.getMessage() for r in caplog.records)
    run(main())
