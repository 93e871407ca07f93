"""The trio side's admission verdicts: asked once at a time, trusted briefly, then asked again."""

from __future__ import annotations

import trio
import trio.testing

from daemon.p2p.admission import VERDICT_TTL_SECONDS, AdmissionGate


def test_verdicts_are_shared_cached_briefly_and_refreshed():
    async def scenario():
        members = {"member"}
        asked = []

        async def ask(peer_id):
            asked.append(peer_id)
            await trio.sleep(0.01)  # the crossing to asyncio takes a moment
            return peer_id in members

        gate = AdmissionGate(ask, own_peer_id="me")
        results = []

        async def check():
            results.append(await gate.check("stranger"))

        async with trio.open_nursery() as nursery:
            for _ in range(10):
                nursery.start_soon(check)
        assert results == [False] * 10
        assert asked == ["stranger"]  # ten streams at once cost one question
        assert await gate.check("me") and asked == ["stranger"]  # ourselves: never asked

        members.add("stranger")  # the stranger joins: heard once its verdict expires
        assert not await gate.check("stranger")
        await trio.sleep(VERDICT_TTL_SECONDS + 0.1)
        assert await gate.check("stranger") and asked == ["stranger", "stranger"]

        gate.revoke("stranger")
        assert not await gate.check("stranger")
        gate.forget_all()
        assert await gate.check("stranger") and len(asked) == 3
    trio.run(scenario, clock=trio.testing.MockClock(autojump_threshold=0))


def test_a_failing_predicate_admits_no_one():
    async def scenario():
        async def ask(peer_id):
            raise RuntimeError("asyncio loop closed")

        assert not await AdmissionGate(ask, own_peer_id="me").check("member")
    trio.run(scenario)
