"""Builds the node's aiohttp application over a ``NodeService``."""

from __future__ import annotations

from aiohttp import web

from daemon.api import (
    routes_ers,
    routes_keys,
    routes_ledger,
    routes_ops,
    routes_seed,
    routes_sessions,
    routes_validators,
)
from daemon.api.auth import check_api_keys
from daemon.api.http import KEYGEN_TIMEOUT, MAX_BODY_BYTES, METRICS, SERVICE
from daemon.api.metrics import ApiMetrics
from daemon.api.middleware import auth_middleware, error_middleware, metrics_middleware
from daemon.service import NodeService

DEFAULT_KEYGEN_TIMEOUT = 180.0


def create_app(service: NodeService, *, api_keys: tuple[str, ...], max_body_bytes: int,
               metrics: ApiMetrics | None = None,
               keygen_timeout: float = DEFAULT_KEYGEN_TIMEOUT) -> web.Application:
    """The API app; raises ValueError without an API key (a node never serves unauthenticated).

    ``keygen_timeout`` bounds how long ``POST /v1/keys`` and ``POST /start?wait=true``
    wait for their session when the request names no timeout.
    """
    keys = check_api_keys(api_keys)
    if max_body_bytes < 1:
        raise ValueError("max_body_bytes must be positive")
    if keygen_timeout <= 0:
        raise ValueError("keygen_timeout must be positive")
    app = web.Application(
        client_max_size=max_body_bytes,
        middlewares=[metrics_middleware, error_middleware, auth_middleware(keys)],
    )
    app[SERVICE] = service
    app[METRICS] = metrics if metrics is not None else ApiMetrics()
    app[MAX_BODY_BYTES] = max_body_bytes
    app[KEYGEN_TIMEOUT] = float(keygen_timeout)
    for module in (routes_sessions, routes_keys, routes_ledger, routes_seed, routes_ops, routes_ers):
        app.router.add_routes(module.routes)
    app.router.add_routes(routes_validators.routes)
    return app
