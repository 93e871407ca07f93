"""The layers around every handler, outermost first: metrics, errors, authentication.

* metrics: counts and times each request by route template and final status, and logs
  one line per request (method, route, status, time; never bodies, queries or keys);
* errors: turns every failure into ``{"error": {"type", "message"}}``: a ``NodeError``
  with its own status and type, aiohttp's routing answers (404, 405, 413) with theirs,
  and anything else into 500 ``internal_error``, logged with its traceback;
* auth: refuses requests without a configured API key, except on public paths.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from daemon.api.auth import PUBLIC_PATHS, is_authorized
from daemon.api.http import METRICS, error
from daemon.errors import NodeError

log = logging.getLogger("tssnet.api")

_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_HTTP_ERROR_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def route_template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except asyncio.CancelledError:
        status = 499  # the client went away before the answer (nginx's convention)
        raise
    finally:
        elapsed = time.perf_counter() - started
        method = request.method if request.method in _KNOWN_METHODS else "other"
        route = route_template(request)
        request.app[METRICS].observe(route, method, status, elapsed)
        log.debug("http %s %s -> %d in %.1f ms", method, route, status, elapsed * 1000)


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except NodeError as exc:
        return error(exc.status, exc.type, exc.message)
    except web.HTTPException as exc:
        return _http_exception(request, exc)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("internal error in %s %s", request.method, route_template(request))
        return error(500, "internal_error", "the node failed to answer this request; see its log")


def _http_exception(request: web.Request, exc: web.HTTPException) -> web.StreamResponse:
    if exc.status < 400:
        raise exc
    headers = {name: value for name, value in exc.headers.items() if name.lower() == "allow"}
    if exc.status == 404:
        message = f"no such endpoint: {request.method} {request.path}"
    elif exc.status == 405:
        message = f"{request.method} is not allowed here; allowed: {headers.get('Allow', 'none')}"
    elif exc.status == 413:
        message = "the request body is too large"
    else:
        message = exc.reason
    return error(exc.status, _HTTP_ERROR_TYPES.get(exc.status, "http_error"), message, headers)


def auth_middleware(api_keys: tuple[bytes, ...]):
    @web.middleware
    async def authenticate(request: web.Request, handler) -> web.StreamResponse:
        if request.path not in PUBLIC_PATHS and not is_authorized(request.headers, api_keys):
            return error(401, "unauthorized",
                         "missing or wrong API key: send X-API-Key or Authorization: Bearer",
                         {"WWW-Authenticate": "Bearer"})
        return await handler(request)

    return authenticate
