"""Secrets at rest: AES-256-GCM under a key derived for each record from the master key.

A sealed record is ``version (1) || key id (1) || salt (32) || ciphertext || tag (16)``.
Its AES key is HKDF-SHA256(master key, salt, label || record key), with a fresh random
salt for every seal, so no two records share an AES key and the nonce can be a fixed
zero: the 2^32-messages-per-key limit of random GCM nonces never applies, however
many presignatures a node seals. The key id names the master key that sealed the
record, so a later master-key rotation can tell old records from new ones.

The header and the record's store key are bound as associated data (and the record key
into the derived key too), so a sealed share copied under another key id, or a
presignature moved to another slot, does not open: it is refused, not silently used
for the wrong thing.

Sealing gives confidentiality and integrity, not rollback protection: a record that
was overwritten or deleted (a consumed presignature), written back later under its own
key by someone who can write the store, opens fine. The store must be this node's
alone; see ``daemon.store`` for what that means with Redis.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from daemon.errors import NodeError

MASTER_KEY_BYTES = 32
VERSION = 2
#: the id of the node's one master key until rotation exists
DEFAULT_KEY_ID = 0
_SALT_BYTES = 32
_HEADER_BYTES = 2 + _SALT_BYTES
_TAG_BYTES = 16
# Each derived key seals exactly one plaintext, so one fixed nonce is safe.
_NONCE = bytes(12)
_HKDF_LABEL = b"tssnet/sealed-record/aes-256-gcm/v2\x00"


class SealedRecordError(NodeError):
    """A sealed record did not open: tampered, truncated, another key, or another record.

    A ``NodeError`` so that it reaches a user (or the node's start) as a clear failure
    of the node's own state, never as an unexplained internal error.
    """

    status = 500
    type = "sealed_record_invalid"


class Sealer:
    __slots__ = ("_master_key", "_key_id")

    def __init__(self, master_key: bytes, key_id: int = DEFAULT_KEY_ID) -> None:
        if not isinstance(master_key, bytes) or len(master_key) != MASTER_KEY_BYTES:
            raise ValueError(f"the master key is {MASTER_KEY_BYTES} bytes")
        if isinstance(key_id, bool) or not isinstance(key_id, int) or not 0 <= key_id <= 255:
            raise ValueError("a master key id is one byte")
        self._master_key = master_key
        self._key_id = key_id

    def seal(self, record_key: str, plaintext: bytes) -> bytes:
        header = bytes([VERSION, self._key_id]) + os.urandom(_SALT_BYTES)
        aead = self._record_aead(header, record_key)
        return header + aead.encrypt(_NONCE, bytes(plaintext), _associated(header, record_key))

    def open(self, record_key: str, blob: bytes) -> bytes:
        if len(blob) < _HEADER_BYTES + _TAG_BYTES:
            raise SealedRecordError(f"sealed record {record_key!r} is truncated")
        if blob[0] != VERSION:
            raise SealedRecordError(f"sealed record {record_key!r} has unknown version {blob[0]}")
        if blob[1] != self._key_id:
            raise SealedRecordError(f"sealed record {record_key!r} was sealed under master key id "
                                    f"{blob[1]}; this node's master key has id {self._key_id}")
        header, body = bytes(blob[:_HEADER_BYTES]), bytes(blob[_HEADER_BYTES:])
        try:
            return self._record_aead(header, record_key).decrypt(_NONCE, body,
                                                                 _associated(header, record_key))
        except InvalidTag:
            raise SealedRecordError(
                f"sealed record {record_key!r} does not open: altered, moved from another key, "
                "or sealed under another master key") from None

    def _record_aead(self, header: bytes, record_key: str) -> AESGCM:
        salt = header[2:_HEADER_BYTES]
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
                   info=_HKDF_LABEL + record_key.encode()).derive(self._master_key)
        return AESGCM(key)

    def __repr__(self) -> str:
        return "Sealer(<redacted>)"

    def __reduce__(self):
        raise TypeError("a Sealer holds the node's sealing key and is never pickled")


def _associated(header: bytes, record_key: str) -> bytes:
    return header + record_key.encode()
