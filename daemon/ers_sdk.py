"""Emergency recovery in the SDK: combine, validate and recover without any node.

    partials = [client.ers_partial(key_id, ers_public, "treasury/2026") for client in clients]
    data = recovery_info_combine(partials, ers_public, "treasury/2026")
    recovery_info_validate(data, ers_public, "treasury/2026", key["public_key"])   # anyone, any time
    key = recover_key(data, ers_private, "treasury/2026")   # offline: {"curve", "private_key", "chain_code", ...}

Documents are the JSON objects of ``ers_public.json``, ``ers_private.json``, the
partials and the recovery data (a dict, or its JSON text); a partial may also be the
node's whole answer ``{"partial": {...}}``. Every check that fails raises an
``ErsError`` subclass (``protocol.ers.errors``) whose ``kind`` names it and, for one
partial, whose ``position`` says which (1-based, in the list given); a partial with a bad
proof raises ``BadPartialProof`` with the validator's ``index`` and ``holder`` as the
partial claims them.
"""

from __future__ import annotations

from typing import Any

from protocol import ers
from protocol.ers import fields
from protocol.ers.errors import ErsError
from protocol.ers.recover import child, from_json, public_key_hex
from protocol.ers.recover import sign as _sign


def _partial(item: Any) -> Any:
    if isinstance(item, ers.Partial):
        return item
    item = fields.document(item, "partial")
    if set(item) == {"partial"}:
        return item["partial"]
    return item


def recovery_info_combine(partials: list, ers_public_key: Any, label: str, *, public_key: str | bytes | None = None,
                          chain_code: str | bytes | None = None) -> dict:
    """One recovery-data object from the validators' partials (at least t+1, every one checked);
    ``public_key`` and ``chain_code`` (optional, hex as the node shows them): the key expected,
    so that partials about another key are the ones blamed."""
    return ers.combine([_partial(p) for p in partials], ers_public_key, label, public_key=public_key,
                       chain_code=chain_code).to_json()


def recovery_info_validate(data: Any, ers_public_key: Any, label: str, public_key: str | bytes, *,
                           chain_code: str | bytes | None = None) -> bool:
    """True when ``data`` would rebuild the key ``public_key`` (hex as the node shows it, or bytes)
    under ``label`` (with ``chain_code``, hex or bytes, when given); an ``ErsError`` naming the
    failed check otherwise."""
    ers.validate(data, ers_public_key, label, public_key, chain_code=chain_code)
    return True


def recover_key(data: Any, ers_private_key: Any, label: str, public_key: str | bytes | None = None) -> dict:
    """{"curve", "private_key" (big-endian hex), "chain_code" (hex), "key_id", "scheme", "public_key"}
    of the key in ``data``; ``public_key`` (hex as the node shows it): the key expected, checked."""
    return ers.recover(data, ers_private_key, label, public_key).to_json()


def ers_fingerprint(ers_public_key: Any) -> str:
    """The fingerprint (64 hex characters) of an ERS public key, as a node's ers_allowed_keys lists it;
    the key's proofs are verified first."""
    return ers.load_public_key(ers_public_key).fingerprint.hex()


def recovered_public_key(recovered: dict, *, scheme: str | None = None, path: str | None = None) -> str:
    """The public key (hex, as the node shows it) of a recovered key or of its child at ``path``."""
    key = from_json(recovered, scheme)
    _, point = child(key, path)
    return public_key_hex(key.scheme, point)


def recovered_private_key(recovered: dict, *, scheme: str | None = None, path: str | None = None) -> str:
    """The private key (big-endian hex) that signs for ``recovered_public_key`` with the same arguments."""
    secret, _ = child(from_json(recovered, scheme), path)
    return int(secret).to_bytes(32, "big").hex()


def sign_with_recovered_key(recovered: dict, message: bytes, *, scheme: str | None = None,
                            path: str | None = None) -> bytes:
    """A signature by a recovered Ed25519 (raw scalar) or BIP340 key, or its child at ``path``;
    ``scheme`` says "schnorr" for a secp256k1 key (ECDSA keys sign in any secp256k1 library)."""
    return _sign(from_json(recovered, scheme), message, path=path)


__all__ = ["ErsError", "ers_fingerprint", "recover_key", "recovered_private_key", "recovered_public_key",
           "recovery_info_combine", "recovery_info_validate", "sign_with_recovered_key"]
