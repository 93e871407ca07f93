import asyncio
import dataclasses
import inspect
import logging
import time

import msgpack
import pytest

from daemon import discovery as disc
from daemon import validators
from daemon.discovery import Discovery, Hello, HelloAnswer, answer_mac, make_hello
from daemon.errors import BadRequest
from daemon.store.aio import AsyncStore
from daemon.store.sqlite import SqliteStore
from daemon.validators import ValidatorDirectory, ValidatorRecord
from protocol import wire
from tests.daemon.fake_transport import FakeNetwork
from tests.daemon.test_validators import forged_records, identity, resign, stored_ids

NETWORK = validators.DEFAULT_NETWORK
SECRET = "correct horse battery staple"


def now_ms() -> int:
    return int(time.time() * 1000)


class Node:
    """One validator's discovery stack over the fake network."""

    def __init__(self, cluster, n: int, bootstrap: list[str], secret: str | None, *,
                 addrs: list[str] | None = None, at: int | None = None, **options) -> None:
        self.identity = identity(n)
        self.peer_id = self.identity.peer_id
        self.store = cluster.store(n)
        self.transport = cluster.net.transport(self.peer_id)
        self.addr_updates: dict[str, list[str]] = {}
        self.transport.add_peer_addrs = lambda peer, addrs: self.addr_updates.__setitem__(peer, addrs)
        self.received: list[tuple[str, bytes]] = []
        self.transport.set_message_handler(self._on_message)
        self.addr = f"/ip4/127.0.0.1/tcp/{9000 + n}/p2p/{self.peer_id}"
        record = ValidatorRecord.create(self.identity, addrs or [self.addr],
                                        f"http://127.0.0.1:{8000 + n}", at or now_ms())
        self.directory = ValidatorDirectory(self.store, record)
        options.setdefault("resync_interval", 3600)
        options.setdefault("retry_initial", 0.01)
        self.discovery = Discovery(self.identity, self.directory, self.transport, bootstrap=bootstrap,
                                   join_secret=secret, **options)

    async def _on_message(self, peer: str, payload: bytes) -> None:
        self.received.append((peer, payload))

    def members(self) -> list[str]:
        return [r.peer_id for r in self.directory.members()]

    async def start(self, *, wait: bool = True) -> "Node":
        await self.transport.start()
        await self.discovery.start()
        if wait:
            await asyncio.wait_for(self.discovery.wait_joined(), 10)
        return self

    async def stop(self) -> None:
        await self.discovery.stop()
        await self.transport.stop()


class Cluster:
    def __init__(self, tmp_path) -> None:
        self.tmp_path = tmp_path
        self.net = FakeNetwork()
        self.nodes: list[Node] = []
        self._stores: dict[int, AsyncStore] = {}

    def store(self, n: int) -> AsyncStore:
        if n not in self._stores:
            self._stores[n] = AsyncStore(SqliteStore(self.tmp_path / f"node{n}.db"))
        return self._stores[n]

    async def node(self, n: int, bootstrap: list["Node"] = (), secret: str | None = SECRET, *,
                   wait: bool = True, **options) -> "Node":
        node = Node(self, n, [b.addr for b in bootstrap], secret, **options)
        self.nodes.append(node)
        return await node.start(wait=wait)

    async def close(self) -> None:
        for node in self.nodes:
            await node.stop()
        for store in self._stores.values():
            await store.close()


def scenario(test):
    """Run ``test(cluster[, caplog])`` on a fresh loop, stopping every node afterwards."""
    wants_caplog = "caplog" in inspect.signature(test).parameters

    def run(tmp_path, caplog):
        async def main():
            cluster = Cluster(tmp_path)
            try:
                await (test(cluster, caplog) if wants_caplog else test(cluster))
            finally:
                await cluster.close()

        asyncio.run(main())

    run.__name__ = test.__name__
    return run


async def ask(sender: Node, receiver: Node, request: bytes) -> HelloAnswer:
    peer, raw = await sender.transport.request_hello(receiver.addr, request)
    assert peer == receiver.peer_id
    return wire.decode(raw, HelloAnswer)


@scenario
async def test_one_bootstrap_peer_is_enough_to_learn_the_whole_set(cluster):
    a = await cluster.node(1)
    b = await cluster.node(2, [a])
    c = await cluster.node(3, [a])
    d = await cluster.node(4, [b])
    e = await cluster.node(5, [d])
    everyone = sorted(n.peer_id for n in (a, b, c, d, e))
    for node in (a, b, c, d, e):
        assert node.members() == everyone
        assert [node.directory.resolve(i) for i in range(5)] == everyone
        assert node.addr_updates == {peer: list(node.directory.get(peer).addrs)
                                     for peer in everyone if peer != node.peer_id}


