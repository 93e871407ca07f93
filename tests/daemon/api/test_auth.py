"""API keys guard every endpoint but /healthz; a node without a key refuses to serve."""

import pytest

from daemon.api import create_app
from daemon.api.auth import is_authorized
from tests.daemon.api.fake_service import FakeService
from tests.daemon.api.support import API_KEY, run_with_client

SECOND_KEY = "another-key-9876"
PROTECTED = [("GET", "/validators"), ("GET", "/v1/keys"), ("POST", "/v1/keys"), ("POST", "/start"),
             ("GET", "/metrics"), ("GET", "/openapi.json"), ("DELETE", "/v1/keys/k1/share"),
             ("GET", "/no/such/route")]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("headers", [
    {},
    {"X-API-Key": "wrong"},
    {"X-API-Key": API_KEY[:-1]},
    {"X-API-Key": API_KEY + "x"},
    {"Authorization": f"Basic {API_KEY}"},
    {"Authorization": "Bearer "},
    {"Authorization": API_KEY},
], ids=["none", "wrong", "prefix", "longer", "basic", "empty-bearer", "no-scheme"])
def test_missing_or_wrong_keys_are_401_and_reach_nothing(method, path, headers):
    async def test(client, fake):
        response = await client.request(method, path, headers=headers)
        assert response.status == 401
        assert (await response.json())["error"]["type"] == "unauthorized"
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert fake.calls == []
    run_with_client(test)


@pytest.mark.parametrize("headers", [
    {"X-API-Key": API_KEY},
    {"Authorization": f"Bearer {API_KEY}"},
    {"Authorization": f"bearer {API_KEY}"},
    {"X-API-Key": SECOND_KEY},
    {"X-API-Key": "wrong", "Authorization": f"Bearer {SECOND_KEY}"},
])
def test_any_configured_key_in_either_header_is_accepted(headers):
    async def test(client, fake):
        response = await client.get("/validators", headers=headers)
        assert response.status == 200
    run_with_client(test, api_keys=(API_KEY, SECOND_KEY))


def test_healthz_needs_no_key():
    async def test(client, fake):
        assert (await client.get("/healthz")).status == 200
    run_with_client(test)


@pytest.mark.parametrize("keys", [(), ("",), ("  ",), (API_KEY, "")])
def test_create_app_refuses_to_serve_without_a_usable_key(keys):
    with pytest.raises(ValueError):
        create_app(FakeService(), api_keys=keys, max_body_bytes=1024)


def test_every_configured_key_is_compared(monkeypatch):
    compared = []
    import daemon.api.auth as auth

    def spy(a, b):
        compared.append(b)
        return a == b

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    keys = (b"first", b"second", b"third")
    assert is_authorized({"X-API-Key": "first"}, keys)
    # No early exit on the first match: timing does not say which key matched.
    assert compared == list(keys)
