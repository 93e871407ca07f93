"""Who may start what: only holders coordinate signing, one keygen per key id, bounded load,
admission failures answered, and a coordinator outside a keygen's players still sees its key."""

from __future__ import annotations

import asyncio
import hashlib
import time

import pytest

from daemon.errors import Conflict, NodeError
from daemon.records import SCHEMA, KeyRecord
from daemon.service import KeygenRequest, SignRequest
from daemon.sessions import admission, coordinator
from daemon.sessions import engine as engine_module
from daemon.sessions import messages as m
from daemon.sessions.coordinator import new_session_id
from protocol import wire
from tests.daemon.sessions import traffic
from tests.daemon.sessions.checks import assert_bip340
from tests.daemon.sessions.harness import Cluster, run


async def _keygen(service, **fields) -> str:
    view = await service.wait_session(await service.start_keygen(KeygenRequest(**fields)), 30)
    assert view.state == "done", view
    return view.public_key


async def _until(predicate, what: str) -> None:
    for _ in range(500):
        if await predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def test_holders_refuse_a_sign_coordinated_by_a_validator_without_a_share():
    async def main():
        async with Cluster(3) as c:
            await _keygen(c.services[0], scheme="schnorr", threshold=1, players=(0, 1), key_id="vault")
            holders, outsider = c.nodes[:2], c.nodes[2]
            record = await holders[0].engine.keys.key_record("vault")   # public metadata only
            digest = hashlib.sha256(b"send everything to the attacker").digest()
            # through its own engine: refused before anything is sent
            with pytest.raises(Conflict) as err:
                await coordinator.sign(outsider.engine, record, record.participants, message=None,
                                       hash_name=None, digest=digest, path=None)
            assert err.value.type == "not_a_key_holder"
            # a hand-made proposal, validly signed by the outsider: the holders refuse it
            proposal = m.Proposal(session_id=new_session_id(), protocol=m.FROST_SIGN,
                                  coordinator=outsider.peer_id, key_id="vault",
                                  participants=record.participants, threshold=1, suite="bip340",
                                  paillier_bits=2048, epoch=0, deadline_ms=int((time.time() + 10) * 1000),
                                  digest=digest)
            payload = wire.encode(m.sign_proposal(outsider.identity.signer(), proposal))
            sent = len(c.net.delivered)
            for holder in holders:
                await outsider.transport.send(holder.peer_id, payload)

            async def refused():
                return all(h.engine.stats["proposals_refused"] == 1 for h in holders)
            await _until(refused, "both holders refuse")
            for holder in holders:
                stored = await holder.engine.keys.session(proposal.session_id)
                assert (stored.state, stored.error_type) == ("failed", "not_a_key_holder")
            answers = [part for s, r, p in c.net.delivered[sent:] if r == outsider.peer_id
                       for part in traffic.parts(p)]
            assert answers and all(isinstance(a, m.Refusal) for a in answers)   # never an Outcome
    run(main())


def test_a_keygen_coordinated_outside_its_players_shows_its_key_and_refuses_to_sign_there():
    async def main():
        async with Cluster(3) as c:
            outsider = c.services[2]
            public_key = await _keygen(outsider, scheme="schnorr", threshold=1, players=(0, 1),
                                       key_id="theirs")
            view = await outsider.key("theirs")
            assert (view.party, view.public_key, view.scheme) == (0, public_key, "schnorr")
            assert view.participants == (c.nodes[0].peer_id, c.nodes[1].peer_id)
            assert [k.key_id for k in await outsider.keys()] == []       # it holds no share
            with pytest.raises(Conflict) as err:
                await outsider.sign(SignRequest("theirs", digest=b"\1" * 32))
            assert err.value.status == 409 and err.value.type == "not_a_key_holder"
            assert "0 (" in err.value.message and c.nodes[1].peer_id in err.value.message
            with pytest.raises(Conflict) as err:
                await outsider.start_keygen(KeygenRequest(scheme="eddsa", key_id="theirs"))
            assert err.value.type == "key_id_exists"
            signed = await c.services[1].sign(SignRequest("theirs", digest=b"\1" * 32))
            assert_bip340(signed, bytes.fromhex(public_key), b"\1" * 32)
    run(main())


