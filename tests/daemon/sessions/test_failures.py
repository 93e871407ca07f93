"""Sessions that cannot finish end cleanly: silent and unreachable peers, refusals,
tampered frames, forged and replayed proposals, a crash mid-session."""

from __future__ import annotations

import asyncio
import time

import pytest

from daemon.errors import NodeError, SessionTimeout, Unavailable
from daemon.identity import NodeIdentity
from daemon.records import SessionRecord
from daemon.service import KeygenRequest, SignRequest
from daemon.sessions import messages as m
from daemon.sessions.coordinator import new_session_id
from protocol import wire
from tests.daemon.sessions import traffic
from tests.daemon.sessions.checks import assert_ed25519
from tests.daemon.sessions.harness import Cluster, run


async def _ed_key(c: Cluster) -> bytes:
    session_id = await c.services[0].start_keygen(KeygenRequest(scheme="eddsa", threshold=1, key_id="ed"))
    view = await c.services[0].wait_session(session_id, 30)
    assert view.state == "done", view
    return bytes.fromhex(view.public_key)


def _decoded(payload: bytes):
    try:
        return wire.decode_one_of(payload, m.MESSAGES)
    except Exception:
        return None


def test_a_silent_participant_times_out_the_session_while_others_keep_signing():
    async def main():
        async with Cluster(3, session_timeout=1.0) as c:
            public_key = await _ed_key(c)
            silent = c.nodes[2].peer_id
            c.net.tap = lambda s, r, payload: None if silent in (s, r) else payload
            started = time.monotonic()
            stuck = asyncio.create_task(c.services[0].sign(SignRequest("ed", message=b"x", players=(0, 2))))
            view = await c.services[1].sign(SignRequest("ed", message=b"meanwhile", players=(0, 1)))
            assert_ed25519(view, public_key, b"meanwhile")
            with pytest.raises(SessionTimeout) as err:
                await stuck
            assert time.monotonic() - started < 5
            assert err.value.status == 504 and err.value.type == "session_timeout"
            assert "round 1" in err.value.message and silent in err.value.message
    run(main())


def test_an_unreachable_participant_fails_the_session_early():
    async def main():
        async with Cluster(3) as c:
            await _ed_key(c)
            gone = c.nodes[2].peer_id
            c.nodes[0].directory.force_online.add(gone)
            c.net.partition(gone)
            with pytest.raises(Unavailable) as err:
                await c.services[0].sign(SignRequest("ed", message=b"x", players=(1, 2)))
            assert (err.value.status, err.value.type) == (503, "peer_unreachable")
            assert f"peer {gone} unreachable" in err.value.message
            # the other participant heard of it and ended its side too
            for _ in range(100):
                records = [r for r in await c.nodes[1].engine.keys.sessions() if r.protocol == "sign"]
                if records and records[0].state == "failed":
                    break
                await asyncio.sleep(0.02)
            assert records[0].state == "failed" and records[0].error_type == "peer_unreachable"
    run(main())


def test_a_participant_without_the_key_refuses_and_the_session_fails_with_its_reason():
    async def main():
        async with Cluster(3) as c:
            await _ed_key(c)
            await c.services[2].delete_share("ed")
            with pytest.raises(NodeError) as err:
                await c.services[0].sign(SignRequest("ed", message=b"x", players=(0, 2)))
            assert err.value.type == "key_id_not_exists"
            assert c.nodes[2].peer_id in err.value.message and "no share" in err.value.message
    run(main())


