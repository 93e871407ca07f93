"""Bad input answers 4xx in the one error shape and never reaches the service."""

import json
import logging

import pytest

from daemon.errors import Conflict, Unavailable
from tests.daemon.api.fake_service import FakeService
from tests.daemon.api.support import API_KEY, AUTH, MAX_BODY, run_with_client

KEYGEN = {"scheme": "ecdsa", "threshold": 1}
POST = {"roundId": "r1", "message": "hi"}


def _json(value) -> bytes:
    return json.dumps(value).encode()


BAD_REQUESTS = [
    # (method, path, raw body, why)
    ("POST", "/v1/keys", b"{", "malformed JSON"),
    ("POST", "/v1/keys", b"", "missing body"),
    ("POST", "/v1/keys", b"[1, 2]", "not an object"),
    ("POST", "/v1/keys", b"\xff\xfe", "not UTF-8"),
    ("POST", "/v1/keys", b'{"scheme": "ecdsa", "threshold": NaN}', "NaN"),
    ("POST", "/v1/keys", b'{"scheme": "ecdsa", "threshold": 1, "threshold": 2}', "duplicate field"),
    ("POST", "/v1/keys", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("POST", "/v1/keys", b'{"scheme": "ecdsa", "threshold": 1' + b"0" * 5000 + b"}", "huge integer"),
    ("POST", "/v1/keys", b'{"scheme": "ecdsa", "threshold": 1e400}', "infinite number"),
    ("POST", "/v1/keys", _json({**KEYGEN, "extra": 1}), "unknown field"),
    ("POST", "/v1/keys", _json({"scheme": "ecdsa"}), "missing threshold"),
    ("POST", "/v1/keys", _json({"threshold": 1}), "missing scheme"),
    ("POST", "/v1/keys", _json({**KEYGEN, "threshold": True}), "bool for int"),
    ("POST", "/v1/keys", _json({**KEYGEN, "threshold": "1"}), "string for int"),
    ("POST", "/v1/keys", _json({**KEYGEN, "threshold": 1.5}), "float for int"),
    ("POST", "/v1/keys", _json({**KEYGEN, "threshold": 0}), "threshold too small"),
    ("POST", "/v1/keys", _json({**KEYGEN, "threshold": 32}), "threshold too large"),
    ("POST", "/v1/keys", _json({**KEYGEN, "scheme": "rsa"}), "unknown scheme"),
    ("POST", "/v1/keys", _json({**KEYGEN, "curve": "p256"}), "unknown curve"),
    ("POST", "/v1/keys", _json({"scheme": "eddsa", "curve": "secp256k1", "threshold": 1}), "wrong curve"),
    ("POST", "/v1/keys", _json({**KEYGEN, "players": []}), "no players"),
    ("POST", "/v1/keys", _json({**KEYGEN, "players": [0, 0]}), "repeated player"),
    ("POST", "/v1/keys", _json({**KEYGEN, "players": [-1]}), "negative index"),
    ("POST", "/v1/keys", _json({**KEYGEN, "players": [True, 1]}), "bool player"),
    ("POST", "/v1/keys", _json({**KEYGEN, "players": list(range(33))}), "too many players"),
    ("POST", "/v1/keys", _json({**KEYGEN, "players": ["bad id!"]}), "malformed peer id"),
    ("POST", "/v1/keys", _json({**KEYGEN, "players": "0,1"}), "players not a list"),
    ("POST", "/v1/keys", _json({**KEYGEN, "key_id": ""}), "empty key id"),
    ("POST", "/v1/keys", _json({**KEYGEN, "key_id": "k" * 65}), "long key id"),
    ("POST", "/v1/keys", _json({**KEYGEN, "key_id": "a/b"}), "key id with a slash"),
    ("POST", "/v1/keys", _json({**KEYGEN, "key_id": "key\n"}), "key id with a newline"),
    ("POST", "/v1/keys", _json({**KEYGEN, "key_id": ".hidden"}), "key id with a leading dot"),
    ("POST", "/v1/keys", _json({**KEYGEN, "key_id": "-flag"}), "key id with a leading dash"),
    ("POST", "/v1/keys", _json({**KEYGEN, "players": [64]}), "index past the validator bound"),
    ("POST", "/v1/keys", _json({**KEYGEN, "timeout": 0}), "timeout too small"),
    ("POST", "/v1/keys?wait=true", _json(KEYGEN), "unknown query parameter"),
    ("POST", "/start", _json({"threshold": 0}), "start threshold too small"),
    ("POST", "/start", _json({"players": [0]}), "start takes no players"),
    ("POST", "/start?wait=maybe", b"", "wait not a flag"),
    ("POST", "/v1/keys/k1/sign", _json({"message": "abc", "hash": "sha256"}), "odd hex"),
    ("POST", "/v1/keys/k1/sign", _json({"message": "zz", "hash": "sha256"}), "not hex"),
    ("POST", "/v1/keys/k1/sign", _json({"message": "0x00", "hash": "sha256"}), "0x prefix"),
    ("POST", "/v1/keys/k1/sign", _json({"message": "00"}), "message without hash"),
    ("POST", "/v1/keys/k1/sign", _json({"message": "00", "hash": "md5"}), "unknown hash"),
    ("POST", "/v1/keys/k1/sign", _json({"digest": "00" * 31}), "short digest"),
    ("POST", "/v1/keys/k1/sign", _json({"digest": "00" * 33}), "long digest"),
    ("POST", "/v1/keys/k1/sign", _json({"digest": "00" * 32, "hash": "sha256"}), "digest with hash"),
    ("POST", "/v1/keys/k1/sign", _json({"digest": "00" * 32, "message": "00", "hash": "none"}), "both"),
    ("POST", "/v1/keys/k1/sign", _json({}), "neither message nor digest"),
    ("POST", "/v1/keys/k1/sign", _json({"message": "00" * (64 * 1024 + 1), "hash": "sha256"}), "message too long"),
    ("POST", "/v1/keys/k1/sign", _json({"digest": "00" * 32, "path": "m/0'"}), "hardened path"),
    ("POST", "/v1/keys/k1/sign", _json({"digest": "00" * 32, "path": "m/2147483648"}), "index too big"),
    ("POST", "/v1/keys/k1/sign", _json({"digest": "00" * 32, "path": "0/1"}), "path without m"),
    ("POST", "/v1/keys/k1/sign", _json({"digest": "00" * 32, "path": "m/01"}), "leading zero"),
    ("POST", "/v1/keys/k1/presign", _json({"count": 0}), "count too small"),
    ("POST", "/v1/keys/k1/presign", _json({"count": 101}), "count too large"),
    ("POST", "/v1/keys/k1/presign", _json({"count": True}), "bool count"),
    ("POST", "/v1/keys/bad%20id/presign", b"", "malformed key id in the path"),
    ("GET", "/v1/keys/.hidden", b"", "key id in the path with a leading dot"),
    ("DELETE", "/v1/keys/-k/share", b"", "key id in the path with a leading dash"),
    ("GET", "/v1/keys/k1/public-key?path=m/x", b"", "malformed path"),
    ("GET", "/v1/keys/k1/public-key?path=m/0&path=m/1", b"", "path twice"),
    ("GET", "/v1/sessions/s%0A1", b"", "malformed session id"),
    ("GET", "/v1/sessions/nope", b"", "session id not in the sessions' form"),
    ("GET", "/v1/sessions/" + "A" * 32, b"", "session id in upper case"),
    ("POST", "/broadcast", _json({"roundId": "", "message": "hi"}), "empty round id"),
    ("POST", "/broadcast", _json({"roundId": "r" * 129, "message": "hi"}), "long round id"),
    ("POST", "/broadcast", _json({"roundId": "r\n1", "message": "hi"}), "unprintable round id"),
    ("POST", "/broadcast", _json({"roundId": "r1", "message": 5}), "message not text"),
    ("POST", "/broadcast", _json({"roundId": "r1"}), "missing message"),
    ("POST", "/broadcast", _json({"roundId": "r1", "message": "x" * (64 * 1024 + 1)}), "message too long"),
    ("POST", "/broadcast", _json({"roundId": "r1", "message": "\ud800"}), "lone surrogate"),
    ("POST", "/direct-message", _json(POST), "no id"),
    ("POST", "/direct-message?id=", _json(POST), "empty id"),
    ("POST", "/direct-message?id=bad%20id", _json(POST), "malformed peer id"),
    ("POST", "/direct-message?id=9999999", _json(POST), "index too large"),
    ("POST", "/direct-message?id=64", _json(POST), "index past the validator bound"),
    ("GET", "/get-message", b"", "no round id"),
    ("GET", "/get-direct-message?roundId=" + "r" * 129, b"", "long round id"),
]


@pytest.mark.parametrize(("method", "path", "body", "why"), BAD_REQUESTS, ids=[case[3] for case in BAD_REQUESTS])
def test_bad_input_is_400_and_never_reaches_the_service(method, path, body, why):
    async def test(client, fake):
        response = await client.request(method, path, data=body, headers=AUTH)
        assert response.status == 400, why
        error = (await response.json())["error"]
        assert error["type"] == "bad_request" and error["message"]
        assert fake.calls == []
        assert fake.mutations == 0
    run_with_client(test)


def test_an_oversized_body_is_413():
    async def test(client, fake):
        body = _json({**POST, "message": "x" * MAX_BODY})
        response = await client.post("/broadcast", data=body, headers=AUTH)
        assert response.status == 413
        assert (await response.json())["error"]["type"] == "payload_too_large"
        assert fake.calls == []
    run_with_client(test)


def test_unknown_routes_and_wrong_methods_have_the_error_shape():
    async def test(client, fake):
        response = await client.get("/v2/nothing", headers=AUTH)
        assert response.status == 404
        assert (await response.json())["error"]["type"] == "not_found"
        response = await client.put("/v1/keys", headers=AUTH)
        assert response.status == 405
        assert (await response.json())["error"]["type"] == "method_not_allowed"
        assert "POST" in response.headers["Allow"]
    run_with_client(test)


class _Failing(FakeService):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    async def validators(self):
        raise self.error


@pytest.mark.parametrize(("error", "status", "type_"), [
    (Conflict("a keygen with that id is running"), 409, "conflict"),
    (Unavailable("2 of 3 validators are offline"), 503, "unavailable"),
])
def test_node_errors_map_to_their_status_and_type(error, status, type_):
    async def test(client, fake):
        response = await client.get("/validators", headers=AUTH)
        assert response.status == status
        assert await response.json() == {"error": {"type": type_, "message": error.message}}
    run_with_client(test, fake=_Failing(error))


def test_any_other_exception_is_a_generic_500_logged_with_its_traceback(caplog):
    async def test(client, fake):
        response = await client.get("/validators", headers=AUTH)
        assert response.status == 500
        error = (await response.json())["error"]
        assert error["type"] == "internal_error" and "database at" not in error["message"]

    with caplog.at_level(logging.ERROR, logger="tssnet.api"):
        run_with_client(test, fake=_Failing(RuntimeError("database at /secret/path broke")))
    record = next(r for r in caplog.records if r.name == "tssnet.api")
    assert record.exc_info is not None and "/validators" in record.getMessage()


def test_request_logs_carry_neither_bodies_nor_api_keys(caplog):
    async def test(client, fake):
        await client.post("/broadcast", json={"roundId": "r1", "message": "BODY-SECRET"}, headers=AUTH)
        await client.post("/v1/keys", data=b"{BODY-SECRET", headers={"Authorization": f"Bearer {API_KEY}"})
        await client.get("/v1/keys", headers={"X-API-Key": "wrong-key-SECRET"})

    with caplog.at_level(logging.DEBUG):
        run_with_client(test)
    logged = caplog.text
    assert "/broadcast" in logged
    assert "SECRET" not in logged and API_KEY not in logged


def test_a_keygen_of_every_validator_on_a_network_larger_than_a_session_says_to_name_players():
    fake = FakeService()
    fake.health_facts["validators"] = 40

    async def test(client, fake):
        for path, body in (("/start", None), ("/v1/keys", {"scheme": "ecdsa", "threshold": 1})):
            response = await client.post(path, json=body, headers=AUTH)
            assert response.status == 400
            message = (await response.json())["error"]["message"]
            assert "40 validators" in message and "at most 32" in message and "players" in message
        assert fake.calls == []
        response = await client.post("/v1/keys", json={"scheme": "ecdsa", "threshold": 1, "players": [0, 1]},
                                     headers=AUTH)
        assert response.status == 201
    run_with_client(test, fake)
