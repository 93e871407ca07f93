"""The PBFT ledger under ``/v1/ledger``: its status and its committed blocks.

Every block comes with its hash and commit certificate (the signed commits of a
quorum of validators), so a reader can check it without trusting this node.
A node that runs no ledger answers 409 ``ledger_disabled``.
"""

from __future__ import annotations

import re

from aiohttp import web

from daemon.api import validation
from daemon.api.http import ok, service
from daemon.errors import BadRequest

routes = web.RouteTableDef()

HEIGHT_MAX = 2**63 - 1
HEIGHT_PATTERN = r"^[0-9]{1,19}$"
BLOCKS_LIMIT_MIN, BLOCKS_LIMIT_MAX, BLOCKS_LIMIT_DEFAULT = 1, 100, 20
_DIGITS = re.compile(HEIGHT_PATTERN)


def _count(value: str | None, name: str, low: int, high: int, default: int) -> int:
    """A decimal query or path value in [low, high]; ``default`` when absent."""
    if value is None:
        return default
    if not _DIGITS.fullmatch(value):
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    return validation.integer(int(value), name, low, high)


@routes.get("/v1/ledger/status")
async def status(request: web.Request) -> web.Response:
    validation.only_query(request.query, ())
    return ok(await service(request).ledger_status())


@routes.get("/v1/ledger/blocks")
async def blocks(request: web.Request) -> web.Response:
    """Blocks ``from`` (default 1) on, at most ``limit`` (default 20) of them, oldest first."""
    validation.only_query(request.query, ("from", "limit"))
    start = _count(request.query.get("from"), "from", 1, HEIGHT_MAX, 1)
    limit = _count(request.query.get("limit"), "limit", BLOCKS_LIMIT_MIN, BLOCKS_LIMIT_MAX,
                   BLOCKS_LIMIT_DEFAULT)
    return ok({"blocks": await service(request).ledger_blocks(start, limit)})


@routes.get("/v1/ledger/blocks/{height}")
async def block(request: web.Request) -> web.Response:
    validation.only_query(request.query, ())
    height = _count(request.match_info["height"], "height", 1, HEIGHT_MAX, 0)
    return ok(await service(request).ledger_block(height))
