"""The JSON shapes of ERS documents: versioned objects, integers as hex, proofs as base64.

Every value has exactly one accepted spelling (lowercase hex without leading zeros,
padded standard base64 of the canonical wire bytes), so a document cannot be altered
without changing what it says. Every failure is a ``MalformedErsData`` naming the field.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

import gmpy2

from protocol import wire
from protocol.errors import EncodingError
from protocol.ers.errors import MalformedErsData
from protocol.group import Group, Point

VERSION = 1
#: the largest ERS document accepted (a recovery data file with 32 partials is about 100 kB)
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
_HEX_INT = re.compile(r"0|[1-9a-f][0-9a-f]*")
_HEX_BYTES = re.compile(r"(?:[0-9a-f]{2})*")


def document(data: Any, what: str) -> dict:
    """A JSON object given as a dict, or as JSON text (str or bytes)."""
    if isinstance(data, bytes | bytearray | str):
        if len(data) > MAX_DOCUMENT_BYTES:
            raise MalformedErsData(f"{what}: larger than {MAX_DOCUMENT_BYTES} bytes")
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise MalformedErsData(f"{what}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise MalformedErsData(f"{what}: expected a JSON object")
    return data


def fields(data: Any, what: str, kind: str, names: tuple[str, ...]) -> dict:
    """``data`` as an object of type ``kind`` at this version with exactly ``names`` besides those two."""
    data = document(data, what)
    expected = {"version", "type", *names}
    if set(data) != expected:
        missing, extra = sorted(expected - set(data)), sorted(set(data) - expected)
        raise MalformedErsData(f"{what}: missing fields {missing}, unknown fields {extra}")
    if data["type"] != kind:
        raise MalformedErsData(f"{what}: type is {data['type']!r}, expected {kind!r}")
    if type(data["version"]) is not int or data["version"] != VERSION:   # not True, not 1.0
        raise MalformedErsData(f"{what}: version {data['version']!r} is not supported (expected {VERSION})")
    return data


def head(kind: str) -> dict:
    return {"version": VERSION, "type": kind}


def int_to_hex(value: int) -> str:
    return format(int(value), "x")


def hex_to_int(value: Any, what: str, max_bits: int) -> gmpy2.mpz:
    if not isinstance(value, str) or not _HEX_INT.fullmatch(value):
        raise MalformedErsData(f"{what}: expected a lowercase hex integer without leading zeros")
    if len(value) * 4 > max_bits + 3:
        raise MalformedErsData(f"{what}: longer than {max_bits} bits")
    number = gmpy2.mpz(value, 16)
    if number.bit_length() > max_bits:
        raise MalformedErsData(f"{what}: longer than {max_bits} bits")
    return number


def hex_to_bytes(value: Any, what: str, min_size: int, max_size: int | None = None) -> bytes:
    max_size = min_size if max_size is None else max_size
    if not isinstance(value, str) or not _HEX_BYTES.fullmatch(value):
        raise MalformedErsData(f"{what}: expected lowercase hex bytes")
    if not min_size <= len(value) // 2 <= max_size:
        raise MalformedErsData(f"{what}: {len(value) // 2} bytes, expected {min_size}..{max_size}")
    return bytes.fromhex(value)


def point_to_hex(point: Point) -> str:
    return point.encode().hex()


def hex_to_point(value: Any, group: Group, what: str) -> Point:
    raw = hex_to_bytes(value, what, 1, 64)
    try:
        return group.decode_point(raw)
    except EncodingError as exc:
        raise MalformedErsData(f"{what}: not a {group.name} point ({exc})") from None


def proof_to_b64(proof: Any, group: Group | None = None) -> str:
    return base64.b64encode(wire.encode(proof, group)).decode("ascii")


def b64_to_proof(value: Any, cls: type, what: str, group: Group | None = None) -> Any:
    if not isinstance(value, str) or len(value) > MAX_DOCUMENT_BYTES:
        raise MalformedErsData(f"{what}: expected base64 text")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise MalformedErsData(f"{what}: not base64") from None
    if base64.b64encode(raw).decode("ascii") != value:
        raise MalformedErsData(f"{what}: not canonical base64")
    try:
        return wire.decode(raw, cls, group)
    except EncodingError as exc:
        raise MalformedErsData(f"{what}: {exc}") from None


def small_int(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise MalformedErsData(f"{what}: expected an integer in [{low}, {high}]")
    return value


def text(value: Any, what: str, max_bytes: int, *, min_bytes: int = 0) -> str:
    if not isinstance(value, str):
        raise MalformedErsData(f"{what}: expected a string")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise MalformedErsData(f"{what}: not valid Unicode text") from None
    if not min_bytes <= size <= max_bytes:
        raise MalformedErsData(f"{what}: {size} bytes, expected {min_bytes}..{max_bytes}")
    return value


def array(value: Any, what: str, min_len: int, max_len: int) -> list:
    if not isinstance(value, list) or not min_len <= len(value) <= max_len:
        raise MalformedErsData(f"{what}: expected a list of {min_len}..{max_len} items")
    return value


__all__ = ["MAX_DOCUMENT_BYTES", "VERSION", "array", "b64_to_proof", "document", "fields", "head",
           "hex_to_bytes", "hex_to_int", "hex_to_point", "int_to_hex", "point_to_hex", "proof_to_b64",
           "small_int", "text"]
