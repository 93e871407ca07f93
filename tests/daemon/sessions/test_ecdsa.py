"""ECDSA (CGGMP21) through the session engine: keygen, sign with and without a pooled
presignature, HD paths, restarts, and one presignature raced for by two signs."""

from __future__ import annotations

import asyncio

from daemon.service import KeygenRequest, SignRequest
from daemon.sessions import messages as m
from daemon.sessions.pool import preferred_signers
from daemon.sessions.workers import FAST_LANE
from tests.daemon.sessions import traffic
from tests.daemon.sessions.checks import assert_ecdsa, bip32_child, sha256
from tests.daemon.sessions.harness import Cluster, Timer, run


async def _key(cluster: Cluster):
    view = await cluster.services[0].key("k1")
    return bytes.fromhex(view.public_key), bytes.fromhex(view.chain_code)


def test_keygen_1_of_3_gives_every_node_the_same_key(ecdsa_key):
    path, keygen = ecdsa_key
    assert keygen.protocol == "keygen" and keygen.key_id == "k1" and keygen.error is None

    async def main():
        async with Cluster(3, copy_from=path) as c:
            views = [await s.key("k1") for s in c.services]
            assert {v.public_key for v in views} == {keygen.public_key}
            assert [v.party for v in views] == [1, 2, 3]
            assert all(v.participants == tuple(n.peer_id for n in c.nodes) for v in views)
            assert all(v.threshold == 1 and v.scheme == "ecdsa" for v in views)
            # the keygen session is readable on every node after the restart the copy amounts to
            for s in c.services:
                assert (await s.session(keygen.session_id)).state == "done"
    run(main())


def test_sign_without_a_presignature_then_with_a_path(ecdsa_key):
    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            public_key, chain_code = await _key(c)
            with Timer("ecdsa sign, full (presign + sign in one session)"):
                view = await c.services[0].sign(SignRequest("k1", message=b"hello", hash="sha256"))
            assert_ecdsa(view, public_key, sha256(b"hello"))
            child, child_code = bip32_child(public_key, chain_code, "m/0/1")
            pk_view = await c.services[1].public_key("k1", "m/0/1")
            assert (pk_view.public_key, pk_view.chain_code) == (child.hex(), child_code.hex())
            digest = sha256(b"a raw digest")
            view = await c.services[1].sign(SignRequest("k1", digest=digest, path="m/0/1"))
            assert_ecdsa(view, child, digest)
    run(main())


def test_pooled_presignature_signs_once_and_leaves_every_signer(ecdsa_key):
    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            public_key, chain_code = await _key(c)
            with Timer("ecdsa presign x2"):
                made = await c.services[0].presign("k1", 2, None)
            assert (made.created, made.available) == (2, 2)
            signers = c.services[:2]
            assert [(await s.key("k1")).presignatures for s in c.services] == [2, 2, 0]
            with Timer("ecdsa sign with a pooled presignature"):
                view = await signers[1].sign(SignRequest("k1", message=b"pooled", hash="keccak256",
                                                         players=(0, 1)))
            from protocol.cmp.signature import message_digest
            assert_ecdsa(view, public_key, message_digest(b"pooled", "keccak256"))
            session = await signers[1].session(view.session_id)
            assert session.protocol == "sign" and session.state == "done"
            assert [(await s.key("k1")).presignatures for s in signers] == [1, 1]
            child, _ = bip32_child(public_key, chain_code, "m/7")
            view = await signers[0].sign(SignRequest("k1", message=b"child", path="m/7"))
            assert_ecdsa(view, child, sha256(b"child"))
            assert [(await s.key("k1")).presignatures for s in signers] == [0, 0]
    run(main())


def test_a_coordinator_outside_the_signing_set_returns_a_verified_signature(ecdsa_key):
    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            public_key, _ = await _key(c)
            view = await c.services[2].sign(SignRequest("k1", message=b"by others", players=(0, 1)))
            assert_ecdsa(view, public_key, sha256(b"by others"))
    run(main())


def test_restarted_nodes_sign_with_their_stored_shares(ecdsa_key):
    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            public_key, _ = await _key(c)
            await c.services[0].presign("k1", 1, None)
            for i in range(3):
                await c.restart(i)
            assert (await c.services[0].key("k1")).presignatures == 0   # a restart drops them all
            view = await c.services[0].sign(SignRequest("k1", message=b"after restart"))
            assert_ecdsa(view, public_key, sha256(b"after restart"))
    run(main())


def test_two_signs_racing_for_one_presignature_never_both_use_it(ecdsa_key):
    async def race(c: Cluster, coordinators: tuple[int, int]) -> list[str]:
        public_key, _ = await _key(c)
        await c.services[0].presign("k1", 1, None)
        views = await asyncio.gather(*(
            c.services[i].sign(SignRequest("k1", message=b"race %d" % k, players=(0, 1)))
            for k, i in enumerate(coordinators)))
        for k, view in enumerate(views):
            assert_ecdsa(view, public_key, sha256(b"race %d" % k))
        assert [(await s.key("k1")).presignatures for s in c.services] == [0, 0, 0]
        return [c.nodes[i].engine.session(v.session_id).proposal.protocol
                for i, v in zip(coordinators, views, strict=True)]

    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            for coordinators in ((0, 0), (0, 1)):
                protocols = await race(c, coordinators)
                assert protocols.count(m.CMP_SIGN) <= 1 and m.CMP_FULLSIGN in protocols, protocols
    run(main())


