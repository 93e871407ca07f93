"""One error type, one HTTP status: raised here, carried back by a peer, or read from a session."""

import re
from pathlib import Path

import pytest

import daemon.sessions.workers  # noqa: F401  (loads its NodeError subclass)
import daemon.store.sealed  # noqa: F401  (loads its NodeError subclass)
from daemon.api.middleware import _HTTP_ERROR_TYPES
from daemon.errors import (
    STATUS_BY_TYPE,
    Conflict,
    NodeError,
    NotFound,
    SessionFailed,
    Unavailable,
    key_not_found,
    status_of,
)
from daemon.service import ErrorView
from tests.daemon.api.fake_service import FakeService
from tests.daemon.api.support import AUTH, run_with_client

DAEMON = Path(__file__).resolve().parents[3] / "daemon"
#: where the daemon names an error type in its source
_TYPE_SITES = [
    r'\btype="([a-z_]+)"',
    r'\berror_type="([a-z_]+)"',
    r'^\s*type = "([a-z_]+)"',
    r'\bRefused\("([a-z_]+)"',
    r'_require\((?:[^"()]|"[^"]*"|\([^()]*\))*?,\s*"([a-z_]+)"\)',
]
#: sets and tables of types a peer may pass on (their items are types too)
_TYPE_TABLES = r"^(?:PASSED_ON|REPORTED_ERRORS|_REFUSAL_ERRORS)\s*=\s*\{(.*?)\}\s*$"


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _types_in_source() -> dict[str, str]:
    found = {}
    for path in sorted(DAEMON.rglob("*.py")):
        text = path.read_text()
        names = [m.group(1) for pattern in _TYPE_SITES for m in re.finditer(pattern, text, re.M | re.S)]
        for table in re.finditer(_TYPE_TABLES, text, re.M | re.S):
            names += re.findall(r'"([a-z_]+)"\s*[:,}]', table.group(1) + "}")
        for name in names:
            found.setdefault(name, str(path.relative_to(DAEMON.parent)))
    return found


def test_every_error_type_the_daemon_names_has_one_status():
    found = _types_in_source()
    assert {"peer_unreachable", "key_id_exists", "no_primes", "session_blame"} <= set(found)
    missing = {name: where for name, where in found.items() if name not in STATUS_BY_TYPE}
    assert missing == {}, "add these error types to daemon.errors.STATUS_BY_TYPE"


def test_every_error_class_answers_the_status_of_its_type():
    for cls in [NodeError, *_subclasses(NodeError)]:
        assert STATUS_BY_TYPE[cls.type] == cls.status, cls.__name__
    for status, name in _HTTP_ERROR_TYPES.items():
        assert STATUS_BY_TYPE[name] == status


@pytest.mark.parametrize(("error_type", "status"), [
    ("peer_unreachable", 503), ("key_id_not_exists", 404), ("key_id_exists", 409), ("no_primes", 503),
    ("session_timeout", 504), ("session_blame", 502),
])
def test_a_type_has_its_status_whichever_class_carries_it(error_type, status):
    # Raised here (the class that fits), or passed on by a peer's refusal (a SessionFailed).
    for cls in (SessionFailed, NotFound, Conflict, Unavailable, NodeError):
        assert cls("x", type=error_type).status == status, cls.__name__
    assert status_of(error_type, 502) == status


def test_an_unknown_type_keeps_its_class_status():
    assert SessionFailed("x", type="something_new").status == 502
    assert NotFound("x", type="thing_not_exists").status == 404
    assert key_not_found("k").status == 404
    assert status_of("something_new", 502) == 502


@pytest.mark.parametrize(("error_type", "status"), [
    ("peer_unreachable", 503), ("key_id_exists", 409), ("no_primes", 503), ("key_id_not_exists", 404),
    ("session_blame", 502), ("session_timeout", 504), ("something_new", 502),
])
def test_a_failed_session_answers_the_status_of_its_type_on_every_route(error_type, status):
    fake = FakeService()
    fake.session_outcome = "failed"
    fake.failure = ErrorView(error_type, "it went wrong")

    async def test(client, fake):
        for method, path, body in (("POST", "/start?wait=true", None),
                                   ("POST", "/v1/keys", {"scheme": "ecdsa", "threshold": 1})):
            response = await client.request(method, path, json=body, headers=AUTH)
            assert response.status == status, path
            assert await response.json() == {"error": {"type": error_type, "message": "it went wrong"}}
    run_with_client(test, fake)
