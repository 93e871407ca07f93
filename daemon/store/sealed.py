"""Secrets at rest: AES-256-GCM under a key derived from the node's master key.

A sealed record is ``version (1) || nonce (12) || ciphertext || tag (16)``. The
record's store key is bound as associated data, so a sealed share copied under
another key id, or a presignature moved to another slot, does not open: it is
refused, not silently used for the wrong thing. Random 96-bit nonces are safe for
far more records than a node ever writes under one master key (2^32 by NIST's
bound for a collision chance below 2^-32).
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MASTER_KEY_BYTES = 32
VERSION = 1
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HKDF_INFO = b"tssnet/sealed-record/aes-256-gcm/v1"


class SealedRecordError(Exception):
    """A sealed record did not open: tampered, truncated, another key, or another record."""


class Sealer:
    __slots__ = ("_aead",)

    def __init__(self, master_key: bytes) -> None:
        if not isinstance(master_key, bytes) or len(master_key) != MASTER_KEY_BYTES:
            raise ValueError(f"the master key is {MASTER_KEY_BYTES} bytes")
        # Derived rather than used directly, so the master key can later key other
        # things (under other labels) without two uses ever sharing a key.
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(master_key)
        self._aead = AESGCM(key)

    def seal(self, record_key: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        header = bytes([VERSION])
        return header + nonce + self._aead.encrypt(nonce, bytes(plaintext), _associated(header, record_key))

    def open(self, record_key: str, blob: bytes) -> bytes:
        if len(blob) < 1 + _NONCE_BYTES + _TAG_BYTES:
            raise SealedRecordError(f"sealed record {record_key!r} is truncated")
        if blob[0] != VERSION:
            raise SealedRecordError(f"sealed record {record_key!r} has unknown version {blob[0]}")
        header, nonce, body = blob[:1], blob[1:1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, body, _associated(header, record_key))
        except InvalidTag:
            raise SealedRecordError(
                f"sealed record {record_key!r} does not open: altered, moved from another key, "
                "or sealed under another master key") from None

    def __repr__(self) -> str:
        return "Sealer(<redacted>)"

    def __reduce__(self):
        raise TypeError("a Sealer holds the node's sealing key and is never pickled")


def _associated(header: bytes, record_key: str) -> bytes:
    return header + record_key.encode()
