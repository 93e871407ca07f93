"""LocalNodeService: what a request means is checked before anything changes; secrets stay sealed."""

from __future__ import annotations

import pytest

from daemon.errors import BadRequest, Conflict, NotFound
from daemon.records import key_share_key
from daemon.service import KeygenRequest, SignRequest
from protocol import wire
from protocol.cmp.presign_context import Presignature
from protocol.cmp.shares import CmpKey
from tests.daemon.sessions.fixtures import make_ecdsa_key
from tests.daemon.sessions.harness import Cluster, run

BAD_KEYGENS = [
    KeygenRequest(scheme="rsa"),
    KeygenRequest(scheme="ecdsa", curve="ed25519"),
    KeygenRequest(scheme="eddsa", curve="secp256k1"),
    KeygenRequest(threshold=0),
    KeygenRequest(threshold=3),
    KeygenRequest(threshold=True),
    KeygenRequest(threshold=1, players=(0,)),
    KeygenRequest(threshold=1, players=(0, 0, 1)),
    KeygenRequest(threshold=1, players=(0, 7)),
    KeygenRequest(threshold=1, players=(0, "not-a-peer")),
    KeygenRequest(key_id="has/slash"),
    KeygenRequest(key_id=""),
    KeygenRequest(key_id="x" * 65),
    KeygenRequest(key_id="-leading"),
]

BAD_SIGNS = [
    SignRequest("k1"),                                              # neither message nor digest
    SignRequest("k1", message=b"m", digest=b"\0" * 32),             # both
    SignRequest("k1", digest=b"\0" * 31),
    SignRequest("k1", digest=b"\0" * 32, hash="sha256"),
    SignRequest("k1", message=b"m", hash="md5"),
    SignRequest("k1", message=b"m", hash="none"),                   # ECDSA always hashes
    SignRequest("k1", message=b"m", path="m/0'/1"),                 # hardened
    SignRequest("k1", message=b"m", path="0/1"),
    SignRequest("k1", message=b"m", players=(0,)),                  # too few signers
    SignRequest("k1", message=b"m", players=(0, 0)),
    SignRequest("k1", message=b"m", players=(0, 9)),
]


@pytest.fixture(scope="module")
def ecdsa_key(tmp_path_factory):
    return make_ecdsa_key(tmp_path_factory)


async def _snapshot(c: Cluster) -> list[dict[str, bytes]]:
    return [await node.dump() for node in c.nodes]


def test_bad_keygen_and_sign_requests_raise_bad_request_and_change_nothing(ecdsa_key):
    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            service = c.services[0]
            before = await _snapshot(c)
            for request in BAD_KEYGENS:
                with pytest.raises(BadRequest):
                    await service.start_keygen(request)
            for request in BAD_SIGNS:
                with pytest.raises(BadRequest):
                    await service.sign(request)
            with pytest.raises(BadRequest):
                await service.presign("k1", 0, None)
            with pytest.raises(BadRequest):
                await service.presign("k1", 1, (0, 1, 2))
            with pytest.raises(BadRequest):
                await service.public_key("k1", "m/2147483648")
            with pytest.raises(Conflict) as err:
                await service.start_keygen(KeygenRequest(key_id="k1"))
            assert err.value.type == "key_id_exists"
            for call in (service.key("nope"), service.sign(SignRequest("nope", message=b"m")),
                         service.public_key("nope", None), service.delete_share("nope"),
                         service.presign("nope", 1, None)):
                with pytest.raises(NotFound) as err:
                    await call
                assert err.value.type == "key_id_not_exists"
            with pytest.raises(NotFound) as err:
                await service.session("0" * 32)
            assert err.value.type == "session_not_exists"
            assert await _snapshot(c) == before
    run(main())


def test_frost_specific_inputs_are_checked():
    async def main():
        async with Cluster(3) as c:
            service = c.services[0]
            for scheme, key_id in (("eddsa", "ed"), ("schnorr", "tr")):
                sid = await service.start_keygen(KeygenRequest(scheme=scheme, key_id=key_id))
                assert (await service.wait_session(sid, 30)).state == "done"
            before = await _snapshot(c)
            for request in (SignRequest("ed", digest=b"\0" * 32),
                            SignRequest("ed", message=b"m", hash="sha256"),
                            SignRequest("tr", message=b"short", hash="none"),
                            SignRequest("tr", digest=b"\0" * 33)):
                with pytest.raises(BadRequest):
                    await service.sign(request)
            with pytest.raises(BadRequest):
                await service.presign("ed", 1, None)
            assert await _snapshot(c) == before
    run(main())


