"""Generated good and bad requests for every operation of /openapi.json (schemathesis).

No answer is a 5xx, every 4xx has the error shape, every answer matches the document,
and a 4xx never changed the service's state. The example count is bounded so the
suite stays fast.
"""

import asyncio

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from daemon.api.openapi import build_openapi
from daemon.service import KeygenRequest
from tests.daemon.api.fake_service import FakeService
from tests.daemon.api.support import AUTH, LiveServer

schema = schemathesis.openapi.from_dict(build_openapi())
schema.config.generation.update(modes=["positive", "negative"], max_examples=25)


@pytest.fixture(scope="module")
def server():
    fake = FakeService()
    with LiveServer(fake) as live:
        # The document's example key id exists, so examples reach signing and derivation.
        asyncio.run(fake.start_keygen(KeygenRequest(scheme="ecdsa", threshold=1, key_id="treasury-1")))
        yield live


@schema.parametrize()
@settings(max_examples=25, suppress_health_check=list(HealthCheck), deadline=None)
def test_generated_requests_never_fail_the_node(case, server):
    before = server.fake.mutations
    response = case.call(base_url=server.url, headers=AUTH)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance,
                                              content_type_conformance, status_code_conformance])
    if 400 <= response.status_code < 500:
        error = response.json()["error"]
        assert set(error) == {"type", "message"} and error["type"] and error["message"]
        assert server.fake.mutations == before, "a refused request changed the service's state"
