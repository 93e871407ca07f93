"""Request bodies of the API, each turned into what ``daemon.service`` takes.

Every builder checks the whole body (unknown fields included) before returning, so
a handler calls the service only with values that passed; see ``validation``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from daemon.api import validation as v
from daemon.errors import BadRequest
from daemon.service import HASHES, KeygenRequest, Player, SignRequest

START_FIELDS = ("scheme", "curve", "threshold")
KEYGEN_FIELDS = ("scheme", "curve", "threshold", "players", "key_id", "timeout")
SIGN_FIELDS = ("message", "hash", "digest", "path", "players")
PRESIGN_FIELDS = ("count", "players")
MAILBOX_FIELDS = ("roundId", "message")


@dataclass(frozen=True)
class Keygen:
    request: KeygenRequest
    timeout: float | None


@dataclass(frozen=True)
class Presign:
    count: int
    players: tuple[Player, ...] | None


@dataclass(frozen=True)
class MailboxPost:
    round_id: str
    message: str


def start(body: dict[str, Any]) -> KeygenRequest:
    """``POST /start``: the seed's keygen among all validators, every field optional."""
    v.only_fields(body, START_FIELDS)
    scheme, curve = v.scheme_and_curve(body, default_scheme="ecdsa")
    threshold = v.optional(body, "threshold", v.integer, "threshold", v.THRESHOLD_MIN, v.THRESHOLD_MAX)
    return KeygenRequest(scheme=scheme, curve=curve, threshold=threshold)


def keygen(body: dict[str, Any]) -> Keygen:
    """``POST /v1/keys``: scheme and threshold are required, so nothing security-relevant is implied."""
    v.only_fields(body, KEYGEN_FIELDS, required=("scheme", "threshold"))
    scheme, curve = v.scheme_and_curve(body, default_scheme=None)
    request = KeygenRequest(
        scheme=scheme,
        curve=curve,
        threshold=v.integer(body["threshold"], "threshold", v.THRESHOLD_MIN, v.THRESHOLD_MAX),
        players=v.optional(body, "players", v.players),
        key_id=v.optional(body, "key_id", v.key_id),
    )
    timeout = v.optional(body, "timeout", v.number, "timeout", v.TIMEOUT_MIN, v.TIMEOUT_MAX)
    return Keygen(request, timeout)


def sign(key_id: str, body: dict[str, Any]) -> SignRequest:
    """``POST /v1/keys/{id}/sign``: ``message`` with ``hash``, or a 32-byte ``digest``.

    ``hash`` is required with ``message`` so a client always says what it signs:
    a node never picks a hash for it.
    """
    v.only_fields(body, SIGN_FIELDS)
    has_message, has_digest = body.get("message") is not None, body.get("digest") is not None
    if has_message == has_digest:
        raise BadRequest("give either message (hex, with hash) or digest (32 bytes hex), not both or neither")
    message = digest = hash_name = None
    if has_message:
        message = v.hex_bytes(body["message"], "message", max_bytes=v.MESSAGE_MAX_BYTES)
        if body.get("hash") is None:
            raise BadRequest(f"message needs hash: one of {', '.join(HASHES)}")
        hash_name = v.choice(body["hash"], "hash", HASHES)
    else:
        if body.get("hash") is not None:
            raise BadRequest("hash goes with message; a digest is signed as it is")
        digest = v.hex_bytes(body["digest"], "digest", max_bytes=v.DIGEST_BYTES, exact=v.DIGEST_BYTES)
    return SignRequest(
        key_id=key_id,
        message=message,
        hash=hash_name,
        digest=digest,
        path=v.optional(body, "path", v.bip32_path),
        players=v.optional(body, "players", v.players),
    )


def presign(body: dict[str, Any]) -> Presign:
    v.only_fields(body, PRESIGN_FIELDS)
    count = body.get("count")
    return Presign(
        count=1 if count is None else v.integer(count, "count", v.PRESIGN_COUNT_MIN, v.PRESIGN_COUNT_MAX),
        players=v.optional(body, "players", v.players),
    )


def mailbox_post(body: dict[str, Any]) -> MailboxPost:
    v.only_fields(body, MAILBOX_FIELDS, required=MAILBOX_FIELDS)
    return MailboxPost(v.round_id(body["roundId"]), v.mailbox_message(body["message"]))
