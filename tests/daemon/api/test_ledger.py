"""The ledger endpoints: status, pages of blocks, one block; bounds, errors and the schema."""

import jsonschema
import pytest

from daemon.api.openapi import build_openapi
from tests.daemon.api.fake_service import FakeService
from tests.daemon.api.support import AUTH, run_with_client
from tests.daemon.ledger.blocks import block_views


def _ledger_calls(fake: FakeService) -> list:
    return [call for call in fake.calls if call[0].startswith("ledger")]


def test_status_answers_the_services_view():
    async def test(client, fake):
        response = await client.get("/v1/ledger/status", headers=AUTH)
        assert response.status == 200
        body = await response.json()
        assert body["height"] == 3 and body["state"] == "running"
        assert body["last_block_hash"] == block_views()[-1]["hash"]
        assert fake.calls == [("ledger_status", ())]
    run_with_client(test)


def test_blocks_default_to_the_first_twenty_from_height_one():
    async def test(client, fake):
        response = await client.get("/v1/ledger/blocks", headers=AUTH)
        assert response.status == 200
        body = await response.json()
        assert [b["height"] for b in body["blocks"]] == [1, 2, 3]
        assert fake.calls == [("ledger_blocks", (1, 20))]
    run_with_client(test)


def test_blocks_page_from_and_limit():
    async def test(client, fake):
        response = await client.get("/v1/ledger/blocks?from=2&limit=1", headers=AUTH)
        body = await response.json()
        assert [b["height"] for b in body["blocks"]] == [2]
        assert fake.calls == [("ledger_blocks", (2, 1))]
        response = await client.get("/v1/ledger/blocks?from=4&limit=100", headers=AUTH)
        assert (await response.json()) == {"blocks": []}
    run_with_client(test)


def test_one_block_has_its_hash_transactions_and_commit_certificate():
    async def test(client, fake):
        response = await client.get("/v1/ledger/blocks/1", headers=AUTH)
        assert response.status == 200
        block = await response.json()
        assert block == block_views()[0]
        assert block["certificate"]["block_hash"] == block["hash"]
        assert block["certificate"]["height"] == 1
        assert len(block["certificate"]["commits"]) == len(block["certificate"]["signers"]) >= 3
        assert block["transactions"][0]["type"] == "keygen"
        assert block["transactions"][0]["key_id"] == "view-key"
        assert fake.calls == [("ledger_block", (1,))]
    run_with_client(test)


def test_a_block_past_the_tip_is_404_block_not_exists():
    async def test(client, fake):
        response = await client.get("/v1/ledger/blocks/4", headers=AUTH)
        assert response.status == 404
        assert (await response.json())["error"]["type"] == "block_not_exists"
    run_with_client(test)


@pytest.mark.parametrize("query", [
    "limit=0", "limit=101", "limit=-1", "limit=1.5", "limit=", "from=0", "from=abc", "from=1e3",
    "from=9223372036854775808", "from=12345678901234567890", "from=+1", "from=%201",
    "other=1", "limit=1&limit=2",
])
def test_bad_block_queries_are_400_and_never_reach_the_service(query):
    async def test(client, fake):
        response = await client.get(f"/v1/ledger/blocks?{query}", headers=AUTH)
        assert response.status == 400, query
        error = (await response.json())["error"]
        assert error["type"] == "bad_request" and error["message"]
        assert _ledger_calls(fake) == []
    run_with_client(test)


@pytest.mark.parametrize("height", ["0", "-1", "abc", "1.0", "9223372036854775808", "1" * 20, "0x1"])
def test_bad_heights_are_400_and_never_reach_the_service(height):
    async def test(client, fake):
        response = await client.get(f"/v1/ledger/blocks/{height}", headers=AUTH)
        assert response.status == 400, height
        assert _ledger_calls(fake) == []
    run_with_client(test)


@pytest.mark.parametrize("path", ["/v1/ledger/status", "/v1/ledger/blocks", "/v1/ledger/blocks/1"])
def test_a_node_without_a_ledger_answers_409_ledger_disabled(path):
    fake = FakeService()
    fake.ledger_enabled = False

    async def test(client, fake):
        response = await client.get(path, headers=AUTH)
        assert response.status == 409
        assert (await response.json())["error"]["type"] == "ledger_disabled"
    run_with_client(test, fake)


@pytest.mark.parametrize("path", ["/v1/ledger/status", "/v1/ledger/blocks", "/v1/ledger/blocks/1"])
def test_the_ledger_needs_the_api_key(path):
    async def test(client, fake):
        response = await client.get(path)
        assert response.status == 401
        assert fake.calls == []
    run_with_client(test)


def test_real_block_views_match_the_documented_schema():
    schemas = build_openapi()["components"]["schemas"]
    for view in block_views():
        jsonschema.validate(view, schemas["LedgerBlock"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**block_views()[0], "certificate": {}}, schemas["LedgerBlock"])


def test_the_document_bounds_limit_and_heights_as_the_route_does():
    paths = build_openapi()["paths"]
    params = {p["name"]: p["schema"] for p in paths["/v1/ledger/blocks"]["get"]["parameters"]}
    assert (params["limit"]["minimum"], params["limit"]["maximum"], params["limit"]["default"]) == (1, 100, 20)
    assert params["from"]["minimum"] == 1
    block = paths["/v1/ledger/blocks/{height}"]["get"]
    assert {"400", "404", "409"} <= set(block["responses"])
