"""The Python SDK over a node's HTTP API.

    async with AsyncClient("http://127.0.0.1:8001", api_key) as node:
        key = await node.keygen("ecdsa", "secp256k1", 1)
        signature = await node.sign(key["key_id"], message=b"hello", hash="sha256")

    node = Client("http://127.0.0.1:8001", api_key)      # the same, synchronous
    node.validators()

Answers are the JSON objects the API documents (see ``GET /openapi.json``). Bytes
arguments (messages, digests) are hex-encoded for you; a str is sent as given, so it
must already be hex. Every failure raises ``ApiError`` with the node's error type and
message; a node that cannot be reached is ``ApiError(0, "unreachable", ...)``, and an
answer that is not the documented JSON object (or a redirect, which is never followed,
so the API key goes to no other host) is ``ApiError(status, "bad_response", ...)``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from typing import Any
from urllib.parse import quote

import aiohttp

Player = int | str
DEFAULT_TIMEOUT = 300.0
#: the longest keygen wait the API takes (its ``timeout`` field, and the node's keygen_timeout)
KEYGEN_TIMEOUT_MAX = 3600.0
#: how much longer than the node's own wait the client waits for the answer
ANSWER_MARGIN = 30.0


class ApiError(Exception):
    def __init__(self, status: int, type: str, message: str) -> None:
        super().__init__(f"{message} ({type}, HTTP {status})" if status else f"{message} ({type})")
        self.status = status
        self.type = type
        self.message = message


def _hex(value: bytes | str | None) -> str | None:
    return value.hex() if isinstance(value, bytes | bytearray) else value


def _segment(value: str) -> str:
    return quote(str(value), safe="")


def _body(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


class AsyncClient:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"X-API-Key": api_key}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"AsyncClient({self.base_url!r})"

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(self, method: str, path: str, *, json_body: Any = None,
                       params: dict[str, str] | None = None, as_text: bool = False,
                       timeout: float | None = None) -> Any:
        """The node's JSON object (``as_text``: its text); ``timeout`` overrides the client's."""
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        # (aiohttp reads timeout=None as "no timeout": pass one only to override the client's.)
        per_call = {"timeout": aiohttp.ClientTimeout(total=timeout)} if timeout is not None else {}
        try:
            # Never follow a redirect: it would carry the API key to wherever it points.
            async with self._session.request(method, self.base_url + path, json=json_body, params=params,
                                             allow_redirects=False, **per_call) as response:
                text = await response.text()
                status = response.status
                location = response.headers.get("Location", "")
        except TimeoutError:
            raise ApiError(0, "timeout", f"{self.base_url} did not answer in time") from None
        except aiohttp.ClientError as exc:
            raise ApiError(0, "unreachable", f"cannot reach {self.base_url}: {exc}") from None
        if 300 <= status < 400:
            raise ApiError(status, "bad_response",
                           f"the node answered a redirect to {location[:200]!r}; not followed")
        if status == 204:
            return None
        if as_text and status < 400:
            return text
        try:
            data = json.loads(text)
        except ValueError:
            raise ApiError(status, "bad_response", f"the node answered non-JSON: {text[:200]!r}") from None
        if status >= 400:
            error = data.get("error") if isinstance(data, dict) else None
            if not isinstance(error, dict):
                raise ApiError(status, "bad_response", f"the node answered HTTP {status}: {text[:200]!r}")
            raise ApiError(status, str(error.get("type", "error")), str(error.get("message", "")))
        if not isinstance(data, dict):
            raise ApiError(status, "bad_response", f"the node answered JSON that is not an object: {text[:200]!r}")
        return data

    async def _field(self, name: str, method: str, path: str, kind: type, **options: Any) -> Any:
        """One field of the node's answer, which must be there with the documented type."""
        value = (await self._request(method, path, **options)).get(name)
        if not isinstance(value, kind):
            raise ApiError(200, "bad_response", f"the node's answer to {method} {path} has no valid {name!r}")
        return value

    # -- sessions and the seed project's endpoints --

    async def start_keygen(self, scheme: str | None = None, curve: str | None = None,
                           threshold: int | None = None) -> str:
        """Starts a keygen among all validators (``POST /start``); returns the session id."""
        return await self._field("session_id", "POST", "/start", str,
                                 json_body=_body(scheme=scheme, curve=curve, threshold=threshold))

    async def session(self, session_id: str) -> dict:
        return await self._request("GET", f"/v1/sessions/{_segment(session_id)}")

    async def wait_session(self, session_id: str, timeout: float = 180.0, poll: float = 0.5) -> dict:
        """Polls until the session is done or failed; returns its last view either way."""
        deadline = time.monotonic() + timeout
        while True:
            view = await self.session(session_id)
            if view.get("state") in ("done", "failed") or time.monotonic() >= deadline:
                return view
            await asyncio.sleep(poll)

    async def validators(self) -> list[dict]:
        return await self._field("validators", "GET", "/validators", list)

    async def candidates(self) -> list[dict]:
        """Peers that joined by hello but are no validators (with a ledger, until an approved
        validator change adds them)."""
        return await self._field("candidates", "GET", "/validators", list)

    async def propose_validator_change(self, add: list[str] | None = None, remove: list[str] | None = None,
                                       nonce: bytes | str | None = None) -> dict:
        """Approves (with this node's identity) adding candidates and removing validators
        (``POST /v1/validators/changes``); returns the proposal with its approvals so far.
        Pass the ``nonce`` of another node's proposal to approve that one."""
        body = _body(add=list(add) if add is not None else None,
                     remove=list(remove) if remove is not None else None, nonce=_hex(nonce))
        return await self._request("POST", "/v1/validators/changes", json_body=body)

    async def validator_changes(self) -> list[dict]:
        """The validator-set change proposals the node holds (``GET /v1/validators/changes``)."""
        return await self._field("changes", "GET", "/v1/validators/changes", list)

    async def withdraw_validator_change(self, change_id: str) -> dict:
        """Withdraws a proposal from this node (``DELETE /v1/validators/changes/{id}``): it stops
        announcing and submitting it; returns the proposal as it was."""
        return await self._request("DELETE", f"/v1/validators/changes/{quote(change_id, safe='')}")

    async def broadcast(self, round_id: str, message: str) -> dict:
        return await self._request("POST", "/broadcast", json_body={"roundId": round_id, "message": message})

    async def direct_message(self, peer: Player, round_id: str, message: str) -> dict:
        return await self._request("POST", "/direct-message", params={"id": str(peer)},
                                   json_body={"roundId": round_id, "message": message})

    async def get_messages(self, round_id: str) -> list[dict]:
        return await self._field("messages", "GET", "/get-message", list, params={"roundId": round_id})

    async def get_direct_messages(self, round_id: str) -> list[dict]:
        return await self._field("messages", "GET", "/get-direct-message", list, params={"roundId": round_id})

    # -- key management --

    async def keygen(self, scheme: str, curve: str | None, threshold: int,
                     players: list[Player] | None = None, key_id: str | None = None,
                     timeout: float | None = None) -> dict:
        """Generates a key and waits for it (``POST /v1/keys``); returns the key.

        ``timeout``: how long the node waits for the keygen (default: its keygen_timeout,
        at most ``KEYGEN_TIMEOUT_MAX``); this call waits a little longer than that, whatever
        the client's own timeout, so a keygen the node finishes is never cut off here.
        """
        body = _body(scheme=scheme, curve=curve, threshold=threshold,
                     players=list(players) if players is not None else None, key_id=key_id, timeout=timeout)
        wait = (timeout if timeout is not None else KEYGEN_TIMEOUT_MAX) + ANSWER_MARGIN
        return await self._request("POST", "/v1/keys", json_body=body,
                                   timeout=max(wait, self._timeout.total or 0))

    async def keys(self) -> list[dict]:
        return await self._field("keys", "GET", "/v1/keys", list)

    async def key(self, key_id: str) -> dict:
        return await self._request("GET", f"/v1/keys/{_segment(key_id)}")

    async def public_key(self, key_id: str, path: str | None = None) -> dict:
        params = {"path": path} if path is not None else None
        return await self._request("GET", f"/v1/keys/{_segment(key_id)}/public-key", params=params)

    async def sign(self, key_id: str, message: bytes | str | None = None, hash: str | None = None,
                   digest: bytes | str | None = None, path: str | None = None,
                   players: list[Player] | None = None) -> dict:
        """Signs ``message`` hashed with ``hash``, or a 32-byte ``digest`` as it is."""
        body = _body(message=_hex(message), hash=hash, digest=_hex(digest), path=path,
                     players=list(players) if players is not None else None)
        return await self._request("POST", f"/v1/keys/{_segment(key_id)}/sign", json_body=body)

    async def presign(self, key_id: str, count: int | None = None,
                      players: list[Player] | None = None) -> dict:
        body = _body(count=count, players=list(players) if players is not None else None)
        return await self._request("POST", f"/v1/keys/{_segment(key_id)}/presign", json_body=body)

    async def delete_share(self, key_id: str) -> None:
        await self._request("DELETE", f"/v1/keys/{_segment(key_id)}/share")

    async def ers_partial(self, key_id: str, ers_public_key: dict | str, label: str) -> dict:
        """This node's partial recovery information for the key (``POST /v1/keys/{id}/ers/partial``):
        ``ers_public_key`` is the object of ers_public.json (or its text). See ``daemon.ers_sdk``."""
        if isinstance(ers_public_key, str | bytes):
            ers_public_key = json.loads(ers_public_key)
        elif hasattr(ers_public_key, "to_json"):
            ers_public_key = ers_public_key.to_json()
        return await self._field("partial", "POST", f"/v1/keys/{_segment(key_id)}/ers/partial", dict,
                                 json_body={"ers_public_key": ers_public_key, "label": label})

    async def health(self) -> dict:
        return await self._request("GET", "/healthz")

    async def metrics(self) -> str:
        """The Prometheus text exposition."""
        return await self._request("GET", "/metrics", as_text=True)


