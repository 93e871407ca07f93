"""POST /v1/keys/{id}/ers/partial over the fake service: 403 unless enabled, 4xx for bad input
(which never reaches the service's state), the answer's shape, and the SDK's call."""

from __future__ import annotations

import json

import pytest

from daemon.client import ApiError, Client
from daemon.service import KeygenRequest
from tests.daemon.api.support import API_KEY, AUTH, LiveServer, run_with_client
from tests.protocol.ers.helpers import ers_public

PATH = "/v1/keys/k1/ers/partial"


def _key() -> dict:
    return ers_public().to_json()


async def _with_key(fake) -> None:
    await fake.start_keygen(KeygenRequest(scheme="eddsa", threshold=1, key_id="k1"))


def _post(body, *, enabled: bool = True, path: str = PATH, raw: bytes | None = None):
    """(status, answer, service calls to ers_partial, state changes) of one request."""
    found = {}

    async def test(client, fake):
        await _with_key(fake)
        fake.ers_export_enabled = enabled
        before = fake.mutations
        data = raw if raw is not None else json.dumps(body).encode()
        response = await client.post(path, data=data, headers=AUTH)
        found.update(status=response.status, answer=await response.json(),
                     calls=[c for c in fake.calls if c[0] == "ers_partial"], changed=fake.mutations - before)
    run_with_client(test)
    return found


def test_a_good_request_answers_the_partial_and_passes_the_key_and_label():
    found = _post({"ers_public_key": _key(), "label": "L1"})
    assert found["status"] == 200, found["answer"]
    assert found["answer"]["partial"]["type"] == "tssnet-ers-partial"
    assert found["calls"] == [("ers_partial", ("k1", _key(), "L1"))]
    assert found["changed"] == 0


def test_a_node_without_ers_export_answers_403():
    found = _post({"ers_public_key": _key(), "label": "L1"}, enabled=False)
    assert found["status"] == 403
    assert found["answer"]["error"]["type"] == "ers_export_disabled"
    assert "enable_ers_export" in found["answer"]["error"]["message"]


def test_an_unknown_key_answers_404():
    found = _post({"ers_public_key": _key(), "label": "L1"}, path="/v1/keys/nope/ers/partial")
    assert found["status"] == 404 and found["answer"]["error"]["type"] == "key_id_not_exists"


def _tampered_key() -> dict:
    key = _key()
    key["s"], key["t"] = key["t"], key["s"]
    return key


BAD = [
    ({"label": "L1"}, "missing ers_public_key"),
    ({"ers_public_key": _key()}, "missing label"),
    ({"ers_public_key": _key(), "label": "L1", "extra": 1}, "unknown field"),
    ({"ers_public_key": "text", "label": "L1"}, "key not an object"),
    ({"ers_public_key": _key(), "label": ""}, "empty label"),
    ({"ers_public_key": _key(), "label": "é" * 129}, "label over 256 bytes"),
    ({"ers_public_key": _key(), "label": 7}, "label not a string"),
    ({"ers_public_key": {}, "label": "L1"}, "empty key"),
    ({"ers_public_key": {**_key(), "n": "zz"}, "label": "L1"}, "key with bad hex"),
    ({"ers_public_key": _tampered_key(), "label": "L1"}, "key whose proof fails"),
    ({"ers_public_key": {**_key(), "version": 9}, "label": "L1"}, "key of another version"),
]


@pytest.mark.parametrize(("body", "why"), BAD, ids=[b[1] for b in BAD])
def test_bad_input_answers_400_and_changes_nothing(body, why):
    found = _post(body)
    assert found["status"] == 400, (why, found["answer"])
    assert found["answer"]["error"]["type"] == "bad_request" and found["answer"]["error"]["message"]
    assert found["changed"] == 0


def test_a_bad_ers_key_is_named_in_the_error():
    found = _post({"ers_public_key": _tampered_key(), "label": "L1"})
    assert "ers_public_key" in found["answer"]["error"]["message"]
    assert "prm" in found["answer"]["error"]["message"]


def test_no_body_or_a_query_is_400():
    assert _post(None, raw=b"")["status"] == 400
    assert _post({"ers_public_key": _key(), "label": "L1"}, path=PATH + "?x=1")["status"] == 400


def test_the_sdk_posts_the_key_object_and_returns_the_partial():
    with LiveServer() as server:
        server.call(_with_key(server.fake))
        client = Client(server.url, API_KEY)
        partial = client.ers_partial("k1", _key(), "L1")
        assert partial["index"] == 1 and partial["key_id"] == "k1"
        assert client.ers_partial("k1", json.dumps(_key()), "L1") == partial
        assert client.ers_partial("k1", ers_public(), "L1") == partial
        server.fake.ers_export_enabled = False
        with pytest.raises(ApiError) as caught:
            client.ers_partial("k1", _key(), "L1")
        assert (caught.value.status, caught.value.type) == (403, "ers_export_disabled")
