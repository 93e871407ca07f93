"""The SDK (sync and async) against the app with the fake service on a free port."""

import asyncio
import hashlib
import socket

import pytest

from daemon.client import ApiError, AsyncClient, Client
from daemon.service import SignRequest
from tests.daemon.api.fake_service import PEERS
from tests.daemon.api.support import API_KEY, LiveServer


@pytest.fixture
def server():
    with LiveServer() as live:
        yield live


def test_sync_client_covers_key_management(server):
    node = Client(server.url, API_KEY)
    key = node.keygen("ecdsa", "secp256k1", 1, players=[0, PEERS[1]], key_id="k1")
    assert key["key_id"] == "k1" and key["participants"] == list(PEERS[:2])
    assert node.keys() == [key]
    assert node.key("k1") == key
    assert node.public_key("k1", "m/0/1")["path"] == "m/0/1"
    signature = node.sign("k1", message=b"hello", hash="sha256")
    assert signature["digest"] == hashlib.sha256(b"hello").hexdigest()
    node.sign("k1", digest=bytes(32), path="m/1", players=[0, 1])
    assert server.fake.calls[-1] == ("sign", (SignRequest("k1", digest=bytes(32), path="m/1", players=(0, 1)),))
    assert node.presign("k1", count=2)["created"] == 2
    assert node.delete_share("k1") is None
    with pytest.raises(ApiError) as missing:
        node.key("k1")
    assert (missing.value.status, missing.value.type) == (404, "key_id_not_exists")


def test_sync_client_covers_sessions_and_the_seed_endpoints(server):
    node = Client(server.url, API_KEY)
    session_id = node.start_keygen(threshold=1)
    assert node.session(session_id)["state"] == "done"
    assert node.wait_session(session_id, timeout=5)["key_id"]
    assert [v["peer_id"] for v in node.validators()] == list(PEERS)
    assert node.broadcast("r1", "hello") == {"roundId": "r1", "sent": True}
    node.direct_message(1, "r1", "psst")
    node.direct_message(PEERS[2], "r1", "psst too")
    assert [m["message"] for m in node.get_messages("r1")] == ["hello"]
    assert [m["message"] for m in node.get_direct_messages("r1")] == ["psst", "psst too"]
    assert node.health()["peer_id"] == PEERS[0]
    assert "tssnet_http_requests_total" in node.metrics()


def test_async_client_and_its_errors(server):
    async def main():
        async with AsyncClient(server.url, API_KEY) as node:
            key = await node.keygen("eddsa", None, 1)
            signature = await node.sign(key["key_id"], message="00ff", hash="none")
            assert "recovery_id" not in signature
            with pytest.raises(ApiError) as bad:
                await node.sign(key["key_id"], message=b"x")
            assert bad.value.status == 400 and "hash" in bad.value.message
            with pytest.raises(ApiError) as odd:
                await node.key("../v1/keys")
            assert odd.value.status == 400
        async with AsyncClient(server.url, "wrong-key") as stranger:
            with pytest.raises(ApiError) as denied:
                await stranger.keys()
            assert (denied.value.status, denied.value.type) == (401, "unauthorized")
    asyncio.run(main())


def test_an_unreachable_node_is_an_api_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ApiError) as failed:
        Client(f"http://127.0.0.1:{port}", API_KEY, timeout=5).validators()
    assert (failed.value.status, failed.value.type) == (0, "unreachable")


def test_client_repr_shows_no_api_key():
    assert API_KEY not in repr(Client("http://127.0.0.1:1", API_KEY))
    assert API_KEY not in repr(AsyncClient("http://127.0.0.1:1", API_KEY))
