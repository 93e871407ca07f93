"""A node's part of emergency recovery: its share, encrypted to an ERS key with proof.

``POST /v1/keys/{id}/ers/partial`` reaches ``LocalNodeService.ers_partial``, which asks
its ``Exporter``. A node answers only when its configuration enables
``enable_ers_export`` (403 ``ers_export_disabled`` otherwise), and only for an ERS
public key whose fingerprint is in its ``ers_allowed_keys`` (403 ``ers_key_not_allowed``
otherwise, decided from the request's shape alone, before any work): without that list,
any API client could collect t+1 partials under a key of its own and rebuild the key.

The CPU work (verifying the ERS key's Π^mod and Π^prm, about half a second; encrypting
and proving Π^log*) runs in a session worker process (``engine.slots.call``), never on
the event loop or in a thread of the node (gmpy2 holds the GIL). One export runs at a
time. A verified ERS key is kept by fingerprint (a small LRU, bounded anyway by the
allow-list) and reused when a request carries the very same key. The sealed share is
read on the loop and handed to the worker as bytes, decoded there and dropped with
the call. Nothing is stored: a refused request changes nothing. Every export is logged
at WARNING with the key id, the ERS fingerprint and the label, never a secret.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

from daemon.errors import BadRequest, Forbidden, key_not_found
from daemon.records import KeyRecord
from protocol import ers, wire
from protocol.cmp.shares import CmpKey
from protocol.ers.keys import unverified_fingerprint
from protocol.frost.shares import FrostKeyShare
from protocol.rng import SystemRng

log = logging.getLogger("tssnet.ers")

#: the error type of a node that does not export recovery information
DISABLED = "ers_export_disabled"
#: the error type of a request for an ERS key the node's ers_allowed_keys does not list
NOT_ALLOWED = "ers_key_not_allowed"
#: the worker route of exports (one slot: the cache of verified keys lives in this process)
ROUTE = "ers-export"
#: verified ERS keys kept
CACHE_SIZE = 8


def check_enabled(config) -> None:
    if not getattr(config, "enable_ers_export", False):
        raise Forbidden("this node does not export emergency-recovery information: its operator "
                        "must set enable_ers_export = true", type=DISABLED)


def fingerprint_of(ers_public_key) -> str:
    """The fingerprint (hex) of the ERS key in the request, from its shape; BadRequest if malformed."""
    try:
        return unverified_fingerprint(ers_public_key).hex()
    except ers.ErsError as exc:
        raise BadRequest(f"ers_public_key: {exc.message}") from None


def check_allowed(config, fingerprint: str) -> None:
    allowed = {key.lower() for key in getattr(config, "ers_allowed_keys", ())}
    if fingerprint not in allowed:
        raise Forbidden(f"this node exports emergency-recovery information only to the recovery keys "
                        f"its operator lists in ers_allowed_keys, and {fingerprint} is not one of them",
                        type=NOT_ALLOWED)


def load_ers_key(ers_public_key) -> ers.ErsPublicKey:
    """The verified ERS public key; BadRequest naming what is wrong with it."""
    try:
        return ers.load_public_key(ers_public_key)
    except ers.ErsError as exc:
        raise BadRequest(f"ers_public_key: {exc.message}") from None


def verify_job(_owner: str, ers_public_key: dict) -> ers.ErsPublicKey | str:
    """In a worker: the verified key, or the reason it fails (a string: errors stay plain values)."""
    try:
        return ers.load_public_key(ers_public_key)
    except ers.ErsError as exc:
        return f"ers_public_key: {exc.message}"


def partial_job(_owner: str, scheme: str, secret: bytes, ers_key: ers.ErsPublicKey, label: str,
                holder: str) -> dict | str:
    """In a worker: the partial's JSON object, or the reason it cannot be made."""
    share = wire.decode(secret, CmpKey).share if scheme == "ecdsa" else wire.decode(secret, FrostKeyShare)
    try:
        return ers.make_partial(share, ers_key, label, SystemRng(), holder=holder).to_json()
    except ers.ErsError as exc:
        return exc.message


class Exporter:
    """One node's exports: the allow-list, one at a time, verified keys cached by fingerprint."""

    def __init__(self, engine, cache_size: int = CACHE_SIZE) -> None:
        self._engine = engine
        self._one_at_a_time = asyncio.Semaphore(1)
        self._verified: OrderedDict[str, ers.ErsPublicKey] = OrderedDict()
        self._cache_size = cache_size

    def check_request(self, ers_public_key) -> str:
        """The ERS key's fingerprint once the node may export to it (403 / 400 otherwise)."""
        config = self._engine.config
        check_enabled(config)
        fingerprint = fingerprint_of(ers_public_key)
        check_allowed(config, fingerprint)
        return fingerprint

    async def partial(self, key: KeyRecord, ers_public_key: dict, fingerprint: str, label: str,
                      holder: str) -> dict:
        """This node's partial for ``key`` (which it holds) as its JSON object, for the ERS key
        ``check_request`` allowed and answered ``fingerprint`` for."""
        async with self._one_at_a_time:
            ers_key = await self._verified_key(fingerprint, ers_public_key)
            secret = await self._engine.keys.share(key.key_id)
            if secret is None:
                raise key_not_found(key.key_id)
            answer = await self._engine.slots.call(ROUTE, partial_job, key.scheme, secret, ers_key, label, holder)
        if isinstance(answer, str):
            raise BadRequest(answer)
        log.warning("emergency-recovery export: key %s (epoch %s) encrypted to ERS key %s under label %r",
                    key.key_id, answer.get("epoch"), fingerprint, label)
        return answer

    async def _verified_key(self, fingerprint: str, ers_public_key: dict) -> ers.ErsPublicKey:
        cached = self._verified.get(fingerprint)
        if cached is not None and cached.to_json() == ers_public_key:
            self._verified.move_to_end(fingerprint)
            return cached
        verified = await self._engine.slots.call(ROUTE, verify_job, ers_public_key)
        if isinstance(verified, str):
            raise BadRequest(verified)
        self._verified[fingerprint] = verified
        self._verified.move_to_end(fingerprint)
        while len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)
        return verified


__all__ = ["CACHE_SIZE", "DISABLED", "NOT_ALLOWED", "ROUTE", "Exporter", "check_allowed", "check_enabled",
           "fingerprint_of", "load_ers_key", "partial_job", "verify_job"]
