"""Keygen sessions: the seed's ``POST /start`` and ``GET /v1/sessions/{session_id}``."""

from __future__ import annotations

from aiohttp import web

from daemon.api import requests, validation
from daemon.api.http import KEYGEN_TIMEOUT, ok, read_json, service
from daemon.errors import BadRequest, NodeError, SessionFailed, SessionTimeout
from daemon.service import KeygenRequest, SessionView

routes = web.RouteTableDef()


@routes.post("/start")
async def start(request: web.Request) -> web.Response:
    """Keygen among all validators: 202 with the session id, or the result with ?wait=true."""
    validation.only_query(request.query, ("wait",))
    wait = validation.query_flag(request.query.get("wait"), "wait")
    keygen = requests.start(await read_json(request))
    check_all_validators_fit(request, keygen)
    session_id = await service(request).start_keygen(keygen)
    if not wait:
        return ok({"session_id": session_id}, status=202,
                  headers={"Location": f"/v1/sessions/{session_id}"})
    view = await service(request).wait_session(session_id, request.app[KEYGEN_TIMEOUT])
    if view.state == "failed":
        raise session_error(view)
    # Still running after the wait: 202 and the view, so the caller can poll on.
    return ok(view.to_json(), status=200 if view.state == "done" else 202)


@routes.get("/v1/sessions/{session_id}")
async def session(request: web.Request) -> web.Response:
    validation.only_query(request.query, ())
    session_id = validation.session_id(request.match_info["session_id"])
    return ok((await service(request).session(session_id)).to_json())


def check_all_validators_fit(request: web.Request, keygen: KeygenRequest) -> None:
    """A keygen without ``players`` takes every validator: refuse it, saying what to do
    instead, when there are more validators than a session takes."""
    known = service(request).health().get("validators")
    if keygen.players is None and isinstance(known, int) and known > validation.PLAYERS_MAX:
        raise BadRequest(f"this network has {known} validators and a key has at most "
                         f"{validation.PLAYERS_MAX} players: name them with players in POST /v1/keys")


async def wait_done(request: web.Request, session_id: str, timeout: float) -> SessionView:
    """The finished view of a session, or the error it failed with (timeout included)."""
    view = await service(request).wait_session(session_id, timeout)
    if view.state == "failed":
        raise session_error(view)
    if view.state != "done":
        raise SessionTimeout(f"session {session_id} is still {view.state} after {timeout:g} s; "
                             f"follow it at /v1/sessions/{session_id}")
    return view


def session_error(view: SessionView) -> NodeError:
    """The failed session's own error, with the status its type has everywhere
    (``daemon.errors.STATUS_BY_TYPE``); a type it does not know is a 502 session failure."""
    if view.error is None:
        return SessionFailed(f"session {view.session_id} failed")
    return SessionFailed(view.error.message, type=view.error.type)
