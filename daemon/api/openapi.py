"""The OpenAPI 3.0 document of the node's HTTP API, served at ``GET /openapi.json``."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from daemon.api import routes_ledger as ledger
from daemon.api import validation as v
from daemon.api.openapi_schemas import SCHEMAS, ref
from daemon.api.routes_validators import CHANGE_ID_PATTERN

_ERROR_TEXT = {
    400: "malformed or out-of-range input; nothing was changed",
    401: "missing or wrong API key",
    403: "this node does not allow the operation (e.g. ers_export_disabled)",
    404: "no such key, session, validator, block or endpoint (e.g. key_id_not_exists)",
    405: "method not allowed on this path",
    409: "the node's state does not allow this now (e.g. ledger_disabled: it runs no ledger)",
    413: "the body is larger than the node accepts",
    500: "internal error (a bug; the node logged it)",
    502: "the multi-party session failed (a blame or a peer's refusal)",
    503: "peers needed for this are unreachable, or the ledger is not running",
    504: "the session did not finish in time",
}
_ALWAYS = (401, 405, 500)


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _op(op_id: str, summary: str, ok: dict[int, dict], errors: tuple[int, ...] = (),
        *, body: str | None = None, body_required: bool = True, params: list | None = None,
        public: bool = False) -> dict:
    responses = {str(status): answer for status, answer in ok.items()}
    codes = set(errors) | ({400, 413} if body else set()) | ({400} if params else set())
    codes |= set(_ALWAYS) - ({401} if public else set())
    for status in sorted(codes):
        responses[str(status)] = _json(ref("Error"), _ERROR_TEXT[status])
    operation = {"operationId": op_id, "summary": summary, "responses": responses}
    if body:
        operation["requestBody"] = {"required": body_required,
                                    "content": {"application/json": {"schema": ref(body)}}}
    if params:
        operation["parameters"] = params
    if public:
        operation["security"] = []
    return operation


def _path_param(name: str, pattern: str, description: str, example: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "pattern": pattern}, "example": example}


def _query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


_KEY_ID = _path_param("key_id", v.KEY_ID_PATTERN, "the key's id", "treasury-1")
_ROUND_ID = _query("roundId", {"type": "string", "pattern": v.ROUND_ID_PATTERN}, "the round", required=True)
_NO_CONTENT = {"description": "done; no body"}
#: ?id= of /direct-message: a validator index in digits, or a peer id
_DIRECT_ID_PATTERN = f"^([0-9]{{1,{len(str(v.PLAYER_INDEX_MAX))}}}|{v.PEER_ID_PATTERN.strip('^$')})$"


def _paths() -> dict:
    key_ops = (404, 409, 502, 503, 504)
    return {
        "/start": {"post": _op(
            "start", f"Keygen among all validators (the seed's endpoint; at most {v.PLAYERS_MAX} of "
                     "them: a larger network names its players in POST /v1/keys)",
            {202: _json({"oneOf": [ref("SessionStarted"), ref("SessionView")]},
                        "started (session id), or with wait=true still running after the wait"),
             200: _json(ref("SessionView"), "with wait=true: the finished session")},
            (409, 502, 503, 504), body="StartRequest", body_required=False,
            params=[_query("wait", {"type": "boolean", "default": False},
                           "wait for the keygen to finish before answering")])},
        "/v1/sessions/{session_id}": {"get": _op(
            "getSession", "A session's state; key_id and public_key once a keygen is done",
            {200: _json(ref("SessionView"), "the session")}, (404,),
            params=[_path_param("session_id", v.SESSION_ID_PATTERN, "the session's id",
                                 "0123456789abcdef0123456789abcdef")])},
        "/validators": {"get": _op(
            "listValidators", "The validator set, in index order, and the candidates (joined by "
                              "hello, not validators until an approved change adds them)",
            {200: _json({"type": "object", "required": ["validators"], "additionalProperties": False,
                         "properties": {"validators": {"type": "array", "items": ref("ValidatorView")},
                                        "candidates": {"type": "array", "items": ref("CandidateView")}}},
                        "the validators")})},
        "/v1/validators/changes": {
            "post": _op("proposeValidatorChange",
                        "Approve a validator-set change (adding candidates, removing validators) and "
                        "announce the approval; it enters the ledger once a quorum approved it",
                        {202: _json(ref("ValidatorChangeProposal"), "approved here; the approvals so far")},
                        (409, 503), body="ValidatorChangeRequest"),
            "get": _op("listValidatorChanges", "Validator-set changes proposed, oldest first",
                       {200: _json({"type": "object", "required": ["changes"], "additionalProperties": False,
                                    "properties": {"changes": {"type": "array",
                                                               "items": ref("ValidatorChangeProposal")}}},
                                   "the proposals")}, (409,)),
        },
        "/v1/validators/changes/{change_id}": {"delete": _op(
            "withdrawValidatorChange", "Withdraw a validator-set change from this node: it stops "
                                       "announcing and submitting it (other nodes keep theirs)",
            {200: _json(ref("ValidatorChangeProposal"), "withdrawn; the proposal as it was")}, (404, 409),
            params=[_path_param("change_id", CHANGE_ID_PATTERN, "the change's id", "ab" * 32)])},
        "/broadcast": {"post": _op(
            "broadcast", "Post a round message to every validator (kept here too)",
            {200: _json(ref("MailboxSent"), "sent")}, (503,), body="MailboxPost")},
        "/direct-message": {"post": _op(
            "directMessage", "Post a round message to one validator",
            {200: _json(ref("MailboxSent"), "sent")}, (503,), body="MailboxPost",
            params=[_query("id", {"type": "string", "pattern": _DIRECT_ID_PATTERN},
                           "the validator: an index as GET /validators lists it, or a peer id", True)])},
        "/get-message": {"get": _op(
            "getMessages", "Round messages broadcast to this node, oldest first",
            {200: _json(ref("RoundMessages"), "the messages")}, params=[_ROUND_ID])},
        "/get-direct-message": {"get": _op(
            "getDirectMessages", "Round messages sent directly to this node, oldest first",
            {200: _json(ref("RoundMessages"), "the messages")}, params=[_ROUND_ID])},
        "/v1/keys": {
            "post": _op("createKey", "Generate a threshold key and wait for it",
                        {201: _json({"anyOf": [ref("KeyView"), ref("CoordinatedKey")]},
                                    "the new key (CoordinatedKey when players left this node out)")},
                        (404, 409, 502, 503, 504),
                        body="KeygenRequest"),
            "get": _op("listKeys", "Keys this node holds a share of",
                       {200: _json({"type": "object", "required": ["keys"], "additionalProperties": False,
                                    "properties": {"keys": {"type": "array", "items": ref("KeyView")}}},
                                   "the keys")}),
        },
        "/v1/keys/{key_id}": {"get": _op(
            "getKey", "One key", {200: _json(ref("KeyView"), "the key")}, (404,), params=[_KEY_ID])},
        "/v1/keys/{key_id}/public-key": {"get": _op(
            "getPublicKey", "The key's public key, derived along a BIP32 path if given",
            {200: _json(ref("PublicKeyView"), "the public key")}, (404,),
            params=[_KEY_ID, _query("path", {"type": "string", "pattern": v.PATH_PATTERN,
                                             "maxLength": v.PATH_MAX_LEN},
                                    "non-hardened BIP32 path, e.g. m/0/1")])},
        "/v1/keys/{key_id}/sign": {"post": _op(
            "sign", "Sign a message (hashed as asked) or a 32-byte digest",
            {200: _json(ref("SignatureView"), "the signature")}, key_ops,
            body="SignRequest", params=[_KEY_ID])},
        "/v1/keys/{key_id}/presign": {"post": _op(
            "presign", "Generate presignatures into this key's pool (ECDSA)",
            {200: _json(ref("PresignView"), "the pool")}, key_ops,
            body="PresignRequest", body_required=False, params=[_KEY_ID])},
        "/v1/keys/{key_id}/share": {"delete": _op(
            "deleteShare", "Delete this node's share of the key", {204: _NO_CONTENT}, (404, 409),
            params=[_KEY_ID])},
        "/v1/keys/{key_id}/ers/partial": {"post": _op(
            "ersPartial", "This node's share encrypted to an emergency-recovery (ERS) public key, with a "
                          "proof that it is the key's share (403 ers_export_disabled unless the node sets "
                          "enable_ers_export; 403 ers_key_not_allowed unless the ERS key's fingerprint is in "
                          "its ers_allowed_keys)",
            {200: _json(ref("ErsPartialView"), "the partial recovery information")}, (403, 404, 409),
            body="ErsPartialRequest", params=[_KEY_ID])},
        "/v1/ledger/status": {"get": _op(
            "ledgerStatus", "The ledger: chain, height, last block hash, view and validators",
            {200: _json(ref("LedgerStatus"), "the ledger's status")}, (409,))},
        "/v1/ledger/blocks": {"get": _op(
            "ledgerBlocks", "Committed blocks in height order, each with its commit certificate",
            {200: _json(ref("LedgerBlocks"), "up to limit blocks; fewer, or none, at the tip")},
            (409, 503), params=[
                _query("from", {"type": "integer", "minimum": 1, "maximum": ledger.HEIGHT_MAX, "default": 1},
                       "the first height"),
                _query("limit", {"type": "integer", "minimum": ledger.BLOCKS_LIMIT_MIN,
                                 "maximum": ledger.BLOCKS_LIMIT_MAX, "default": ledger.BLOCKS_LIMIT_DEFAULT},
                       "the most blocks to return")])},
        "/v1/ledger/blocks/{height}": {"get": _op(
            "ledgerBlock", "One committed block with its hash and commit certificate",
            {200: _json(ref("LedgerBlock"), "the block")}, (404, 409, 503),
            params=[{"name": "height", "in": "path", "required": True, "description": "the block's height",
                     "schema": {"type": "integer", "minimum": 1, "maximum": ledger.HEIGHT_MAX},
                     "example": 1}])},
        "/healthz": {"get": _op(
            "health", "Liveness (no API key needed)", {200: _json(ref("Health"), "alive")}, public=True)},
        "/metrics": {"get": _op(
            "metrics", "Prometheus metrics",
            {200: {"description": "Prometheus text format",
                   "content": {"text/plain": {"schema": {"type": "string"}}}}})},
        "/openapi.json": {"get": _op(
            "openapi", "This document", {200: _json({"type": "object"}, "the OpenAPI document")})},
    }


def _version() -> str:
    try:
        return version("tssnet")
    except PackageNotFoundError:
        return "0.0.0"


def build_openapi() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "tssnet validator node",
            "version": _version(),
            "description": "Threshold keys held by a network of validators: keygen, signing and "
                           "presigning (CGGMP21 ECDSA, FROST Ed25519 and BIP340), the PBFT ledger that "
                           "records every key, plus the seed project's round-message endpoints. "
                           "Errors are always "
                           '{"error": {"type", "message"}}.',
        },
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "Bearer": {"type": "http", "scheme": "bearer"},
            },
        },
        "security": [{"ApiKey": []}, {"Bearer": []}],
    }
