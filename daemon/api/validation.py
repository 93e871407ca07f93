"""Checks the shape of API input and turns it into ``daemon.service`` request values.

Shape only: types, lengths, hex, enumerations, required and unknown fields. What a
value means (a threshold the players can meet, a key this node holds) is the
service's job. Every failure is a ``BadRequest`` naming the field, raised before
the service is called, so bad input never changes anything.

The bounds are module constants because the OpenAPI document publishes the same ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from multidict import MultiMapping

from daemon import mailbox
from daemon.config import MAX_TIMEOUT
from daemon.errors import BadRequest
from daemon.records import KEY_ID_PATTERN as _STORED_KEY_ID
from daemon.records import MAX_PARTICIPANTS, valid_key_id, valid_session_id
from daemon.records import SESSION_ID_PATTERN as _STORED_SESSION_ID
from daemon.service import SCHEMES, Player
from daemon.validators import MAX_VALIDATORS
from protocol.frost.sign import MAX_MESSAGE as PROTOCOL_MESSAGE_MAX

#: a session (keygen, sign, presign) has at most this many players (the records' bound)
PLAYERS_MAX = MAX_PARTICIPANTS
THRESHOLD_MIN, THRESHOLD_MAX = 1, PLAYERS_MAX - 1
PLAYER_INDEX_MAX = MAX_VALIDATORS - 1
PEER_ID_PATTERN = r"^[A-Za-z0-9._-]{1,128}$"
#: the store's key-id rule (``daemon.records.valid_key_id``), published as a pattern
KEY_ID_PATTERN = f"^{_STORED_KEY_ID.pattern}$"
#: the sessions' own rule (``daemon.records.valid_session_id``), published as a pattern
SESSION_ID_PATTERN = f"^{_STORED_SESSION_ID.pattern}$"
ROUND_ID_PATTERN = mailbox.ROUND_ID_PATTERN
#: BIP32 non-hardened path: "m" then up to 255 indices below 2^31
PATH_PATTERN = r"^m(/(0|[1-9][0-9]{0,9}))*$"
PATH_MAX_LEN = 2048
PATH_DEPTH_MAX = 255
#: the one limit on a message to sign: the API's own cap, never above what the protocols take
MESSAGE_MAX_BYTES = min(64 * 1024, PROTOCOL_MESSAGE_MAX)
MAILBOX_MESSAGE_MAX_BYTES = mailbox.MESSAGE_MAX_BYTES
DIGEST_BYTES = 32
PRESIGN_COUNT_MIN, PRESIGN_COUNT_MAX = 1, 100
#: a keygen request's own wait; never longer than a node's keygen_timeout may be
TIMEOUT_MIN, TIMEOUT_MAX = 1, int(MAX_TIMEOUT)
CURVES = tuple(sorted({curve for curves in SCHEMES.values() for curve in curves}))

_PEER_ID = re.compile(PEER_ID_PATTERN)
_PATH = re.compile(PATH_PATTERN)
_HEX = re.compile(r"^(?:[0-9a-fA-F]{2})*$")


def parse_json_body(raw: bytes, *, required: bool) -> dict[str, Any]:
    """A JSON object from ``raw``; an empty body is ``{}`` unless one is required."""
    if not raw.strip():
        if required:
            raise BadRequest("this request needs a JSON object body")
        return {}
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates,
                           parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise BadRequest("the body nests too deeply") from None
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"field {name!r} appears twice")
        result[name] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def only_fields(body: Mapping[str, Any], allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(unknown)} (allowed: {', '.join(allowed)})")
    missing = [name for name in required if body.get(name) is None]
    if missing:
        raise BadRequest(f"missing required fields: {', '.join(missing)}")


def integer(value: Any, name: str, low: int, high: int) -> int:
    # JSON true/false arrive as bool, which Python counts as an int: refuse them.
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest(f"{name} must be an integer")
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}, not {value}")
    return value


def number(value: Any, name: str, low: float, high: float) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise BadRequest(f"{name} must be a number")
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}")
    return float(value)


def text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return value


def choice(value: Any, name: str, options: tuple[str, ...]) -> str:
    if text(value, name) not in options:
        raise BadRequest(f"{name} must be one of {', '.join(options)}, not {value!r}")
    return value


def matching(value: Any, name: str, pattern: re.Pattern, what: str) -> str:
    if not pattern.fullmatch(text(value, name)):
        raise BadRequest(f"{name} must be {what}")
    return value


def key_id(value: Any, name: str = "key_id") -> str:
    if not valid_key_id(text(value, name)):
        raise BadRequest(f"{name} must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-', "
                         "starting with a letter or digit")
    return value


def session_id(value: Any) -> str:
    if not valid_session_id(text(value, "session_id")):
        raise BadRequest("session_id must be 32 lowercase hex digits, as POST /start answers it")
    return value


def round_id(value: Any) -> str:
    return matching(value, "roundId", mailbox.ROUND_ID,
                    f"1 to {mailbox.ROUND_ID_MAX} printable ASCII characters")


def peer_id(value: Any, name: str) -> str:
    return matching(value, name, _PEER_ID, "a peer id (1 to 128 characters of A-Z, a-z, 0-9, '.', '_' or '-')")


def hex_bytes(value: Any, name: str, *, max_bytes: int, exact: int | None = None) -> bytes:
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise BadRequest(f"{name} must be a string of hex digits, two per byte")
    if len(value) > 2 * max_bytes:
        raise BadRequest(f"{name} is longer than {max_bytes} bytes")
    data = bytes.fromhex(value)
    if exact is not None and len(data) != exact:
        raise BadRequest(f"{name} must be exactly {exact} bytes, not {len(data)}")
    return data


def bip32_path(value: Any) -> str:
    if not isinstance(value, str) or len(value) > PATH_MAX_LEN or not _PATH.fullmatch(value):
        raise BadRequest("path must be a non-hardened BIP32 path such as m/0/1")
    indices = value.split("/")[1:]
    if len(indices) > PATH_DEPTH_MAX:
        raise BadRequest(f"path is deeper than {PATH_DEPTH_MAX} levels")
    if any(int(index) >= 2**31 for index in indices):
        raise BadRequest("path indices must be below 2^31 (hardened derivation is impossible on a threshold key)")
    return value


def player(value: Any, name: str) -> Player:
    """A validator index (0-based, as GET /validators lists them) or a peer id."""
    if isinstance(value, str):
        return peer_id(value, name)
    return integer(value, name, 0, PLAYER_INDEX_MAX)


def players(value: Any) -> tuple[Player, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= PLAYERS_MAX:
        raise BadRequest(f"players must be a list of 1 to {PLAYERS_MAX} validator indices or peer ids")
    result = tuple(player(item, f"players[{i}]") for i, item in enumerate(value))
    if len(set(result)) != len(result):
        raise BadRequest("players must not repeat a validator")
    return result


def scheme_and_curve(body: Mapping[str, Any], *, default_scheme: str | None) -> tuple[str, str | None]:
    # An explicit null means "not given", as it does for every optional field.
    scheme = body.get("scheme")
    scheme = choice(default_scheme if scheme is None else scheme, "scheme", tuple(SCHEMES))
    curve = body.get("curve")
    if curve is not None:
        choice(curve, "curve", CURVES)
        if curve not in SCHEMES[scheme]:
            raise BadRequest(f"scheme {scheme} runs on {', '.join(SCHEMES[scheme])}, not {curve}")
    return scheme, curve


def optional(body: Mapping[str, Any], name: str, check, *args: Any) -> Any:
    value = body.get(name)
    return None if value is None else check(value, *args)


def query_flag(value: str | None, name: str) -> bool:
    if value is None:
        return False
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise BadRequest(f"{name} must be true or false")


def only_query(query: MultiMapping[str], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(query) - set(allowed))
    if unknown:
        raise BadRequest(f"unknown query parameters: {', '.join(unknown)}")
    repeated = sorted({name for name in query if len(query.getall(name)) > 1})
    if repeated:
        raise BadRequest(f"query parameters given twice: {', '.join(repeated)}")


def query_player(value: str | None, name: str) -> Player:
    """``?id=`` of the seed API: digits are a validator index, anything else a peer id."""
    if value is None or value == "":
        raise BadRequest(f"query parameter {name} is required")
    if value.isascii() and value.isdigit():
        if len(value) > len(str(PLAYER_INDEX_MAX)):
            raise BadRequest(f"{name} must be a validator index up to {PLAYER_INDEX_MAX} or a peer id")
        return integer(int(value), name, 0, PLAYER_INDEX_MAX)
    return peer_id(value, name)


def mailbox_message(value: Any) -> str:
    message = text(value, "message")
    if len(message.encode("utf-8", "surrogatepass")) > MAILBOX_MESSAGE_MAX_BYTES:
        raise BadRequest(f"message is longer than {MAILBOX_MESSAGE_MAX_BYTES} bytes")
    if any(0xD800 <= ord(char) <= 0xDFFF for char in message):
        raise BadRequest("message must be valid Unicode text")
    return message
