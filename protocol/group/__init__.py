"""Prime-order groups: secp256k1 (suite 1) and Ed25519 (suite 2) behind one interface."""

from __future__ import annotations

from protocol.errors import EncodingError, UsageError
from protocol.group.base import Group, Point, Scalar
from protocol.group.ed25519 import ED25519
from protocol.group.secp256k1 import SECP256K1

__all__ = ["ED25519", "SECP256K1", "Group", "Point", "Scalar", "group_by_name", "group_by_suite_id"]

_BY_NAME = {g.name: g for g in (SECP256K1, ED25519)}
_BY_SUITE_ID = {g.suite_id: g for g in (SECP256K1, ED25519)}


def group_by_name(name: str) -> Group:
    """The group called ``name`` (from configuration); UsageError if unknown."""
    group = _BY_NAME.get(name) if isinstance(name, str) else None
    if group is None:
        raise UsageError(f"unknown group {name!r}; known: {sorted(_BY_NAME)}")
    return group


def group_by_suite_id(suite_id: int) -> Group:
    """The group for a wire-header suite id; EncodingError if unknown, since ids arrive off the wire."""
    group = _BY_SUITE_ID.get(suite_id) if type(suite_id) is int else None
    if group is None:
        raise EncodingError(f"unknown group suite id {suite_id!r}")
    return group