def test_a_tampered_frame_ends_in_a_blame_of_its_sender_never_a_crash():
    async def main():
        async with Cluster(3, session_timeout=2.0) as c:
            public_key = await _ed_key(c)
            liar = c.nodes[1].peer_id

            def flip(message):
                if not isinstance(message, m.SessionFrame):
                    return message
                body = bytearray(message.body)
                body[len(body) // 2] ^= 1
                return m.SessionFrame(message.session_id, message.phase, bytes(body))

            def tamper(sender, recipient, payload):
                return traffic.rewrite(payload, flip) if sender == liar else payload

            c.net.tap = tamper
            with pytest.raises(NodeError) as err:
                await c.services[0].sign(SignRequest("ed", message=b"x", players=(0, 1)))
            assert err.value.type == "session_blame" and liar in err.value.message
            record = await c.services[0].session([r for r in await c.nodes[0].engine.keys.sessions()
                                                  if r.protocol == "sign"][0].session_id)
            assert record.blame.culprits == (liar,)
            c.net.tap = None
            view = await c.services[0].sign(SignRequest("ed", message=b"after", players=(0, 1)))
            assert_ed25519(view, public_key, b"after")
    run(main())


def _proposal(c: Cluster, coordinator: str) -> m.Proposal:
    return m.Proposal(session_id=new_session_id(), protocol=m.FROST_KEYGEN, coordinator=coordinator,
                      key_id="forged", participants=tuple(n.peer_id for n in c.nodes), threshold=1,
                      suite="ed25519", paillier_bits=2048, epoch=0,
                      deadline_ms=int((time.time() + 20) * 1000))


async def _dropped(node, count: int) -> None:
    """Until ``node``'s engine has dropped ``count`` proposals in all (bounded, never a bare sleep)."""
    for _ in range(500):
        if node.engine.stats["proposals_dropped"] >= count:
            break
        await asyncio.sleep(0.01)
    assert node.engine.stats["proposals_dropped"] == count


async def _sessions(c: Cluster, index: int) -> list[SessionRecord]:
    return await c.nodes[index].engine.keys.sessions()


def test_forged_foreign_and_replayed_proposals_are_dropped():
    async def main():
        async with Cluster(3) as c:
            a, b = c.nodes[0], c.nodes[1]
            stranger = NodeIdentity.from_seed(b"\x99" * 32)
            # a validator sends a proposal signed by a key that is not its own
            forged = m.sign_proposal(stranger.signer(), _proposal(c, a.peer_id))
            await a.transport.send(b.peer_id, wire.encode(forged))
            # a non-validator proposes, under its own name and key
            outsider = c.net.transport(stranger.peer_id)
            await outsider.start()
            foreign = m.sign_proposal(stranger.signer(), _proposal(c, stranger.peer_id))
            await outsider.send(b.peer_id, wire.encode(foreign))
            # a validator relays another validator's genuine proposal
            relayed = m.sign_proposal(a.identity.signer(), _proposal(c, a.peer_id))
            await c.nodes[2].transport.send(b.peer_id, wire.encode(relayed))
            await _dropped(b, 3)
            assert await _sessions(c, 1) == []
            assert await c.services[1].keys() == []
            # a genuine proposal runs once; the same bytes again start nothing
            await _ed_key(c)
            for _ in range(100):
                if all(r.state == "done" for r in await _sessions(c, 1)):
                    break
                await asyncio.sleep(0.02)
            sent = [p for s, r, p in c.net.delivered
                    if (s, r) == (a.peer_id, b.peer_id) and isinstance(_decoded(p), m.SignedProposal)]
            before = await _sessions(c, 1)
            delivered = len(c.net.delivered)
            await a.transport.send(b.peer_id, sent[0])
            await _dropped(b, 4)
            assert await _sessions(c, 1) == before
            replies = [p for s, _, p in c.net.delivered[delivered:] if s == b.peer_id]
            assert replies == []     # not even a refusal: a replay gets no answer
    run(main())


def test_a_session_interrupted_by_a_crash_reads_as_failed_after_restart():
    async def main():
        async with Cluster(3) as c:
            record = SessionRecord("de" * 16, "sign", "running", int(time.time() * 1000),
                                   (c.nodes[0].peer_id,), c.nodes[0].peer_id, key_id="ed")
            await c.nodes[0].engine.keys.put_session(record)
            await c.restart(0)
            view = await c.services[0].session("de" * 16)
            assert view.state == "failed" and view.error.message == "interrupted by a restart"
    run(main())


def test_keygen_with_a_player_unreachable_fails_with_peer_unreachable():
    # Whether a peer is "online" is only a hint (a node that just restarted is
    # reachable before it shows); an unreachable one fails the session by name.
    async def main():
        async with Cluster(3) as c:
            c.net.partition(c.nodes[2].peer_id)
            session_id = await c.services[0].start_keygen(KeygenRequest(scheme="eddsa"))
            view = await c.services[0].wait_session(session_id, timeout=30)
            assert view.state == "failed"
            assert view.error.type == "peer_unreachable"
            assert c.nodes[2].peer_id in view.error.message
    run(main())


def test_a_batch_with_a_malformed_part_ends_there_and_the_node_goes_on():
    async def main():
        async with Cluster(3) as c:
            a, b = c.nodes[0], c.nodes[1]
            stranger = NodeIdentity.from_seed(b"\x99" * 32)
            forged = wire.encode(m.sign_proposal(stranger.signer(), _proposal(c, a.peer_id)))
            frame = wire.encode(m.SessionFrame("no-such-session", 0, b"x"))
            # a good part, then bytes that are no session message, then a part never read
            await a.transport.send(b.peer_id, wire.encode(m.Batch((frame, b"\x93garbage", forged))))
            for _ in range(100):
                if b.engine.stats["batches_dropped"]:
                    break
                await asyncio.sleep(0.01)
            assert b.engine.stats["batches_dropped"] == 1
            assert b.engine.stats["proposals_dropped"] == 0   # the part after the bad one was not read
            # the forged proposal on its own is read (and dropped), and the node still signs
            await a.transport.send(b.peer_id, forged)
            await _dropped(b, 1)
            await _ed_key(c)
    run(main())
