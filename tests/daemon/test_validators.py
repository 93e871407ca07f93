import asyncio
import dataclasses
import logging

import pytest

from daemon import validators
from daemon.errors import BadRequest
from daemon.identity import NodeIdentity
from daemon.membership import Membership
from daemon.store.aio import AsyncStore
from daemon.store.sqlite import SqliteStore
from daemon.validators import STORE_PREFIX, ValidatorDirectory, ValidatorRecord, newer
from ledger.config import Validator, ValidatorSet
from protocol import wire
from protocol.errors import EncodingError

# The identity point encodes as 1 followed by zeros: a small-order point, never a key.
SMALL_ORDER_POINT = b"\x01" + bytes(31)


def identity(n: int) -> NodeIdentity:
    return NodeIdentity.from_seed(bytes([n]) * 32)


def record_of(ident: NodeIdentity, at: int = 1_000, port: int | None = None, **kwargs) -> ValidatorRecord:
    port = port or 9000 + ident.seed[0]
    addrs = (f"/ip4/127.0.0.1/tcp/{port}/p2p/{ident.peer_id}",)
    return ValidatorRecord.create(ident, addrs, f"http://127.0.0.1:{port - 1000}", at, **kwargs)


def resign(record: ValidatorRecord, signer_identity: NodeIdentity, **changes) -> ValidatorRecord:
    """``record`` with ``changes``, validly signed by ``signer_identity`` (maybe not its owner)."""
    unsigned = dataclasses.replace(record, **changes)
    prefix = validators._prefix(validators.DEFAULT_NETWORK)
    return dataclasses.replace(unsigned, signature=signer_identity.signer().sign(prefix + unsigned.signed_bytes()))


@pytest.fixture
def open_store(tmp_path):
    opened = []

    def make(name: str = "node") -> AsyncStore:
        store = AsyncStore(SqliteStore(tmp_path / f"{name}.db"))
        opened.append(store)
        return store

    yield make
    for store in opened:
        asyncio.run(store.close())


def run(coro):
    return asyncio.run(coro)


async def stored_ids(store) -> list[str]:
    return [key.removeprefix(STORE_PREFIX) for key, _ in await store.scan(STORE_PREFIX)]


def test_record_round_trips_and_verifies():
    record = record_of(identity(1))
    assert record.verify()
    assert wire.decode(wire.encode(record), ValidatorRecord) == record
    assert record.peer_id == identity(1).peer_id and record.identity_key == identity(1).public_key


def test_record_signed_for_another_network_does_not_verify():
    record = record_of(identity(1), network="tssnet-other")
    assert record.verify("tssnet-other")
    assert not record.verify()


def forged_records(honest: ValidatorRecord, owner: NodeIdentity) -> dict[str, ValidatorRecord]:
    """Every way ``honest`` (a record of ``owner``) is forged in these tests."""
    mallory = identity(9)
    return {
        "signed by another key": resign(honest, mallory),
        "peer id of another key": resign(honest, mallory, identity_key=mallory.public_key),
        "tampered addrs": dataclasses.replace(honest, addrs=("/ip4/6.6.6.6/tcp/1",)),
        "tampered url": dataclasses.replace(honest, http_url="http://evil"),
        "tampered time": dataclasses.replace(honest, joined_at=honest.joined_at + 1),
        "invalid point": dataclasses.replace(honest, identity_key=SMALL_ORDER_POINT),
        "address of another peer": resign(honest, owner, addrs=(f"/ip4/1.2.3.4/tcp/1/p2p/{mallory.peer_id}",)),
        "not a multiaddr": resign(honest, owner, addrs=("/garbage",)),
        "zero signature": dataclasses.replace(honest, signature=bytes(64)),
    }


@pytest.mark.parametrize("forge", list(forged_records(record_of(identity(1)), identity(1))))
def test_forged_records_are_refused_and_change_nothing(forge, open_store):
    alice = identity(1)
    forged = forged_records(record_of(alice), alice)[forge]
    assert not forged.verify()
    assert forged.problem() is not None

    async def scenario():
        store = open_store()
        directory = ValidatorDirectory(store, record_of(identity(2)))
        await directory.load()
        assert not await directory.add(forged, source="peer-x")
        assert not directory.is_member(alice.peer_id)
        assert await stored_ids(store) == [identity(2).peer_id]

    run(scenario())


def test_add_persists_newer_replaces_older_ignored(open_store):
    alice = identity(1)

    async def scenario():
        store = open_store()
        directory = ValidatorDirectory(store, record_of(identity(2)))
        await directory.load()
        first = record_of(alice, at=1_000)
        assert await directory.add(first)
        assert not await directory.add(first)
        moved = record_of(alice, at=2_000, port=9555)
        assert await directory.add(moved)
        assert directory.get(alice.peer_id) == moved
        assert not await directory.add(first)
        assert directory.get(alice.peer_id) == moved
        stored = await store.get(STORE_PREFIX + alice.peer_id)
        assert wire.decode(stored, ValidatorRecord) == moved

    run(scenario())


