"""Generated good and bad requests for every operation of /openapi.json (schemathesis).

No answer is a 5xx, every 4xx has the error shape, every answer matches the document,
and a 4xx never changed the service's state: against the fake service, and (shorter)
against the real one over an in-process cluster, whose stores must stay byte for byte
the same. The example counts are bounded so the suite stays fast.
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
from tests.daemon.api.real_node import RealNode
from tests.daemon.api.support import AUTH, LiveServer

schema = schemathesis.openapi.from_dict(build_openapi())
schema.config.generation.update(modes=["positive", "negative"], max_examples=25)
# The real service (an in-process cluster) gets a short run: every operation with bad
# input, and the read-only ones with good input too (a good keygen or presign would
# run real protocol sessions, which its own tests cover).
# GETs without parameters have no bad input to generate; the other runs cover them.
NO_INPUT = ["/healthz", "/metrics", "/openapi.json", "/validators", "/v1/keys", "/v1/ledger/status"]
real_bad = schemathesis.openapi.from_dict(build_openapi()).exclude(method="GET", path=NO_INPUT)
real_bad.config.generation.update(modes=["negative"], max_examples=5)
real_reads = schemathesis.openapi.from_dict(build_openapi()).include(method="GET")
real_reads.config.generation.update(modes=["positive"], max_examples=5)
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, status_code_conformance]


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
    case.validate_response(response, checks=CHECKS)
    if 400 <= response.status_code < 500:
        _assert_error_shape(response)
        assert server.fake.mutations == before, "a refused request changed the service's state"


@pytest.fixture(scope="module")
def real():
    with RealNode(keys=(KeygenRequest(scheme="eddsa", threshold=1, key_id="treasury-1"),)) as node:
        yield node


@real_bad.parametrize()
@settings(max_examples=5, suppress_health_check=list(HealthCheck), deadline=None)
def test_generated_bad_requests_never_fail_or_change_the_real_node(case, real):
    _call_real(case, real)


@real_reads.parametrize()
@settings(max_examples=5, suppress_health_check=list(HealthCheck), deadline=None)
def test_generated_reads_of_the_real_node_match_the_document(case, real):
    _call_real(case, real)


def _call_real(case, real):
    before = real.stores()
    response = case.call(base_url=real.url, headers=AUTH)
    case.validate_response(response, checks=CHECKS)
    if 400 <= response.status_code < 500 or case.method == "GET":
        assert real.stores() == before, "a refused request or a read changed a node's store"
    if response.status_code >= 400:
        _assert_error_shape(response)
    elif response.status_code == 202 and isinstance(response.json().get("session_id"), str):
        real.settle(response.json()["session_id"])   # the keygen runs on: the next case starts after it


def _assert_error_shape(response):
    error = response.json()["error"]
    assert set(error) == {"type", "message"} and error["type"] and error["message"]
