"""BIP32 non-hardened derivation for threshold keys.

A threshold key has a public key K and a chain code c that the keygen produced
jointly, but no whole private key, so only public (non-hardened) derivation is
possible: child i of (K, c) is K + t·G with t from HMAC-SHA512(c, K || i). The
tweaks along a path add up; a signature under the child key is made with the
parent's shares plus the total tweak, which every signer can compute from public
data alone.

On secp256k1 this is exactly BIP32's CKDpub (33-byte compressed K, a tweak of 2^256
or more, or a child at infinity, makes the index invalid). Ed25519 has no standard
for raw-scalar keys, so the same construction is used with the 32-byte point
encoding and the tweak taken modulo the group order from the whole 64-byte HMAC
of a separate input, so that it is uniform; the chain code comes from a third.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from protocol.errors import UsageError
from protocol.group import Group, Point, Scalar

HARDENED = 2**31
MAX_DEPTH = 255
CHAIN_CODE_SIZE = 32


@dataclass(frozen=True, slots=True)
class Derived:
    """The child key at ``path``, its chain code, and Σ tweaks (child = parent + tweak·G)."""

    path: tuple[int, ...]
    public_key: Point
    chain_code: bytes
    tweak: Scalar


def parse_path(path: str | tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """``"m/44/0/0/5"`` (or a sequence of indices) as indices; hardened steps are refused."""
    if isinstance(path, str):
        parts = path.strip().split("/")
        if parts[0] != "m":
            raise UsageError(f"a derivation path starts with 'm': {path!r}")
        steps = []
        for part in parts[1:]:
            if part.endswith(("'", "h", "H")):
                raise UsageError(f"hardened step {part!r}: a threshold key has no whole private "
                                 "key, so only non-hardened derivation is possible")
            if not (part.isascii() and part.isdigit()) or (len(part) > 1 and part[0] == "0"):
                raise UsageError(f"path step {part!r} is not a decimal index")
            steps.append(int(part))
    else:
        steps = list(path)
    if len(steps) > MAX_DEPTH:
        raise UsageError(f"a path has at most {MAX_DEPTH} steps")
    for i in steps:
        if isinstance(i, bool) or not isinstance(i, int) or i < 0:
            raise UsageError(f"path index {i!r} is not a non-negative integer")
        if i >= HARDENED:
            raise UsageError(f"index {i} is hardened: a threshold key has no whole private key, "
                             "so only non-hardened derivation is possible")
    return tuple(steps)


def format_path(path: tuple[int, ...]) -> str:
    return "/".join(["m", *map(str, path)])


def _step(group: Group, key: Point, chain_code: bytes, index: int) -> tuple[Scalar, bytes]:
    data = key.encode() + index.to_bytes(4, "big")
    if group.name == "secp256k1":
        digest = hmac.new(chain_code, data, hashlib.sha512).digest()
        value = int.from_bytes(digest[:32], "big")
        if value >= group.order:
            raise UsageError(f"index {index} gives an invalid child (BIP32): use the next index")
        return group.scalar(value), digest[32:]
    wide = hmac.new(chain_code, b"\x01" + data, hashlib.sha512).digest()
    code = hmac.new(chain_code, b"\x02" + data, hashlib.sha512).digest()[:CHAIN_CODE_SIZE]
    return group.scalar(int.from_bytes(wide, "little") % group.order), code


def derive(group: Group, public_key: Point, chain_code: bytes,
           path: str | tuple[int, ...] | list[int]) -> Derived:
    """The non-hardened child of (public_key, chain_code) along ``path``."""
    steps = parse_path(path)
    if not isinstance(chain_code, bytes) or len(chain_code) != CHAIN_CODE_SIZE:
        raise UsageError(f"a chain code is {CHAIN_CODE_SIZE} bytes")
    if public_key.group is not group or public_key.is_identity():
        raise UsageError("the public key must be a non-identity point of the key's group")
    key, code, total = public_key, chain_code, group.scalar(0)
    for index in steps:
        tweak, code = _step(group, key, code, index)
        key = key + group.base_mul(tweak)
        if key.is_identity():
            raise UsageError(f"index {index} gives the point at infinity: use the next index")
        total = total + tweak
    return Derived(steps, key, code, total)


__all__ = ["CHAIN_CODE_SIZE", "HARDENED", "Derived", "derive", "format_path", "parse_path"]