@scenario
async def test_admission_lets_members_in_and_keeps_strangers_out(cluster):
    a = await cluster.node(1)
    b = await cluster.node(2, [a])
    stranger = cluster.net.transport(identity(9).peer_id)
    await stranger.start()
    assert a.transport._admitted(b.peer_id)
    assert not a.transport._admitted(stranger.peer_id)
    await stranger.send(a.peer_id, b"from a stranger")
    await b.transport.send(a.peer_id, b"from a member")
    for _ in range(10):
        await asyncio.sleep(0)
    assert a.received == [(b.peer_id, b"from a member")]


@scenario
async def test_a_restarted_node_comes_back_with_the_set_without_its_bootstrap(cluster):
    a = await cluster.node(1)
    b = await cluster.node(2, [a])
    c = await cluster.node(3, [a])
    everyone = sorted(n.peer_id for n in (a, b, c))
    await c.stop()
    cluster.net.partition(a.peer_id)
    again = await cluster.node(3, [a], wait=False)
    assert again.members() == everyone
    assert again.transport._admitted(b.peer_id)
    assert set(again.addr_updates) == {a.peer_id, b.peer_id}
    assert not again.discovery.joined.is_set()
    cluster.net.heal(a.peer_id)
    await asyncio.wait_for(again.discovery.wait_joined(), 10)
    assert again.members() == everyone


@scenario
async def test_a_wrong_or_missing_join_secret_is_refused_and_changes_nothing(cluster, caplog):
    a = await cluster.node(1)
    b = await cluster.node(2, [a])
    before = {n.peer_id: (n.members(), await stored_ids(n.store)) for n in (a, b)}
    wrong = await cluster.node(3, [], secret="guessed")
    missing = await cluster.node(4, [], secret=None)
    with caplog.at_level(logging.ERROR, "tssnet.discovery"):
        assert not await wrong.discovery.hello(a.addr)
        assert not await missing.discovery.hello(b.addr)
    assert "wrong or missing join secret" in caplog.text
    for node in (a, b):
        assert (node.members(), await stored_ids(node.store)) == before[node.peer_id]
        assert not node.transport._admitted(wrong.peer_id)
    assert wrong.members() == [wrong.peer_id] and missing.members() == [missing.peer_id]
    right = await cluster.node(5, [b])
    assert right.peer_id in a.members()


@scenario
async def test_an_answer_that_does_not_prove_the_secret_is_ignored(cluster):
    open_node = await cluster.node(1, secret=None)
    joiner = await cluster.node(2, [], secret=SECRET)
    assert not await joiner.discovery.hello(open_node.addr)
    assert joiner.members() == [joiner.peer_id]


@scenario
async def test_an_open_set_admits_any_verified_hello_and_says_so(cluster, caplog):
    with caplog.at_level(logging.WARNING, "tssnet.discovery"):
        a = await cluster.node(1, secret=None)
    assert "open to any peer" in caplog.text
    b = await cluster.node(2, [a], secret=None)
    assert a.members() == b.members() == sorted([a.peer_id, b.peer_id])


@scenario
async def test_forged_records_in_a_hello_are_refused(cluster):
    a = await cluster.node(1)
    joiner = await cluster.node(3, [])
    honest = joiner.directory.self_record
    for name, forged in forged_records(honest, joiner.identity).items():
        hello = make_hello(forged, SECRET, NETWORK, now_ms())
        answer = await ask(joiner, a, wire.encode(hello))
        assert answer.refusal.startswith("record refused") and answer.records == (), name
        assert a.members() == [a.peer_id], name
    # A valid record of someone else, sent by the joiner, speaks for the wrong peer.
    other = make_hello(ValidatorRecord.create(identity(8), [], "", 5), SECRET, NETWORK, now_ms())
    assert (await ask(joiner, a, wire.encode(other))).refusal == "the record is not the sender's own"
    assert await stored_ids(a.store) == [a.peer_id]


