"""The seed mailbox between validators, over the in-process fake transport."""

import asyncio

import pytest

from daemon.errors import BadRequest, NotFound, Unavailable
from daemon.mailbox import Mailbox, UserPost
from daemon.router import Router
from daemon.service import UserMessage
from protocol import wire
from tests.daemon.fake_transport import FakeNetwork

MEMBERS = ["peer-a", "peer-b", "peer-c"]


async def _network(members=MEMBERS, **limits):
    net = FakeNetwork()
    boxes = {}
    for peer in [*members, "outsider"]:
        transport = net.transport(peer)
        router = Router()
        transport.set_message_handler(router.dispatch)
        await transport.start()
        boxes[peer] = Mailbox(transport, router, peer, lambda p: p in members, lambda: list(members), **limits)
    return net, boxes


async def _settle():
    # Let the fake transport's pumps deliver everything queued.
    for _ in range(50):
        await asyncio.sleep(0)


def test_a_broadcast_reaches_every_validator_and_stays_with_its_sender():
    async def main():
        net, boxes = await _network()
        await boxes["peer-a"].post("r1", "hello", None)
        await _settle()
        for peer in MEMBERS:
            assert boxes[peer].messages("r1", direct=False) == [UserMessage("r1", "peer-a", "hello", False)]
            assert boxes[peer].messages("r1", direct=True) == []
        assert boxes["outsider"].messages("r1", direct=False) == []
    asyncio.run(main())


def test_direct_messages_go_to_one_peer_only_and_to_self_are_kept():
    async def main():
        net, boxes = await _network()
        await boxes["peer-a"].post("r1", "for b", "peer-b")
        await boxes["peer-a"].post("r1", "note to self", "peer-a")
        await _settle()
        assert boxes["peer-b"].messages("r1", direct=True) == [UserMessage("r1", "peer-a", "for b", True)]
        assert boxes["peer-c"].messages("r1", direct=True) == []
        assert boxes["peer-a"].messages("r1", direct=True) == [UserMessage("r1", "peer-a", "note to self", True)]
    asyncio.run(main())


def test_messages_are_oldest_first_and_a_repeated_message_is_kept_once():
    async def main():
        net, boxes = await _network()
        await boxes["peer-b"].post("r1", "one", None)
        await boxes["peer-c"].post("r1", "two", None)
        await boxes["peer-b"].post("r1", "one", None)   # a retried post
        await boxes["peer-c"].post("r1", "one", None)   # same text, other sender: kept
        await _settle()
        board = boxes["peer-a"].messages("r1", direct=False)
        assert [(m.sender, m.message) for m in board] == [("peer-b", "one"), ("peer-c", "two"), ("peer-c", "one")]
    asyncio.run(main())


def test_a_post_to_someone_outside_the_set_is_refused():
    async def main():
        net, boxes = await _network()
        with pytest.raises(NotFound) as refused:
            await boxes["peer-a"].post("r1", "hi", "outsider")
        assert refused.value.type == "validator_not_exists"
        with pytest.raises(BadRequest):
            await boxes["peer-a"].post("r\n1", "hi", None)
        with pytest.raises(BadRequest):
            await boxes["peer-a"].post("r1", "x" * (64 * 1024 + 1), None)
        assert net.delivered == []
    asyncio.run(main())


def test_messages_from_outside_the_validator_set_are_dropped():
    async def main():
        net, boxes = await _network()
        await net.nodes["outsider"].send("peer-a", wire.encode(UserPost("r1", "let me in", False)))
        await _settle()
        assert boxes["peer-a"].messages("r1", direct=False) == []
    asyncio.run(main())


@pytest.mark.parametrize("payload", [
    b"\x00\x01",
    wire.encode(UserPost("", "empty round id", False)),
    wire.encode(UserPost("r\n1", "unprintable round id", False)),
    wire.encode(UserPost("r1", "x", False))[:-1],
])
def test_malformed_posts_are_dropped(payload):
    async def main():
        net, boxes = await _network()
        await net.nodes["peer-b"].send("peer-a", payload)
        await _settle()
        assert boxes["peer-a"].messages("r1", direct=False) == []
        assert boxes["peer-a"].messages("", direct=False) == []
    asyncio.run(main())


def test_an_unreachable_validator_is_named_and_the_others_still_get_the_message():
    async def main():
        net, boxes = await _network()
        net.partition("peer-c")
        with pytest.raises(Unavailable) as failed:
            await boxes["peer-a"].post("r1", "hi", None)
        assert "peer-c" in failed.value.message
        await _settle()
        assert boxes["peer-b"].messages("r1", direct=False) == [UserMessage("r1", "peer-a", "hi", False)]
        # Posting again after the partition heals delivers it once everywhere.
        net.heal("peer-c")
        await boxes["peer-a"].post("r1", "hi", None)
        await _settle()
        for peer in MEMBERS:
            assert len(boxes[peer].messages("r1", direct=False)) == 1
    asyncio.run(main())


def test_memory_is_bounded_oldest_rounds_first():
    async def main():
        net, boxes = await _network(max_rounds=3, max_per_round=2, max_bytes=10_000)
        box = boxes["peer-a"]
        for i in range(5):
            await box.post(f"r{i}", "m", None)
        assert [r for r in (f"r{i}" for i in range(5)) if box.messages(r, direct=False)] == ["r2", "r3", "r4"]
        for text in ("a", "b", "c"):
            await box.post("r4", text, None)
        assert [m.message for m in box.messages("r4", direct=False)] == ["m", "a"]
        await box.post("big", "x" * 6000, None)
        await box.post("bigger", "y" * 6000, None)
        assert box.messages("big", direct=False) == []
        assert len(box.messages("bigger", direct=False)) == 1
    asyncio.run(main())


def test_user_post_uses_the_mailbox_type_id_range_and_round_trips():
    assert 0x0540 <= UserPost.__wire_type_id__ <= 0x054F
    post = UserPost("round 7", "héllo", True)
    assert wire.decode(wire.encode(post), UserPost) == post
