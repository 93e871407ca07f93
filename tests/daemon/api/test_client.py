"""The SDK (sync and async) against the app with the fake service on a free port."""

import asyncio
import hashlib
import socket

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from daemon import config as node_config
from daemon.api import validation
from daemon.cli_client import _render_fields
from daemon.client import DEFAULT_TIMEOUT, KEYGEN_TIMEOUT_MAX, ApiError, AsyncClient, Client
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


class _Odd:
    """A server answering what a test sets (path -> coroutine function making the answer),
    and recording who called it with which key."""

    def __init__(self, answers: dict) -> None:
        self.answers = answers
        self.seen: list[tuple[str, str | None]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.path, request.headers.get("X-API-Key")))
        return await self.answers[request.path]()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


def _with_servers(test, *servers):
    async def main():
        clients = [TestServer(server.app()) for server in servers]
        for started in clients:
            await started.start_server()
        try:
            await test(*[str(started.make_url("")) for started in clients])
        finally:
            for started in clients:
                await started.close()
    asyncio.run(main())


def test_redirects_are_never_followed_so_the_key_stays_with_the_node():
    async def listed():
        return web.json_response({"validators": []})

    elsewhere = _Odd({"/validators": listed})

    async def test(node_url, elsewhere_url):
        async def moved():
            return web.Response(status=307, headers={"Location": elsewhere_url + "/validators"})

        node.answers["/validators"] = moved
        async with AsyncClient(node_url, API_KEY) as client:
            with pytest.raises(ApiError) as refused:
                await client.validators()
        assert (refused.value.status, refused.value.type) == (307, "bad_response")
        assert "redirect" in refused.value.message
        assert elsewhere.seen == []

    node = _Odd({})
    _with_servers(test, node, elsewhere)


@pytest.mark.parametrize("body", ["[]", '"text"', "1", "null", "{}", '{"validators": "all"}',
                                  '{"keys": null, "session_id": 7, "messages": {}}'])
def test_a_2xx_answer_that_is_not_the_documented_object_is_a_bad_response(body):
    async def answer():
        return web.Response(text=body, content_type="application/json")

    paths = ["/validators", "/v1/keys", "/start", "/get-message", "/get-direct-message", "/v1/keys/k"]
    odd = _Odd(dict.fromkeys(paths, answer))

    async def test(url):
        async with AsyncClient(url, API_KEY) as client:
            calls = [client.validators(), client.keys(), client.start_keygen(), client.get_messages("r"),
                     client.get_direct_messages("r")]
            if not body.startswith("{"):
                calls.append(client.key("k"))
            for call in calls:
                with pytest.raises(ApiError) as bad:
                    await call
                assert bad.value.type == "bad_response"
    _with_servers(test, odd)


def test_a_keygen_waits_longer_than_the_clients_default_timeout():
    async def slow_key():
        await asyncio.sleep(0.5)
        return web.json_response({"key_id": "k"}, status=201)

    odd = _Odd({"/v1/keys": slow_key, "/validators": slow_key})

    async def test(url):
        async with AsyncClient(url, API_KEY, timeout=0.1) as client:
            assert await client.keygen("ecdsa", None, 1) == {"key_id": "k"}
            with pytest.raises(ApiError) as late:
                await client.validators()
            assert late.value.type == "timeout"
    _with_servers(test, odd)


def test_the_sdk_waits_for_a_keygen_as_long_as_the_api_lets_it_run():
    assert KEYGEN_TIMEOUT_MAX == validation.TIMEOUT_MAX == node_config.MAX_TIMEOUT
    assert KEYGEN_TIMEOUT_MAX > DEFAULT_TIMEOUT


def test_rendering_an_empty_answer_does_not_fail():
    assert _render_fields({}) == ""
