"""Validator-set changes under ``/v1/validators/changes``: propose or approve one, list them,
withdraw one from this node (``DELETE /v1/validators/changes/{id}``).

``POST`` signs this node's approval of adding the given candidates (peers that joined
by hello) and removing the given validators, announces it, and answers 202 with the
proposal and the approvals collected so far: the change enters the ledger once a
quorum of the current validators approved it. Other operators approve the same
proposal by posting the same ``add`` and ``remove`` with its ``nonce``. A node that
runs no ledger answers 409 ``ledger_disabled``.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from daemon.api import validation as v
from daemon.api.http import ok, read_json, service
from daemon.errors import BadRequest, NotFound
from daemon.service import ValidatorChangeRequest
from ledger.txs import MAX_CHANGE_ITEMS, MAX_NONCE_BYTES

routes = web.RouteTableDef()

CHANGE_FIELDS = ("add", "remove", "nonce")
NONCE_PATTERN = f"^([0-9a-fA-F]{{2}}){{1,{MAX_NONCE_BYTES}}}$"
#: a change's id: SHA-256 in lowercase hex
CHANGE_ID_PATTERN = "^[0-9a-f]{64}$"


def change_request(body: dict[str, Any]) -> ValidatorChangeRequest:
    """The body's shape: lists of distinct peer ids, at least one change, an optional hex nonce."""
    v.only_fields(body, CHANGE_FIELDS)
    add = _peer_ids(body.get("add", []), "add")
    remove = _peer_ids(body.get("remove", []), "remove")
    if not add and not remove:
        raise BadRequest("a change needs at least one peer id in add or remove")
    if set(add) & set(remove):
        raise BadRequest("a peer id cannot be both added and removed")
    nonce = None
    if "nonce" in body:
        nonce = v.hex_bytes(body["nonce"], "nonce", max_bytes=MAX_NONCE_BYTES)
        if not nonce:
            raise BadRequest(f"nonce is 1 to {MAX_NONCE_BYTES} bytes in hex")
    return ValidatorChangeRequest(add, remove, nonce)


def _peer_ids(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_CHANGE_ITEMS:
        raise BadRequest(f"{name} must be a list of at most {MAX_CHANGE_ITEMS} peer ids")
    ids = tuple(v.peer_id(item, f"{name}[{i}]") for i, item in enumerate(value))
    if len(set(ids)) != len(ids):
        raise BadRequest(f"{name} must not repeat a peer id")
    return ids


@routes.post("/v1/validators/changes")
async def propose(request: web.Request) -> web.Response:
    v.only_query(request.query, ())
    change = change_request(await read_json(request, required=True))
    return ok(await service(request).propose_validator_change(change), status=202)


@routes.get("/v1/validators/changes")
async def changes(request: web.Request) -> web.Response:
    v.only_query(request.query, ())
    return ok({"changes": await service(request).validator_changes()})


@routes.delete("/v1/validators/changes/{change_id}")
async def withdraw(request: web.Request) -> web.Response:
    v.only_query(request.query, ())
    change_id = request.match_info["change_id"]
    if re.fullmatch(CHANGE_ID_PATTERN.strip("^$"), change_id) is None:
        raise NotFound(f"no validator change {change_id[:64]!r}: an id is 64 lowercase hex digits")
    return ok(await service(request).withdraw_validator_change(change_id))
