"""Errors the node reports to its users, each with the HTTP status and error type it maps to.

Services raise ``NodeError`` subclasses; the HTTP layer turns every one into
``{"error": {"type", "message"}}`` with ``status``. The message is shown to the user,
so it never carries secrets. Anything else escaping a handler is a bug and answers
500 ``internal_error`` without details.
"""

from __future__ import annotations

#: every error type the node reports, and the one HTTP status it always answers with,
#: whoever raised it (this node, or a peer whose refusal carried it back)
STATUS_BY_TYPE = {
    "bad_request": 400,
    "invalid_transaction": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "ers_export_disabled": 403,
    "ers_key_not_allowed": 403,
    "not_found": 404,
    "key_id_not_exists": 404,
    "session_not_exists": 404,
    "validator_not_exists": 404,
    "block_not_exists": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "key_id_exists": 409,
    "transaction_exists": 409,
    "ledger_disabled": 409,
    "not_a_key_holder": 409,
    "not_a_validator": 409,
    "pool_full": 409,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "internal_error": 500,
    "sealed_record_invalid": 500,
    "session_failed": 502,
    "session_blame": 502,
    "session_refused": 502,
    "bad_proposal": 502,
    "admission_failed": 502,
    "presignature_missing": 502,
    "worker_failed": 502,
    "unavailable": 503,
    "peer_unreachable": 503,
    "no_primes": 503,
    "busy": 503,
    "session_timeout": 504,
}


def status_of(error_type: str, default: int) -> int:
    """The HTTP status of ``error_type``; ``default`` for a type this table does not know."""
    return STATUS_BY_TYPE.get(error_type, default)


class NodeError(Exception):
    """A failure with a stable machine-readable ``type`` and an HTTP ``status``.

    The status comes from ``STATUS_BY_TYPE`` whenever it knows the type, so
    ``SessionFailed(..., type="peer_unreachable")`` answers 503 like ``Unavailable`` does;
    the class's own status is the default for a type the table does not know.
    """

    status = 500
    type = "internal_error"

    def __init__(self, message: str, *, type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if type is not None:
            self.type = type
        self.status = status_of(self.type, self.status)

    def to_json(self) -> dict:
        return {"error": {"type": self.type, "message": self.message}}


class BadRequest(NodeError):
    """The request is malformed or its values are out of range; nothing was changed."""

    status = 400
    type = "bad_request"


class Unauthorized(NodeError):
    status = 401
    type = "unauthorized"


class Forbidden(NodeError):
    status = 403
    type = "forbidden"


class NotFound(NodeError):
    status = 404
    type = "not_found"


class Conflict(NodeError):
    """The request is valid but the node's state does not allow it now."""

    status = 409
    type = "conflict"


class PayloadTooLarge(NodeError):
    status = 413
    type = "payload_too_large"


class Unavailable(NodeError):
    """Peers needed for the operation are unreachable, or the node is shutting down."""

    status = 503
    type = "unavailable"


class SessionFailed(NodeError):
    """A multi-party session ended without a result (a blame, a timeout, a peer's refusal)."""

    status = 502
    type = "session_failed"


class SessionTimeout(SessionFailed):
    status = 504
    type = "session_timeout"


def key_not_found(key_id: str) -> NotFound:
    return NotFound(f"no key with id {key_id!r} on this node", type="key_id_not_exists")


def session_not_found(session_id: str) -> NotFound:
    return NotFound(f"no session with id {session_id!r}", type="session_not_exists")
