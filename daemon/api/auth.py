"""API-key authentication: ``X-API-Key: <key>`` or ``Authorization: Bearer <key>``.

Keys are compared in constant time against every configured key (no early exit), so
neither timing nor which key matched leaks through the answer.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

#: routes anyone may call (liveness checks by load balancers and orchestrators)
PUBLIC_PATHS = frozenset({"/healthz"})


def check_api_keys(api_keys: tuple[str, ...]) -> tuple[bytes, ...]:
    """The configured keys as bytes; a node without a usable key refuses to serve."""
    if not api_keys:
        raise ValueError("the API needs at least one API key")
    if any(not isinstance(key, str) or not key.strip() for key in api_keys):
        raise ValueError("API keys must be non-empty strings")
    return tuple(key.encode() for key in api_keys)


def presented_keys(headers: Mapping[str, str]) -> list[bytes]:
    keys = []
    header_key = headers.get("X-API-Key")
    if header_key:
        keys.append(header_key.encode("utf-8", "surrogateescape"))
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        keys.append(token.strip().encode("utf-8", "surrogateescape"))
    return keys


def is_authorized(headers: Mapping[str, str], api_keys: tuple[bytes, ...]) -> bool:
    matched = False
    for presented in presented_keys(headers):
        for key in api_keys:
            matched |= hmac.compare_digest(presented, key)
    return matched
