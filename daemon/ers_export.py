"""A node's part of emergency recovery: its share, encrypted to an ERS key with proof.

``POST /v1/keys/{id}/ers/partial`` reaches ``LocalNodeService.ers_partial``, which asks
this module. A node answers only when its configuration enables ``enable_ers_export``
(403 ``ers_export_disabled`` otherwise). Verifying the ERS public key's proofs (about
half a second) and proving Π^log* (tens of milliseconds) run in a thread, off the
event loop; the sealed share is read on the loop and handed to that thread as bytes,
decoded there and dropped with it. Nothing is stored: a bad request changes nothing.
"""

from __future__ import annotations

import asyncio

from daemon.errors import BadRequest, Forbidden, key_not_found
from daemon.records import KeyRecord
from protocol import ers, wire
from protocol.cmp.shares import CmpKey
from protocol.frost.shares import FrostKeyShare
from protocol.rng import SystemRng

#: the error type of a node that does not export recovery information
DISABLED = "ers_export_disabled"


def check_enabled(config) -> None:
    if not getattr(config, "enable_ers_export", False):
        raise Forbidden("this node does not export emergency-recovery information: its operator "
                        "must set enable_ers_export = true", type=DISABLED)


def load_ers_key(ers_public_key) -> ers.ErsPublicKey:
    """The verified ERS public key; BadRequest naming what is wrong with it."""
    try:
        return ers.load_public_key(ers_public_key)
    except ers.ErsError as exc:
        raise BadRequest(f"ers_public_key: {exc.message}") from None


def _partial(key: KeyRecord, secret: bytes, ers_public_key, label: str, holder: str) -> dict:
    ers_key = load_ers_key(ers_public_key)
    if key.scheme == "ecdsa":
        share = wire.decode(secret, CmpKey).share
    else:
        share = wire.decode(secret, FrostKeyShare)
    try:
        return ers.make_partial(share, ers_key, label, SystemRng(), holder=holder).to_json()
    except ers.ErsError as exc:
        raise BadRequest(exc.message) from None


async def partial(keys, key: KeyRecord, ers_public_key, label: str, holder: str) -> dict:
    """This node's partial for ``key`` (which it holds) as its JSON object."""
    secret = await keys.share(key.key_id)
    if secret is None:
        raise key_not_found(key.key_id)
    return await asyncio.to_thread(_partial, key, secret, ers_public_key, label, holder)


__all__ = ["DISABLED", "check_enabled", "load_ers_key", "partial"]
