"""Each endpoint with good input: what the service receives and what the caller gets back."""

from daemon.api import ApiMetrics
from daemon.service import KeygenRequest, SignRequest
from tests.daemon.api.fake_service import PEERS, FakeService, session_id_of
from tests.daemon.api.support import AUTH, run_with_client

S1 = session_id_of(1)


async def _keygen(client, **body):
    response = await client.post("/v1/keys", json={"scheme": "ecdsa", "threshold": 1, **body}, headers=AUTH)
    assert response.status == 201, await response.text()
    return await response.json()


def test_start_answers_202_with_the_session_id_at_once():
    async def test(client, fake):
        response = await client.post("/start", headers=AUTH)
        assert response.status == 202
        body = await response.json()
        assert body == {"session_id": S1}
        assert response.headers["Location"] == f"/v1/sessions/{S1}"
        assert fake.calls == [("start_keygen", (KeygenRequest(scheme="ecdsa"),))]
    run_with_client(test)


def test_start_with_wait_answers_the_finished_session():
    async def test(client, fake):
        response = await client.post("/start?wait=true", json={"scheme": "eddsa", "threshold": 1}, headers=AUTH)
        assert response.status == 200
        view = await response.json()
        assert view["state"] == "done" and view["key_id"] and view["public_key"]
        assert fake.calls[0] == ("start_keygen", (KeygenRequest(scheme="eddsa", threshold=1),))
        assert fake.calls[1][0] == "wait_session"
    run_with_client(test)


def test_start_with_wait_answers_202_while_the_session_still_runs():
    async def test(client, fake):
        fake.session_outcome = "running"
        response = await client.post("/start?wait=1", headers=AUTH)
        assert response.status == 202
        assert (await response.json())["state"] == "running"
    run_with_client(test)


def test_a_failed_session_answers_its_error_with_the_status_of_its_type():
    async def test(client, fake):
        fake.session_outcome = "failed"
        response = await client.post("/start?wait=true", headers=AUTH)
        assert response.status == 504
        assert await response.json() == {"error": {"type": "session_timeout",
                                                   "message": "party 2 did not answer in 60 s"}}
        response = await client.post("/v1/keys", json={"scheme": "ecdsa", "threshold": 1}, headers=AUTH)
        assert response.status == 504
    run_with_client(test)


def test_keygen_that_outlasts_its_wait_is_a_session_timeout_naming_the_session():
    async def test(client, fake):
        fake.session_outcome = "running"
        response = await client.post("/v1/keys", json={"scheme": "ecdsa", "threshold": 1, "timeout": 5},
                                     headers=AUTH)
        assert response.status == 504
        error = (await response.json())["error"]
        assert error["type"] == "session_timeout" and f"/v1/sessions/{S1}" in error["message"]
        assert ("wait_session", (S1, 5.0)) in fake.calls
    run_with_client(test)


def test_session_view():
    async def test(client, fake):
        session_id = (await (await client.post("/start", headers=AUTH)).json())["session_id"]
        response = await client.get(f"/v1/sessions/{session_id}", headers=AUTH)
        assert response.status == 200
        assert (await response.json())["session_id"] == session_id
        missing = await client.get(f"/v1/sessions/{'f' * 32}", headers=AUTH)
        assert missing.status == 404
        assert (await missing.json())["error"]["type"] == "session_not_exists"
    run_with_client(test)


def test_keygen_passes_every_field_and_answers_201_with_the_key():
    async def test(client, fake):
        key = await _keygen(client, curve="secp256k1", players=[0, PEERS[2]], key_id="treasury.1")
        assert key["key_id"] == "treasury.1" and key["participants"] == [PEERS[0], PEERS[2]]
        assert fake.calls[0] == ("start_keygen", (KeygenRequest("ecdsa", "secp256k1", 1, (0, PEERS[2]),
                                                                "treasury.1"),))
        assert fake.calls[1] == ("wait_session", (S1, 180.0))
    run_with_client(test)


def test_keys_key_and_public_key():
    async def test(client, fake):
        key = await _keygen(client, key_id="k1")
        listed = await (await client.get("/v1/keys", headers=AUTH)).json()
        assert listed == {"keys": [key]}
        assert await (await client.get("/v1/keys/k1", headers=AUTH)).json() == key
        root = await (await client.get("/v1/keys/k1/public-key", headers=AUTH)).json()
        assert root["public_key"] == key["public_key"]
        derived = await client.get("/v1/keys/k1/public-key?path=m/0/1", headers=AUTH)
        assert (await derived.json())["path"] == "m/0/1"
        assert fake.calls[-1] == ("public_key", ("k1", "m/0/1"))
    run_with_client(test)


