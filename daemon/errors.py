"""Errors the node reports to its users, each with the HTTP status and error type it maps to.

Services raise ``NodeError`` subclasses; the HTTP layer turns every one into
``{"error": {"type", "message"}}`` with ``status``. The message is shown to the user,
so it never carries secrets. Anything else escaping a handler is a bug and answers
500 ``internal_error`` without details.
"""

from __future__ import annotations


class NodeError(Exception):
    """A failure with a stable machine-readable ``type`` and an HTTP ``status``."""

    status = 500
    type = "internal_error"

    def __init__(self, message: str, *, type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if type is not None:
            self.type = type

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