def test_two_keygens_of_one_key_id_never_both_store_a_key():
    async def main():
        async with Cluster(3) as c:
            s = c.services
            sids = await asyncio.gather(*(s[i].start_keygen(KeygenRequest(scheme="eddsa", threshold=1,
                                                                           key_id="dup"))
                                          for i in (0, 1)), return_exceptions=True)
            views = [await s[i].wait_session(sid, 30) for i, sid in enumerate(sids) if isinstance(sid, str)]
            done = [v for v in views if v.state == "done"]
            assert len(done) <= 1, views
            assert all(v.error.type == "key_id_exists" for v in views if v.state == "failed")
            held = {(await k.key("dup")).public_key for k in s
                    if await k._engine.keys.key_record("dup") is not None}
            assert held == ({done[0].public_key} if done else set())
    run(main())


def test_a_second_keygen_of_a_running_key_id_is_refused_and_the_key_write_is_create_only():
    async def main():
        async with Cluster(3) as c:
            engine = c.nodes[0].engine
            engine.reserve_key_id("busy", "a" * 32)
            with pytest.raises(Conflict) as err:
                await c.services[0].start_keygen(KeygenRequest(scheme="eddsa", key_id="busy"))
            assert err.value.type == "key_id_exists"
            engine.release_key_id("busy", "a" * 32)
            record = KeyRecord(SCHEMA, "once", "eddsa", "ed25519", 1, (c.nodes[0].peer_id, c.nodes[1].peer_id),
                               1, b"\2" * 32, b"\3" * 32, 0, 1, b"", "b" * 32)
            await engine.keys.put_key(record, b"first share")
            with pytest.raises(Conflict) as err:
                await engine.keys.put_key(record, b"second share")
            assert err.value.type == "key_id_exists"
            assert await engine.keys.share("once") == b"first share"
    run(main())


def test_a_coordinator_over_its_live_session_cap_is_refused_busy(monkeypatch):
    monkeypatch.setattr(engine_module, "MAX_LIVE_PER_COORDINATOR", 1)

    async def main():
        async with Cluster(3, session_timeout=3.0) as c:
            await _keygen(c.services[0], scheme="eddsa", threshold=1, key_id="ed")
            a, b = c.nodes[0], c.nodes[1]

            async def idle():
                return b.engine.live_sessions() == 0
            await _until(idle, "the keygen ended at node 1 too")
            c.net.tap = lambda s, r, p: traffic.dropping_frames(p) if (s, r) == (a.peer_id, b.peer_id) else p
            stuck = asyncio.create_task(c.services[0].sign(SignRequest("ed", message=b"1", players=(0, 1))))

            async def live():
                return b.engine.live_sessions() == 1
            await _until(live, "the first sign is live at node 1")
            with pytest.raises(NodeError) as err:
                await c.services[0].sign(SignRequest("ed", message=b"2", players=(0, 1)))
            assert err.value.type == "busy"
            c.net.tap = None
            with pytest.raises(NodeError):
                await stuck
            await _until(idle, "node 1's side of the first sign ended too")
            assert c.services[1].health()["sessions"] == 0
    run(main())


def test_a_presign_into_a_full_pool_is_refused(ecdsa_key, monkeypatch):
    monkeypatch.setattr(admission, "PRESIGN_MARGIN", 1)

    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            made = await c.services[0].presign("k1", 3, None)
            assert (made.created, made.available) == (1, 1)
            with pytest.raises(Conflict) as err:
                await c.services[0].presign("k1", 1, None)
            assert err.value.type == "pool_full"
    run(main())


def test_an_admission_that_breaks_is_refused_with_a_reason(monkeypatch):
    async def main():
        async with Cluster(3, session_timeout=5.0) as c:
            await _keygen(c.services[0], scheme="eddsa", threshold=1, key_id="ed")
            keys = c.nodes[1].engine.keys

            async def broken(key_id):
                raise RuntimeError("disk on fire")
            monkeypatch.setattr(keys, "key_record", broken)
            started = time.monotonic()
            with pytest.raises(NodeError) as err:
                await c.services[0].sign(SignRequest("ed", message=b"x", players=(0, 1)))
            assert err.value.type == "session_refused" and "could not admit" in err.value.message
            assert time.monotonic() - started < 5.0   # refused, not timed out
    run(main())