_SYNC_METHODS = ("start_keygen", "session", "wait_session", "validators", "broadcast", "direct_message",
                 "get_messages", "get_direct_messages", "keygen", "keys", "key", "public_key", "sign",
                 "presign", "delete_share", "health", "metrics")


class Client:
    """The synchronous SDK: each call runs the ``AsyncClient`` method in its own event loop."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.base_url = base_url
        self._api_key = api_key
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        async with AsyncClient(self.base_url, self._api_key, timeout=self._timeout) as client:
            return await getattr(client, name)(*args, **kwargs)


def _sync(name: str):
    method = getattr(AsyncClient, name)

    @functools.wraps(method)
    def call(self: Client, *args: Any, **kwargs: Any) -> Any:
        return asyncio.run(self._call(name, *args, **kwargs))

    return call


for _name in _SYNC_METHODS:
    setattr(Client, _name, _sync(_name))
for _name in ("candidates", "propose_validator_change", "validator_changes"):
    setattr(Client, _name, _sync(_name))
Client.withdraw_validator_change = _sync("withdraw_validator_change")


# Emergency recovery: the node's part is ``ers_partial``; the rest needs no node.
Client.ers_partial = _sync("ers_partial")
from daemon.ers_sdk import ErsError as ErsError  # noqa: E402  (re-exported: the SDK is this module)
from daemon.ers_sdk import recover_key as recover_key  # noqa: E402
from daemon.ers_sdk import recovered_private_key as recovered_private_key  # noqa: E402
from daemon.ers_sdk import recovered_public_key as recovered_public_key  # noqa: E402
from daemon.ers_sdk import recovery_info_combine as recovery_info_combine  # noqa: E402
from daemon.ers_sdk import recovery_info_validate as recovery_info_validate  # noqa: E402
from daemon.ers_sdk import sign_with_recovered_key as sign_with_recovered_key  # noqa: E402