@scenario
async def test_forged_or_foreign_announcements_change_nothing(cluster, caplog):
    a = await cluster.node(1)
    b = await cluster.node(2, [a])
    outsider = identity(7)
    honest = ValidatorRecord.create(outsider, [], "http://x", now_ms())
    with caplog.at_level(logging.INFO):
        for forged in forged_records(honest, outsider).values():
            await b.transport.publish(disc.TOPIC, wire.encode(forged))
        for junk in (b"", b"\xff" * 64, b"\x00" * (disc.MAX_RECORD_BYTES + 1)):
            await b.transport.publish(disc.TOPIC, junk)
        stranger = cluster.net.transport(outsider.peer_id)
        await stranger.subscribe(disc.TOPIC, lambda peer, data: asyncio.sleep(0))
        await stranger.publish(disc.TOPIC, wire.encode(honest))
    assert a.members() == sorted([a.peer_id, b.peer_id])
    assert f"from {b.peer_id}: signature does not verify" in caplog.text
    assert f"non-member {outsider.peer_id}" in caplog.text


@scenario
async def test_replayed_and_stale_hellos_are_refused(cluster):
    a = await cluster.node(1)
    joiner = await cluster.node(2, [])
    record = joiner.directory.self_record
    now = now_ms()
    hello = wire.encode(make_hello(record, SECRET, NETWORK, now))
    assert (await ask(joiner, a, hello)).refusal == ""
    assert (await ask(joiner, a, hello)).refusal == "replayed hello"
    for sent_at in (now - 120_000, now + 120_000):
        late = wire.encode(make_hello(record, SECRET, NETWORK, sent_at))
        assert "s off" in (await ask(joiner, a, late)).refusal
    # Someone who captured the hello cannot use it from a connection of their own.
    thief = await cluster.node(3, [])
    assert (await ask(thief, a, hello)).refusal == "the record is not the sender's own"
    # Changing the time or nonce breaks the MAC.
    retimed = dataclasses.replace(wire.decode(hello, Hello), sent_at=now + 1)
    assert (await ask(joiner, a, wire.encode(retimed))).refusal == "wrong or missing join secret"
    assert thief.peer_id not in a.members()


@scenario
async def test_malformed_and_oversized_hellos_get_a_refusal(cluster):
    a = await cluster.node(1)
    b = await cluster.node(2, [a])
    good = wire.encode(make_hello(b.directory.self_record, SECRET, NETWORK, now_ms()))
    answer_bytes = wire.encode(HelloAnswer(records=(), refusal="", mac=b""))
    bad_requests = [
        b"", b"\x00", b"\xff" * 100, good[:-1], good + b"\x00", answer_bytes,
        msgpack.packb([1, 0x0501, 0, "x", 1, 2, 3]),
        msgpack.packb([1, 0x0501, 0] + [b"\x00" * 10] * 4, use_bin_type=True),
        b"\x00" * (disc.MAX_HELLO_BYTES + 1),
        good[:3] + b"\x00" * (disc.MAX_HELLO_BYTES + 1),
    ]
    for request in bad_requests:
        assert await ask(b, a, request) == HelloAnswer(records=(), refusal="malformed hello", mac=b"")
    assert a.members() == b.members() == sorted([a.peer_id, b.peer_id])


@scenario
async def test_a_bad_answer_is_dropped_without_harm(cluster, caplog):
    fake = cluster.net.transport(identity(6).peer_id)
    await fake.start()
    joiner = await cluster.node(2, [])
    forged = resign(ValidatorRecord.create(identity(7), [], "", 5), identity(9))
    answers = [
        b"", b"\xff" * 50, wire.encode(forged),
        wire.encode(HelloAnswer(records=(), refusal="go away", mac=b"")),
        wire.encode(HelloAnswer(records=(forged,), refusal="", mac=b"\x00" * 32)),
    ]
    for answer in answers:
        async def handler(peer, request, answer=answer):
            return answer

        fake.set_hello_handler(handler)
        assert not await joiner.discovery.hello(fake.listen_addrs[0])
    assert joiner.members() == [joiner.peer_id]
    assert "refused our hello: 'go away'" in caplog.text


