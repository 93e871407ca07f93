"""The seed project's endpoints: the validator list and the round-message mailbox."""

from __future__ import annotations

from aiohttp import web

from daemon.api import requests, validation
from daemon.api.http import ok, read_json, service
from daemon.errors import BadRequest

routes = web.RouteTableDef()


@routes.get("/validators")
async def validators(request: web.Request) -> web.Response:
    validation.only_query(request.query, ())
    node = service(request)
    # Candidates joined by hello but are no validators until the ledger adds them.
    return ok({"validators": [v.to_json() for v in await node.validators()],
               "candidates": [c.to_json() for c in await node.candidates()]})


@routes.post("/broadcast")
async def broadcast(request: web.Request) -> web.Response:
    """Sends a round message to every validator (this node keeps its own copy)."""
    validation.only_query(request.query, ())
    post = requests.mailbox_post(await read_json(request, required=True))
    await service(request).post_message(post.round_id, post.message, None)
    return ok({"roundId": post.round_id, "sent": True})


@routes.post("/direct-message")
async def direct_message(request: web.Request) -> web.Response:
    """Sends a round message to one validator, named by index or peer id in ``?id=``."""
    validation.only_query(request.query, ("id",))
    peer = validation.query_player(request.query.get("id"), "id")
    post = requests.mailbox_post(await read_json(request, required=True))
    await service(request).post_message(post.round_id, post.message, peer)
    return ok({"roundId": post.round_id, "sent": True})


@routes.get("/get-message")
async def get_messages(request: web.Request) -> web.Response:
    return await _messages(request, direct=False)


@routes.get("/get-direct-message")
async def get_direct_messages(request: web.Request) -> web.Response:
    return await _messages(request, direct=True)


async def _messages(request: web.Request, *, direct: bool) -> web.Response:
    validation.only_query(request.query, ("roundId",))
    raw = request.query.get("roundId")
    if raw is None:
        raise BadRequest("query parameter roundId is required")
    round_id = validation.round_id(raw)
    found = await service(request).messages(round_id, direct=direct)
    return ok({"roundId": round_id, "messages": [m.to_json() for m in found]})