def test_sign_a_message_with_a_hash_and_a_digest():
    async def test(client, fake):
        await _keygen(client, key_id="k1")
        response = await client.post("/v1/keys/k1/sign", json={
            "message": "68656c6c6f", "hash": "sha256", "path": "m/7", "players": [0, 1]}, headers=AUTH)
        assert response.status == 200
        signature = await response.json()
        assert set(signature) >= {"key_id", "public_key", "digest", "signature", "recovery_id", "der"}
        assert fake.calls[-1] == ("sign", (SignRequest("k1", b"hello", "sha256", None, "m/7", (0, 1)),))
        response = await client.post("/v1/keys/k1/sign", json={"digest": "ab" * 32}, headers=AUTH)
        assert response.status == 200
        assert fake.calls[-1] == ("sign", (SignRequest("k1", digest=bytes([0xAB]) * 32),))
    run_with_client(test)


def test_presign_and_delete_share():
    async def test(client, fake):
        await _keygen(client, key_id="k1")
        response = await client.post("/v1/keys/k1/presign", headers=AUTH)
        assert response.status == 200
        assert (await response.json())["created"] == 1
        response = await client.post("/v1/keys/k1/presign", json={"count": 3, "players": [1, 2]}, headers=AUTH)
        assert (await response.json())["available"] == 3
        assert fake.calls[-1] == ("presign", ("k1", 3, (1, 2)))
        response = await client.delete("/v1/keys/k1/share", headers=AUTH)
        assert response.status == 204
        gone = await client.get("/v1/keys/k1", headers=AUTH)
        assert gone.status == 404 and (await gone.json())["error"]["type"] == "key_id_not_exists"
    run_with_client(test)


def test_validators():
    async def test(client, fake):
        body = await (await client.get("/validators", headers=AUTH)).json()
        assert [v["peer_id"] for v in body["validators"]] == list(PEERS)
        assert body["validators"][0]["is_self"] is True
    run_with_client(test)


def test_mailbox_broadcast_and_direct_messages():
    async def test(client, fake):
        post = {"roundId": "round 1", "message": "hello everyone"}
        response = await client.post("/broadcast", json=post, headers=AUTH)
        assert response.status == 200 and await response.json() == {"roundId": "round 1", "sent": True}
        response = await client.post("/direct-message?id=2", json={**post, "message": "psst"}, headers=AUTH)
        assert response.status == 200
        response = await client.post(f"/direct-message?id={PEERS[1]}", json=post, headers=AUTH)
        assert response.status == 200
        assert fake.calls[1] == ("post_message", ("round 1", "psst", 2))
        assert fake.calls[2] == ("post_message", ("round 1", "hello everyone", PEERS[1]))
        board = await (await client.get("/get-message", params={"roundId": "round 1"}, headers=AUTH)).json()
        assert board == {"roundId": "round 1",
                         "messages": [{"roundId": "round 1", "from": PEERS[0], "message": "hello everyone"}]}
        direct = await (await client.get("/get-direct-message?roundId=round%201", headers=AUTH)).json()
        assert [m["message"] for m in direct["messages"]] == ["psst", "hello everyone"]
    run_with_client(test)


def test_healthz_and_openapi():
    async def test(client, fake):
        health = await client.get("/healthz")
        assert health.status == 200 and (await health.json())["peer_id"] == PEERS[0]
        document = await (await client.get("/openapi.json", headers=AUTH)).json()
        assert document["openapi"].startswith("3.")
    run_with_client(test)


def test_metrics_count_requests_by_route_template_and_status_and_include_service_numbers():
    metrics = ApiMetrics(service_metrics=lambda: {"tssnet_validators_online": 3, "bad name": 1})

    async def test(client, fake):
        await client.get("/v1/keys/one", headers=AUTH)
        await client.get("/v1/keys/two", headers=AUTH)
        await client.get("/v1/keys")
        await client.get("/random/path", headers=AUTH)
        response = await client.get("/metrics", headers=AUTH)
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
        assert 'tssnet_http_requests_total{method="GET",route="/v1/keys/{key_id}",status="404"} 2.0' in text
        assert 'route="/v1/keys",status="401"' in text
        assert 'route="unmatched",status="404"' in text
        assert "/random/path" not in text and "/v1/keys/one" not in text
        assert "tssnet_http_request_duration_seconds_bucket" in text
        assert "tssnet_validators_online 3.0" in text and "bad name" not in text
    run_with_client(test, metrics=metrics)


def test_each_app_has_its_own_registry():
    async def test(client, fake):
        text = await (await client.get("/metrics", headers=AUTH)).text()
        assert 'route="/v1/keys"' not in text
    run_with_client(test)
    run_with_client(test, fake=FakeService())


def test_a_failing_service_metrics_callback_leaves_the_request_metrics_served():
    def broken():
        raise RuntimeError("store closed")

    async def test(client, fake):
        response = await client.get("/metrics", headers=AUTH)
        assert response.status == 200
        assert "tssnet_http_requests_total" in await response.text()
    run_with_client(test, metrics=ApiMetrics(service_metrics=broken))
