"""Emergency recovery under ``/v1/keys/{key_id}/ers``: this node's partial recovery information."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from daemon.api import validation
from daemon.api.http import ok, read_json, service
from daemon.errors import BadRequest
from protocol.ers.statement import LABEL_MAX_BYTES

routes = web.RouteTableDef()


def label(value: Any) -> str:
    """1..LABEL_MAX_BYTES bytes of UTF-8 text."""
    text = validation.text(value, "label")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadRequest("label must be valid Unicode text") from None
    if not 1 <= size <= LABEL_MAX_BYTES:
        raise BadRequest(f"label must be 1 to {LABEL_MAX_BYTES} bytes of UTF-8, not {size}")
    return text


def ers_partial_request(body: dict[str, Any]) -> tuple[dict, str]:
    validation.only_fields(body, ("ers_public_key", "label"), ("ers_public_key", "label"))
    key = body["ers_public_key"]
    if not isinstance(key, dict):
        raise BadRequest("ers_public_key must be the JSON object of ers_public.json")
    return key, label(body["label"])


@routes.post("/v1/keys/{key_id}/ers/partial")
async def ers_partial(request: web.Request) -> web.Response:
    """This node's share encrypted to the ERS key, with its proof (403 unless the node enables it)."""
    validation.only_query(request.query, ())
    key_id = validation.key_id(request.match_info["key_id"])
    ers_public_key, text = ers_partial_request(await read_json(request, required=True))
    return ok({"partial": await service(request).ers_partial(key_id, ers_public_key, text)})