def test_two_records_of_one_time_settle_the_same_way_everywhere():
    alice = identity(1)
    a, b = record_of(alice, at=5, port=9100), record_of(alice, at=5, port=9200)
    assert newer(a, b) != newer(b, a)


def test_only_this_node_speaks_for_its_own_peer_id(open_store):
    me = identity(2)

    async def scenario():
        directory = ValidatorDirectory(open_store(), record_of(me, at=1_000))
        await directory.load()
        assert not await directory.add(record_of(me, at=9_000, port=9777))
        assert directory.get(me.peer_id) == directory.self_record
        renewed = record_of(me, at=9_000, port=9777)
        await directory.renew_self(renewed)
        assert directory.self_record == renewed == directory.get(me.peer_id)
        with pytest.raises(ValueError):
            await directory.renew_self(record_of(identity(3)))

    run(scenario())


def test_restarted_directory_comes_back_with_the_set(open_store):
    me, others = identity(2), [identity(n) for n in (1, 3, 4)]

    async def scenario():
        store = open_store()
        first = ValidatorDirectory(store, record_of(me, at=1_000))
        await first.load()
        for ident in others:
            assert await first.add(record_of(ident))
        again = ValidatorDirectory(store, record_of(me, at=5_000))
        await again.load()
        assert [r.peer_id for r in again.members()] == [r.peer_id for r in first.members()]
        # The same addresses as before: the node keeps the record it joined with.
        assert again.self_record.joined_at == 1_000

    run(scenario())


def test_stored_records_that_fail_verification_are_dropped_on_load(open_store, caplog):
    me, alice, bob, carol = identity(2), identity(1), identity(3), identity(4)

    async def scenario():
        store = open_store()
        forged = dataclasses.replace(record_of(alice), http_url="http://evil")
        await store.write({
            STORE_PREFIX + alice.peer_id: wire.encode(forged),
            STORE_PREFIX + bob.peer_id: b"\x93\x01\x02",
            STORE_PREFIX + "somebody-else": wire.encode(record_of(carol)),
        }, [])
        directory = ValidatorDirectory(store, record_of(me))
        with caplog.at_level(logging.WARNING, "tssnet.validators"):
            await directory.load()
        assert [r.peer_id for r in directory.members()] == [me.peer_id]
        assert "signature does not verify" in caplog.text
        assert "stored under another peer id" in caplog.text

    run(scenario())


def test_indices_follow_peer_id_order_and_resolve(open_store):
    idents = [identity(n) for n in (1, 2, 3)]

    async def scenario():
        directory = ValidatorDirectory(open_store(), record_of(idents[0]))
        await directory.load()
        for ident in idents[1:]:
            await directory.add(record_of(ident))
        ordered = sorted(i.peer_id for i in idents)
        assert [r.peer_id for r in directory.members()] == ordered
        for index, peer_id in enumerate(ordered):
            assert directory.index_of(peer_id) == index
            assert directory.resolve(index) == peer_id
            assert directory.resolve(str(index)) == peer_id
            assert directory.resolve(peer_id) == peer_id
        for bad in (3, -1, "3", "-1", True, False, 1.0, None, b"0", identity(7).peer_id, ""):
            with pytest.raises(BadRequest):
                directory.resolve(bad)
        with pytest.raises(BadRequest, match="indices run from 0 to 2"):
            directory.resolve(5)
        with pytest.raises(BadRequest):
            directory.index_of(identity(7).peer_id)

    run(scenario())


def test_online_means_seen_recently_or_connected(open_store):
    me, alice, bob = identity(2), identity(1), identity(3)
    now = [100.0]
    connected = set()

    async def scenario():
        directory = ValidatorDirectory(open_store(), record_of(me), clock=lambda: now[0], online_window=30)
        directory.use_connectivity(connected.__contains__)
        await directory.load()
        await directory.add(record_of(alice))
        await directory.add(record_of(bob))
        assert directory.online(me.peer_id)
        assert not directory.online(alice.peer_id)
        directory.mark_seen(alice.peer_id)
        assert directory.online(alice.peer_id)
        now[0] += 31
        assert not directory.online(alice.peer_id)
        connected.add(bob.peer_id)
        assert directory.online(bob.peer_id)
        directory.mark_seen(identity(8).peer_id)
        assert not directory.online(identity(8).peer_id)

    run(scenario())