def test_keygen_2_of_3_then_every_node_signs():
    async def main():
        async with Cluster(3) as c:
            primes = [len(node.primes) for node in c.nodes]
            with Timer("ecdsa keygen 2-of-3 (in-process workers)"):
                session_id = await c.services[1].start_keygen(KeygenRequest(threshold=2, key_id="k2"))
                keygen = await c.services[1].wait_session(session_id, 60)
            assert keygen.state == "done", keygen
            assert [len(node.primes) for node in c.nodes] == [p - 2 for p in primes]  # 2 per party
            public_key = bytes.fromhex(keygen.public_key)
            for i, service in enumerate(c.services):
                with Timer(f"ecdsa sign 2-of-3 by node {i}"):
                    view = await service.sign(SignRequest("k2", message=b"m%d" % i))
                assert_ecdsa(view, public_key, sha256(b"m%d" % i))
    run(main())


def test_every_holder_fills_the_pool_of_its_own_signer_set_and_signs_from_it(ecdsa_key):
    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0], presign_pool_size=2) as c:
            for node in c.nodes:
                node.engine.pool.kick()   # each started before its peers were up to answer
            # 1-of-3: node i fills {i, i+1}; each node signs in two of the three sets
            for _ in range(1200):
                counts = [(await s.key("k1")).presignatures for s in c.services]
                if counts == [4, 4, 4]:
                    break
                await asyncio.sleep(0.05)
            assert counts == [4, 4, 4]
            for node in c.nodes:   # each pooled set is coordinated by its owner only
                owned = {r.participants for r in await node.engine.keys.sessions()
                         if r.protocol == "presign" and r.coordinator == node.peer_id}
                key = await node.engine.keys.key_record("k1")
                assert owned == {tuple(key.participants[i - 1] for i in preferred_signers(key))}
            public_key, _ = await _key(c)
            for i, service in enumerate(c.services):   # any node signs in one round from its own pool
                view = await service.sign(SignRequest("k1", message=b"from the pool %d" % i))
                assert_ecdsa(view, public_key, sha256(b"from the pool %d" % i))
                session = c.nodes[i].engine.session(view.session_id)
                assert session.proposal.protocol == m.CMP_SIGN and c.nodes[i].peer_id in session.proposal.participants
                # one-round signing never queues behind a presign: it has a slot of its own
                assert session.route == FAST_LANE
                assert session.slot == c.nodes[i].engine.slots.index_of(FAST_LANE)
    run(main())


def _traffic(c, since: int, session_id: str) -> list[tuple[str, ...]]:
    """The transport messages of one session delivered after ``since``, each as the type names
    of the session messages it carries (pool refills run sessions of their own meanwhile)."""
    found = []
    for _, _, payload in c.net.delivered[since:]:
        parts = traffic.parts(payload)
        sids = {p.proposal.session_id if isinstance(p, m.SignedProposal) else p.session_id for p in parts}
        if session_id in sids:
            found.append(tuple(type(p).__name__ for p in parts))
    return found


def _recorded_states(c) -> list[tuple[str, str]]:
    """(session id, state) of every session record the nodes write from now on."""
    written = []
    for node in c.nodes:
        real = node.engine.keys.put_session

        async def recording(record, real=real):
            written.append((record.session_id, record.state))
            await real(record)
        node.engine.keys.put_session = recording
    return written


def test_a_pooled_two_party_sign_takes_three_transport_messages(ecdsa_key):
    # The proposal with the coordinator's share, the other signer's share with its
    # Done, the coordinator's Done: no echo between two parties, and no outcome for a
    # coordinator that signed along.
    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            public_key, _ = await _key(c)
            await c.services[0].presign("k1", 1, None)
            for _ in range(500):   # the other signer stores its half a moment after the answer
                if (await c.services[1].key("k1")).presignatures == 1:
                    break
                await asyncio.sleep(0.01)
            since = len(c.net.delivered)
            states = _recorded_states(c)
            view = await c.services[1].sign(SignRequest("k1", message=b"count", players=(0, 1)))
            assert_ecdsa(view, public_key, sha256(b"count"))
            await asyncio.sleep(0.2)   # anything sent after the answer arrives too
            assert _traffic(c, since, view.session_id) == [
                ("SignedProposal", "SessionFrame"), ("SessionFrame", "SessionFrame"), ("SessionFrame",)]
            # One durable write of its record per signer, when it ends: none before it starts.
            assert [state for sid, state in states if sid == view.session_id] == ["done", "done"]
    run(main())


def test_a_coordinator_outside_the_signers_still_hears_their_outcomes(ecdsa_key):
    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            public_key, _ = await _key(c)
            since = len(c.net.delivered)
            view = await c.services[2].sign(SignRequest("k1", message=b"outside", players=(0, 1)))
            assert_ecdsa(view, public_key, sha256(b"outside"))
            await asyncio.sleep(0.2)
            assert _traffic(c, since, view.session_id).count(("Outcome",)) == 2
    run(main())