@scenario
async def test_forged_records_in_an_authentic_answer_are_dropped(cluster, caplog):
    bootstrap = cluster.net.transport(identity(6).peer_id)
    await bootstrap.start()
    joiner = await cluster.node(2, [])
    honest = ValidatorRecord.create(identity(6), [], "", now_ms())
    forged = resign(ValidatorRecord.create(identity(7), [], "", 5), identity(9))

    async def handler(peer, request):
        hello = wire.decode(request, Hello)
        answer = HelloAnswer(records=(forged, honest), refusal="", mac=b"")
        mac = answer_mac(SECRET, NETWORK, hello.nonce, answer)
        return wire.encode(dataclasses.replace(answer, mac=mac))

    bootstrap.set_hello_handler(handler)
    assert await joiner.discovery.hello(bootstrap.listen_addrs[0])
    assert joiner.members() == sorted([joiner.peer_id, honest.peer_id])
    assert f"from {honest.peer_id}: signature does not verify" in caplog.text


@scenario
async def test_resync_picks_up_a_member_missed_while_partitioned(cluster):
    a = await cluster.node(1)
    b = await cluster.node(2, [a])
    c = await cluster.node(3, [a])
    cluster.net.partition(c.peer_id)
    d = await cluster.node(4, [a])
    assert d.peer_id not in c.members()
    cluster.net.heal(c.peer_id)
    assert await c.discovery.resync()
    assert c.members() == a.members() == b.members() == d.members()


@scenario
async def test_the_periodic_resync_runs_on_its_own(cluster):
    a = await cluster.node(1)
    b = await cluster.node(2, [a], resync_interval=0.01)
    cluster.net.partition(b.peer_id)
    c = await cluster.node(3, [a])
    cluster.net.heal(b.peer_id)
    while c.peer_id not in b.members():
        await asyncio.sleep(0.01)
    assert b.members() == a.members()


@scenario
async def test_a_node_whose_clock_went_back_re_signs_its_record(cluster):
    a = await cluster.node(1)
    b = await cluster.node(2, [a])
    later = b.directory.self_record
    await b.stop()
    # b comes back on a new address, with a clock behind the record a holds.
    again = await cluster.node(2, [a], addrs=["/ip4/127.0.0.2/tcp/1"], at=later.joined_at - 60_000)
    assert a.directory.get(b.peer_id).addrs == ("/ip4/127.0.0.2/tcp/1",)
    assert again.directory.self_record.joined_at > later.joined_at


@scenario
async def test_a_full_set_refuses_a_joiner(cluster):
    a = await cluster.node(1)
    await cluster.node(2, [a])
    validators.MAX_VALIDATORS, saved = 2, validators.MAX_VALIDATORS
    try:
        late = await cluster.node(3, [])
        assert not await late.discovery.hello(a.addr)
    finally:
        validators.MAX_VALIDATORS = saved
    assert late.peer_id not in a.members()


@scenario
async def test_a_stopped_node_refuses_hellos(cluster):
    a = await cluster.node(1)
    joiner = await cluster.node(2, [])
    await a.discovery.stop()
    hello = make_hello(joiner.directory.self_record, SECRET, NETWORK, now_ms())
    assert (await ask(joiner, a, wire.encode(hello))).refusal == "node is stopping"


@scenario
async def test_bad_configuration_is_a_clear_error(cluster):
    node = Node(cluster, 1, [], SECRET)
    with pytest.raises(BadRequest, match="/p2p/"):
        Discovery(node.identity, node.directory, node.transport, bootstrap=["/ip4/1.2.3.4/tcp/1"],
                  join_secret=None)
    with pytest.raises(BadRequest, match="empty"):
        Discovery(node.identity, node.directory, node.transport, bootstrap=[], join_secret="")
    with pytest.raises(ValueError, match="network"):
        Discovery(node.identity, node.directory, node.transport, bootstrap=[], join_secret=None,
                  network="tssnet-main")


def test_the_largest_messages_fit_their_bounds_and_the_hosts_hello_limit():
    v = validators
    record = ValidatorRecord(peer_id="x" * v.MAX_PEER_ID_BYTES, identity_key=bytes(32),
                             addrs=("/" + "a" * (v.MAX_ADDR_BYTES - 1),) * v.MAX_ADDRS,
                             http_url="u" * v.MAX_URL_BYTES, joined_at=2**63 - 1, signature=bytes(64))
    hello = Hello(record=record, nonce=bytes(16), sent_at=2**63 - 1, mac=bytes(32))
    answer = HelloAnswer(records=(record,) * v.MAX_VALIDATORS, refusal="r" * 256, mac=bytes(32))
    assert len(wire.encode(record)) <= disc.MAX_RECORD_BYTES
    assert len(wire.encode(hello)) <= disc.MAX_HELLO_BYTES
    assert len(wire.encode(answer)) <= disc.MAX_ANSWER_BYTES <= 64 * 1024
