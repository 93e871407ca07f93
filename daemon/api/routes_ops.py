"""Operations endpoints: liveness, Prometheus metrics and the OpenAPI document."""

from __future__ import annotations

import json

from aiohttp import web

from daemon.api import validation
from daemon.api.http import METRICS, ok, service
from daemon.api.openapi import build_openapi

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return ok(service(request).health())


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    validation.only_query(request.query, ())
    registry = request.app[METRICS]
    return web.Response(body=registry.render(), headers={"Content-Type": registry.content_type})


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    validation.only_query(request.query, ())
    return web.Response(text=_DOCUMENT, content_type="application/json")


_DOCUMENT = json.dumps(build_openapi(), indent=1)
