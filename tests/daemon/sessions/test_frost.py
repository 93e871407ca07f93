"""FROST through the session engine: Ed25519 and BIP340 keygen and signing, with paths,
verified by PyNaCl and coincurve; one run on real worker processes."""

from __future__ import annotations

import asyncio

from daemon.service import KeygenRequest, SignRequest
from daemon.sessions import messages as m
from protocol.cmp.signature import message_digest
from protocol.frost.bip340 import BIP340
from protocol.group import SECP256K1
from tests.daemon.sessions import traffic
from tests.daemon.sessions.checks import assert_bip340, assert_ecdsa, assert_ed25519, sha256
from tests.daemon.sessions.harness import Cluster, Timer, run


async def _keygen(cluster: Cluster, scheme: str, threshold: int, key_id: str):
    with Timer(f"{scheme} keygen {threshold}-of-3"):
        session_id = await cluster.services[0].start_keygen(
            KeygenRequest(scheme=scheme, threshold=threshold, key_id=key_id))
        view = await cluster.services[0].wait_session(session_id, 30)
    assert view.state == "done", view
    return bytes.fromhex(view.public_key)


def test_ed25519_keygen_and_sign_verify_with_pynacl():
    async def main():
        async with Cluster(3) as c:
            public_key = await _keygen(c, "eddsa", 1, "ed")
            assert len(public_key) == 32
            with Timer("ed25519 sign 2 of 3"):
                view = await c.services[2].sign(SignRequest("ed", message=b"ed message"))
            assert_ed25519(view, public_key, b"ed message")
            view = await c.services[1].sign(SignRequest("ed", message=b"all three", hash="none",
                                                        players=(0, 1, 2)))
            assert_ed25519(view, public_key, b"all three")
            child = bytes.fromhex((await c.services[0].public_key("ed", "m/3/4")).public_key)
            view = await c.services[0].sign(SignRequest("ed", message=b"child", path="m/3/4"))
            assert_ed25519(view, child, b"child")
            assert child != public_key
    run(main())


def test_bip340_keygen_and_sign_verify_with_coincurve():
    async def main():
        async with Cluster(3) as c:
            xonly = await _keygen(c, "schnorr", 1, "tr")
            assert len(xonly) == 32
            digest = sha256(b"a digest")
            view = await c.services[0].sign(SignRequest("tr", digest=digest))
            assert_bip340(view, xonly, digest)
            view = await c.services[1].sign(SignRequest("tr", message=b"hashed", hash="sha256d"))
            assert_bip340(view, xonly, message_digest(b"hashed", "sha256d"))
            exact = bytes(range(32))
            view = await c.services[2].sign(SignRequest("tr", message=exact, hash="none"))
            assert_bip340(view, xonly, exact)
            child = (await c.services[0].public_key("tr", "m/0/1")).public_key
            view = await c.services[0].sign(SignRequest("tr", digest=digest, path="m/0/1"))
            assert_bip340(view, bytes.fromhex(child), digest)
            # after a restart the stored share signs again
            await c.restart(0)
            view = await c.services[0].sign(SignRequest("tr", digest=digest))
            assert_bip340(view, xonly, digest)
    run(main())


def test_keys_show_their_scheme_encodings():
    async def main():
        async with Cluster(3) as c:
            await _keygen(c, "schnorr", 2, "tr2")
            key = await c.services[1].key("tr2")
            assert (key.scheme, key.curve, key.threshold, key.party) == ("schnorr", "secp256k1", 2, 2)
            point = SECP256K1.decode_point(b"\x02" + bytes.fromhex(key.public_key))
            assert BIP340.adjust_key(point)[0] == point     # x-only of the even-y key
    run(main())


def test_sessions_run_in_worker_processes(ecdsa_key):
    async def main():
        async with Cluster(3, processes=True, workers=2, copy_from=ecdsa_key[0]) as c:
            public_key = await _keygen(c, "eddsa", 1, "proc")
            with Timer("ed25519 sign in worker processes"):
                view = await c.services[0].sign(SignRequest("proc", message=b"in a process"))
            assert_ed25519(view, public_key, b"in a process")
            ecdsa_key_bytes = bytes.fromhex((await c.services[0].key("k1")).public_key)
            with Timer("ecdsa presign in worker processes"):
                await c.services[0].presign("k1", 1, None)
            with Timer("ecdsa pooled sign in worker processes"):
                view = await c.services[0].sign(SignRequest("k1", message=b"pooled in a process"))
            assert_ecdsa(view, ecdsa_key_bytes, sha256(b"pooled in a process"))
    run(main())


def test_a_keygen_coordinated_by_a_node_outside_the_players():
    async def main():
        async with Cluster(3) as c:
            session_id = await c.services[2].start_keygen(
                KeygenRequest(scheme="eddsa", threshold=1, players=(0, 1), key_id="theirs"))
            view = await c.services[2].wait_session(session_id, 30)
            assert view.state == "done", view
            assert view.participants == (c.nodes[0].peer_id, c.nodes[1].peer_id)
            for service in c.services[:2]:
                assert (await service.key("theirs")).public_key == view.public_key
            assert await c.services[2].keys() == []
            public_key = bytes.fromhex(view.public_key)
            sign = await c.services[0].sign(SignRequest("theirs", message=b"two holders"))
            assert_ed25519(sign, public_key, b"two holders")
    run(main())


def test_frames_that_arrive_before_their_proposal_are_kept_for_it():
    async def main():
        async with Cluster(3) as c:
            late = c.nodes[2].peer_id
            held = []

            def hold_proposals(sender, recipient, payload):
                if recipient == late and payload not in held and \
                        any(isinstance(part, m.SignedProposal) for part in traffic.parts(payload)):
                    held.append(payload)
                    loop = asyncio.get_running_loop()
                    loop.call_later(0.3, lambda: loop.create_task(c.nodes[0].transport.send(late, payload)))
                    return None
                return payload

            c.net.tap = hold_proposals
            public_key = await _keygen(c, "eddsa", 1, "late")
            order = [type(part) for s, r, p in c.net.delivered if r == late for part in traffic.parts(p)]
            assert order.index(m.SignedProposal) > order.index(m.SessionFrame)   # frames came first
            assert (await c.services[2].key("late")).public_key == public_key.hex()
    run(main())