def test_shares_and_presignatures_are_sealed_at_rest(ecdsa_key):
    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            await c.services[0].presign("k1", 1, None)
            node = c.nodes[0]
            values = await node.dump()
            name = key_share_key("k1")
            key = wire.decode(node.sealer.open(name, values[name]), CmpKey)
            secrets = [key.share.x.encode(), int(key.aux.secret.p).to_bytes(128, "big")]
            [(presig_name, blob)] = [(k, v) for k, v in values.items() if k.startswith("presig/")]
            presig = wire.decode(node.sealer.open(presig_name, blob), Presignature)
            secrets += [presig.k.encode(), presig.chi.encode()]
            for secret in secrets:
                assert not any(secret in value for value in values.values())
            assert "redacted" in repr(key) and "redacted" in repr(presig)
    run(main())


def test_delete_share_removes_the_share_and_presignatures_in_one_go(ecdsa_key):
    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            await c.services[0].presign("k1", 2, None)
            assert (await c.services[1].key("k1")).presignatures == 2
            await c.services[1].delete_share("k1")
            assert not [k for k in await c.nodes[1].dump() if "k1" in k]
            with pytest.raises(NotFound):
                await c.services[1].sign(SignRequest("k1", message=b"m"))
            with pytest.raises(NotFound):
                await c.services[1].key("k1")
            # the other holders still sign without it (t = 1: nodes 0 and 2)
            view = await c.services[0].sign(SignRequest("k1", message=b"m", players=(0, 2)))
            assert view.signature
    run(main())


def test_views_of_validators_keys_sessions_and_health(ecdsa_key):
    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            service = c.services[1]
            validators = await service.validators()
            assert [v.index for v in validators] == [0, 1, 2]
            assert [v.is_self for v in validators] == [False, True, False]
            assert all(v.online for v in validators)
            assert [v.peer_id for v in validators] == [n.peer_id for n in c.nodes]
            keys = await service.keys()
            assert [k.key_id for k in keys] == ["k1"] and keys[0].party == 2
            assert (await service.public_key("k1", None)).public_key == keys[0].public_key
            session = await service.wait_session(ecdsa_key[1].session_id, 0.1)
            assert session.to_json()["state"] == "done" and "error" not in session.to_json()
            health = service.health()
            assert (health["peer_id"], health["validators"], health["online"]) == (c.nodes[1].peer_id, 3, 3)
            assert health["sessions"] == 0 and service.metrics()["tssnet_sessions_running"] == 0
            await service.post_message("r1", "hello", 2)
            assert c.nodes[1].service._mailbox.posts == [("r1", "hello", c.nodes[2].peer_id)]
    run(main())


def test_keygen_defaults_every_validator_and_a_fresh_key_id():
    async def main():
        async with Cluster(3) as c:
            sid = await c.services[2].start_keygen(KeygenRequest(scheme="eddsa"))
            view = await c.services[2].wait_session(sid, 30)
            assert view.state == "done" and view.participants == tuple(n.peer_id for n in c.nodes)
            key = await c.services[0].key(view.key_id)
            assert key.threshold == 1 and key.public_key == view.public_key
    run(main())


def test_a_removed_validator_is_never_chosen_to_sign_and_too_few_members_is_a_409(ecdsa_key):
    async def main():
        async with Cluster(3, copy_from=ecdsa_key[0]) as c:
            service = c.services[0]
            key = await service._held_key("k1")
            removed = c.nodes[1].peer_id
            # Node 1 was the next party after node 0: by default the pair would be (0, 1).
            assert service._signers(key, None) == (c.nodes[0].peer_id, removed)
            directory = service._directory
            members = {n.peer_id for n in c.nodes} - {removed}
            assert (await service.key("k1")).non_member_holders == ()
            directory.is_member = members.__contains__      # the ledger removed node 1
            assert (await service.key("k1")).non_member_holders == (removed,)   # due a reshare
            assert service._signers(key, None) == (c.nodes[0].peer_id, c.nodes[2].peer_id)
            signed = await service.sign(SignRequest("k1", message=b"after a removal"))
            session = await service.wait_session(signed.session_id, 5)
            assert session.participants == (c.nodes[0].peer_id, c.nodes[2].peer_id)
            directory.is_member = {c.nodes[0].peer_id}.__contains__    # two of three removed
            with pytest.raises(Conflict, match="no longer validators .* reshared") as caught:
                service._signers(key, None)
            assert caught.value.status == 409 and removed in caught.value.message
            with pytest.raises(Conflict):
                await service.presign("k1", 1, None)
    run(main())
