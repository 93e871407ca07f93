"""Emergency recovery under ``/v1/keys/{key_id}/ers``: this node's partial recovery information."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from daemon.api import validation
from daemon.api.http import ok, read_json, service
from daemon.errors import BadRequest
from protocol.ers.errors import MalformedErsData
from protocol.ers.statement import check_label

routes = web.RouteTableDef()


def ers_partial_request(body: dict[str, Any]) -> tuple[dict, str]:
    validation.only_fields(body, ("ers_public_key", "label"), ("ers_public_key", "label"))
    key = body["ers_public_key"]
    if not isinstance(key, dict):
        raise BadRequest("ers_public_key must be the JSON object of ers_public.json")
    try:
        return key, check_label(body["label"])
    except MalformedErsData as exc:
        raise BadRequest(exc.message) from None


@routes.post("/v1/keys/{key_id}/ers/partial")
async def ers_partial(request: web.Request) -> web.Response:
    """This node's share encrypted to the ERS key, with its proof (403 unless the node enables it
    and lists the ERS key in ers_allowed_keys)."""
    validation.only_query(request.query, ())
    key_id = validation.key_id(request.match_info["key_id"])
    ers_public_key, text = ers_partial_request(await read_json(request, required=True))
    return ok({"partial": await service(request).ers_partial(key_id, ers_public_key, text)})