def test_change_listeners_hear_each_change_and_a_failing_one_is_contained(open_store):
    heard = []

    def broken(record):
        raise RuntimeError("listener bug")

    async def scenario():
        directory = ValidatorDirectory(open_store(), record_of(identity(2)))
        directory.on_change(broken)
        directory.on_change(heard.append)
        await directory.load()
        record = record_of(identity(1))
        assert await directory.add(record)
        assert not await directory.add(record)
        assert heard == [record]

    run(scenario())


def test_a_full_set_refuses_newcomers_but_takes_updates(open_store, monkeypatch):
    monkeypatch.setattr(validators, "MAX_VALIDATORS", 2)

    async def scenario():
        directory = ValidatorDirectory(open_store(), record_of(identity(2)))
        await directory.load()
        assert await directory.add(record_of(identity(1)))
        assert not await directory.add(record_of(identity(3)))
        assert await directory.add(record_of(identity(1), at=9_999))
        assert len(directory.members()) == 2

    run(scenario())


def test_a_record_publishes_the_addresses_it_can_hold_and_refuses_a_long_url():
    ident = identity(1)
    addrs = [f"/ip4/127.0.0.{n}/tcp/1" for n in range(20)] + ["/dns4/" + "x" * 200 + "/tcp/1"]
    record = ValidatorRecord.create(ident, addrs[-1:] + addrs, "http://x", 1)
    assert record.addrs == tuple(addrs[:validators.MAX_ADDRS]) and record.verify()
    with pytest.raises(BadRequest, match="longer than"):
        ValidatorRecord.create(ident, [], "http://" + "x" * 300, 1)


def test_malformed_and_oversized_record_encodings_are_refused():
    good = wire.encode(record_of(identity(1)))
    for bad in (b"", good[:-1], good + b"\x00", b"\xc1" * 10):
        with pytest.raises(EncodingError):
            wire.decode(bad, ValidatorRecord)
    with pytest.raises(EncodingError):
        wire.decode(good, ValidatorRecord, max_size=len(good) - 1)


def test_with_a_ledger_only_its_validators_are_members_and_the_rest_are_candidates(open_store):
    """The ledger's set (``Membership``) decides; hello alone makes a candidate, not a member."""
    me, alice, mallory = identity(2), identity(1), identity(3)

    async def scenario():
        membership = Membership()
        directory = ValidatorDirectory(open_store(), record_of(me), membership=membership)
        await directory.load()
        for joiner in (alice, mallory):
            assert await directory.add(record_of(joiner))
        # No ledger: the join secret is the only gate, every record is a member.
        assert not membership.ledger_driven and directory.candidates() == []
        assert len(directory.members()) == 3 and directory.is_member(mallory.peer_id)

        chain = ValidatorSet(Validator(i.peer_id, i.public_key) for i in (me, alice, identity(4), identity(5)))
        membership.follow(chain, 7)
        # Members and indices are the ledger's ids, whatever records this node holds: the two
        # validators it has no record of are listed (no addresses: offline), not dropped.
        members = directory.members()
        assert [r.peer_id for r in members] == list(chain.ids)
        for record in members:
            assert record.identity_key == chain.keys[record.peer_id]
            if record.peer_id not in (me.peer_id, alice.peer_id):
                assert record.addrs == () and record.http_url == "" and not record.verify()
                assert not directory.online(record.peer_id)
                assert directory.get(record.peer_id) == record   # the ledger's key, for sessions
        assert [r.peer_id for r in directory.records()] == sorted([me.peer_id, alice.peer_id,
                                                                   mallory.peer_id])
        assert [r.peer_id for r in directory.candidates()] == [mallory.peer_id]
        assert not directory.is_member(mallory.peer_id) and directory.is_known(mallory.peer_id)
        assert directory.is_member(identity(4).peer_id) and directory.is_known(identity(4).peer_id)
        assert directory.get(mallory.peer_id) is not None   # its record stays, verified
        with pytest.raises(BadRequest, match="candidate"):
            directory.resolve(mallory.peer_id)
        with pytest.raises(BadRequest, match="no validator with index 4"):
            directory.resolve(4)
        with pytest.raises(BadRequest):
            directory.index_of(mallory.peer_id)
        assert [directory.resolve(i) for i in range(4)] == list(chain.ids)
        assert directory.index_of(identity(5).peer_id) == list(chain.ids).index(identity(5).peer_id)

        # An approved change adds mallory and removes alice: membership follows at once.
        membership.follow(ValidatorSet(Validator(i.peer_id, i.public_key)
                                       for i in (me, mallory, identity(4), identity(5))), 9)
        assert directory.is_member(mallory.peer_id) and not directory.is_member(alice.peer_id)
        assert [r.peer_id for r in directory.candidates()] == [alice.peer_id]
        assert directory.get(alice.peer_id) is not None and directory.get(identity(6).peer_id) is None

    run(scenario())

