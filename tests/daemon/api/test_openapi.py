"""/openapi.json is a valid OpenAPI document that describes exactly the app's endpoints."""

import re

import pytest
from openapi_spec_validator import validate

from daemon import mailbox
from daemon.api import validation as v
from daemon.api.openapi import build_openapi
from daemon.errors import BadRequest
from daemon.records import MAX_PARTICIPANTS, valid_key_id, valid_session_id
from daemon.sessions.messages import MAX_MESSAGE as SESSION_MESSAGE_MAX
from daemon.validators import MAX_VALIDATORS
from protocol.frost.sign import MAX_MESSAGE as FROST_MESSAGE_MAX
from tests.daemon.api.fake_service import FakeService
from tests.daemon.api.support import AUTH, make_app, run_with_client

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _served_document():
    found = {}

    async def test(client, fake):
        response = await client.get("/openapi.json", headers=AUTH)
        assert response.status == 200
        found["document"] = await response.json()
    run_with_client(test)
    return found["document"]


def test_the_served_document_is_valid_openapi():
    document = _served_document()
    validate(document)
    assert document == build_openapi()


def test_every_route_of_the_app_is_documented_and_nothing_else():
    app = make_app(FakeService())
    served = set()
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        served.add((route.method.lower(), route.resource.canonical))
    documented = {(method, path) for path, item in build_openapi()["paths"].items() for method in item}
    assert served == documented


def test_every_operation_documents_its_errors_in_the_error_shape():
    document = build_openapi()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), (method, path)
            errors = {code: answer for code, answer in responses.items() if code[0] in "45"}
            assert {"405", "500"} <= set(errors), (method, path)
            if path != "/healthz":
                assert "401" in errors, (method, path)
            if "requestBody" in operation:
                assert {"400", "413"} <= set(errors), (method, path)
            for answer in errors.values():
                assert answer["content"]["application/json"]["schema"] == ERROR_REF
    assert document["paths"]["/healthz"]["get"]["security"] == []
    error = document["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["type", "message"]


def test_request_schemas_publish_the_bounds_the_api_enforces():
    schemas = build_openapi()["components"]["schemas"]
    keygen = schemas["KeygenRequest"]
    assert keygen["additionalProperties"] is False
    assert (keygen["properties"]["threshold"]["minimum"], keygen["properties"]["threshold"]["maximum"]) == (1, 31)
    players = keygen["properties"]["players"]
    assert players["maxItems"] == v.PLAYERS_MAX and players["uniqueItems"] is True
    assert keygen["properties"]["key_id"]["pattern"] == v.KEY_ID_PATTERN
    sign = schemas["SignRequest"]["properties"]
    assert sign["message"]["maxLength"] == 2 * 64 * 1024
    assert sign["digest"]["minLength"] == sign["digest"]["maxLength"] == 64
    assert sign["hash"]["enum"] == ["sha256", "sha256d", "keccak256", "none"]
    presign = schemas["PresignRequest"]["properties"]["count"]
    assert (presign["minimum"], presign["maximum"]) == (1, 100)
    post = schemas["MailboxPost"]["properties"]
    assert post["message"]["maxLength"] == 64 * 1024
    assert re.fullmatch(post["roundId"]["pattern"].strip("^$"), "round 1")
    assert not re.fullmatch(post["roundId"]["pattern"].strip("^$"), "r" * 129)


def test_player_bounds_are_the_services_own():
    schemas = build_openapi()["components"]["schemas"]
    keygen = schemas["KeygenRequest"]["properties"]
    assert keygen["players"]["maxItems"] == MAX_PARTICIPANTS
    assert keygen["threshold"]["maximum"] == MAX_PARTICIPANTS - 1
    index = keygen["players"]["items"]["oneOf"][0]
    assert index["maximum"] == MAX_VALIDATORS - 1
    start = build_openapi()["paths"]["/start"]["post"]["summary"]
    assert f"at most {MAX_PARTICIPANTS}" in start and "players" in start


def test_the_sign_message_limit_is_no_larger_than_the_protocols_take():
    assert min(FROST_MESSAGE_MAX, SESSION_MESSAGE_MAX) >= v.MESSAGE_MAX_BYTES
    sign = build_openapi()["components"]["schemas"]["SignRequest"]["properties"]
    assert sign["message"]["maxLength"] == 2 * v.MESSAGE_MAX_BYTES


@pytest.mark.parametrize("key_id", ["k1", "treasury.1", "A-b_c", "9", "k" * 64, ".hidden", "-flag", "_x",
                                    "k" * 65, "a/b", "", "key\n", "é"])
def test_the_key_id_rule_is_the_stores_in_the_checks_and_the_document(key_id):
    documented = re.fullmatch(build_openapi()["components"]["schemas"]["KeygenRequest"]
                              ["properties"]["key_id"]["pattern"].strip("^$"), key_id) is not None
    try:
        v.key_id(key_id)
        accepted = True
    except BadRequest:
        accepted = False
    assert accepted == documented == valid_key_id(key_id)


def test_the_round_id_rule_is_the_mailboxs():
    assert v.ROUND_ID_PATTERN == mailbox.ROUND_ID_PATTERN
    assert v.MAILBOX_MESSAGE_MAX_BYTES == mailbox.MESSAGE_MAX_BYTES


@pytest.mark.parametrize("session_id", ["0123456789abcdef" * 2, "f" * 32, "F" * 32, "0" * 31, "0" * 33, "s1",
                                        "g" * 32, ""])
def test_the_session_id_rule_is_the_sessions_in_the_checks_and_the_document(session_id):
    documented = re.fullmatch(v.SESSION_ID_PATTERN.strip("^$"), session_id) is not None
    try:
        v.session_id(session_id)
        accepted = True
    except BadRequest:
        accepted = False
    assert accepted == documented == valid_session_id(session_id)
