"""Key management under ``/v1/keys``: keygen, listing, public keys, signing, presigning."""

from __future__ import annotations

from aiohttp import web

from daemon.api import requests, validation
from daemon.api.http import KEYGEN_TIMEOUT, ok, read_json, service
from daemon.api.routes_sessions import check_all_validators_fit, wait_done
from daemon.errors import NotFound
from daemon.service import SCHEMES, KeygenRequest, SessionView

routes = web.RouteTableDef()


def _key_id(request: web.Request) -> str:
    return validation.key_id(request.match_info["key_id"])


@routes.post("/v1/keys")
async def create_key(request: web.Request) -> web.Response:
    """Runs a keygen to the end and answers the new key (201), or the session's error."""
    validation.only_query(request.query, ())
    keygen = requests.keygen(await read_json(request, required=True))
    check_all_validators_fit(request, keygen.request)
    node = service(request)
    session_id = await node.start_keygen(keygen.request)
    view = await wait_done(request, session_id, keygen.timeout or request.app[KEYGEN_TIMEOUT])
    try:
        key = await node.key(view.key_id)
    except NotFound:
        # The players left this node out: it coordinated the keygen but holds no share,
        # so the finished session is all it knows of the key (and GET /v1/keys/{id} is 404 here).
        return ok(_coordinated_key(keygen.request, view), status=201)
    return ok(key.to_json(), status=201, headers={"Location": f"/v1/keys/{key.key_id}"})


def _coordinated_key(asked: KeygenRequest, view: SessionView) -> dict:
    return {"key_id": view.key_id, "scheme": asked.scheme, "curve": asked.curve or SCHEMES[asked.scheme][0],
            "threshold": asked.threshold, "participants": list(view.participants),
            "public_key": view.public_key, "created_at": view.created_at, "session_id": view.session_id,
            "holds_share": False}


@routes.get("/v1/keys")
async def list_keys(request: web.Request) -> web.Response:
    validation.only_query(request.query, ())
    return ok({"keys": [key.to_json() for key in await service(request).keys()]})


@routes.get("/v1/keys/{key_id}")
async def get_key(request: web.Request) -> web.Response:
    validation.only_query(request.query, ())
    return ok((await service(request).key(_key_id(request))).to_json())


@routes.get("/v1/keys/{key_id}/public-key")
async def public_key(request: web.Request) -> web.Response:
    validation.only_query(request.query, ("path",))
    key_id = _key_id(request)
    path = request.query.get("path")
    path = None if path is None else validation.bip32_path(path)
    return ok((await service(request).public_key(key_id, path)).to_json())


@routes.post("/v1/keys/{key_id}/sign")
async def sign(request: web.Request) -> web.Response:
    validation.only_query(request.query, ())
    key_id = _key_id(request)
    sign_request = requests.sign(key_id, await read_json(request, required=True))
    return ok((await service(request).sign(sign_request)).to_json())


@routes.post("/v1/keys/{key_id}/presign")
async def presign(request: web.Request) -> web.Response:
    validation.only_query(request.query, ())
    key_id = _key_id(request)
    asked = requests.presign(await read_json(request))
    return ok((await service(request).presign(key_id, asked.count, asked.players)).to_json())


@routes.delete("/v1/keys/{key_id}/share")
async def delete_share(request: web.Request) -> web.Response:
    validation.only_query(request.query, ())
    await service(request).delete_share(_key_id(request))
    return web.Response(status=204)
