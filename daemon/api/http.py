"""Small pieces every route module uses: the app keys, body reading, JSON answers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from daemon.api.metrics import ApiMetrics
from daemon.api.validation import parse_json_body
from daemon.errors import PayloadTooLarge
from daemon.service import NodeService

SERVICE = web.AppKey("service", NodeService)
METRICS = web.AppKey("metrics", ApiMetrics)
MAX_BODY_BYTES = web.AppKey("max_body_bytes", int)
#: seconds a waiting request (POST /v1/keys, POST /start?wait=true) waits for its session
KEYGEN_TIMEOUT = web.AppKey("keygen_timeout", float)


def service(request: web.Request) -> NodeService:
    return request.app[SERVICE]


async def read_json(request: web.Request, *, required: bool = False) -> dict[str, Any]:
    """The request's JSON object; the content type is not checked, so a bare ``curl -d`` works."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(
            f"the body is larger than {request.app[MAX_BODY_BYTES]} bytes") from None
    return parse_json_body(raw, required=required)


def ok(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(data), content_type="application/json",
                        headers=headers)


def error(status: int, type_: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return ok({"error": {"type": type_, "message": message}}, status, headers)
