"""/openapi.json is a valid OpenAPI document that describes exactly the app's endpoints."""

import re

from openapi_spec_validator import validate

from daemon.api import validation as v
from daemon.api.openapi import build_openapi
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
