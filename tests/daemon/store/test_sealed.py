"""Sealing at rest: only the right master key and the right record key open a record."""

from __future__ import annotations

import copy
import pickle

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from daemon.errors import NodeError
from daemon.store.sealed import SealedRecordError, Sealer

KEY = bytes(range(32))
RECORD = "key/abc/share"
SECRET = b"a key share that must never be read from disk" * 3


@pytest.fixture
def sealer() -> Sealer:
    return Sealer(KEY)


def test_round_trip(sealer):
    blob = sealer.seal(RECORD, SECRET)
    assert sealer.open(RECORD, blob) == SECRET
    assert Sealer(KEY).open(RECORD, blob) == SECRET      # another object, same master key
    assert sealer.open("e", sealer.seal("e", b"")) == b""


def test_ciphertext_hides_the_plaintext_and_never_repeats(sealer):
    first, second = sealer.seal(RECORD, SECRET), sealer.seal(RECORD, SECRET)
    assert first != second and first[2:34] != second[2:34]   # a fresh salt, so a fresh key, each time
    assert SECRET[:16] not in first and KEY not in first
    assert first[:2] == b"\x02\x00"                           # version 2, master key id 0
    assert len(first) == 2 + 32 + len(SECRET) + 16


def test_each_record_has_its_own_key_derived_from_its_salt_and_name(sealer):
    """The format, pinned: HKDF-SHA256(master, salt, label || record key), zero nonce."""
    blob = sealer.seal(RECORD, SECRET)
    header, body = blob[:34], blob[34:]
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=header[2:],
               info=b"tssnet/sealed-record/aes-256-gcm/v2\x00" + RECORD.encode()).derive(KEY)
    assert AESGCM(key).decrypt(bytes(12), body, header + RECORD.encode()) == SECRET


def test_a_record_of_another_master_key_id_is_refused_by_name():
    rotated = Sealer(KEY, key_id=7)
    blob = rotated.seal(RECORD, SECRET)
    assert blob[1] == 7 and rotated.open(RECORD, blob) == SECRET
    with pytest.raises(SealedRecordError, match="master key id 7; this node's master key has id 0"):
        Sealer(KEY).open(RECORD, blob)
    for bad in (-1, 256, True, "0"):
        with pytest.raises(ValueError):
            Sealer(KEY, key_id=bad)


def test_a_sealed_record_error_is_a_node_error_for_users(sealer):
    with pytest.raises(SealedRecordError) as caught:
        sealer.open(RECORD, b"\x02\x00" + bytes(60))
    error = caught.value
    assert isinstance(error, NodeError) and error.status == 500
    assert error.to_json() == {"error": {"type": "sealed_record_invalid", "message": error.message}}
    assert RECORD in error.message


def test_every_tampered_byte_is_refused(sealer):
    blob = sealer.seal(RECORD, b"short secret")
    for i in range(len(blob)):
        for flip in (0x01, 0x80):
            tampered = blob[:i] + bytes([blob[i] ^ flip]) + blob[i + 1:]
            with pytest.raises(SealedRecordError):
                sealer.open(RECORD, tampered)


def test_a_record_moved_under_another_key_does_not_open(sealer):
    blob = sealer.seal(RECORD, SECRET)
    for other in ("key/abd/share", "key/abc/share ", "key/abc", ""):
        with pytest.raises(SealedRecordError):
            sealer.open(other, blob)


def test_another_master_key_does_not_open(sealer):
    blob = sealer.seal(RECORD, SECRET)
    with pytest.raises(SealedRecordError):
        Sealer(bytes(31) + b"\x01").open(RECORD, blob)


def test_truncated_and_extended_records_are_refused(sealer):
    blob = sealer.seal(RECORD, SECRET)
    for cut in range(len(blob)):
        with pytest.raises(SealedRecordError):
            sealer.open(RECORD, blob[:cut])
    with pytest.raises(SealedRecordError):
        sealer.open(RECORD, blob + b"\x00")


def test_unknown_version_is_refused(sealer):
    blob = sealer.seal(RECORD, SECRET)
    with pytest.raises(SealedRecordError, match="version"):
        sealer.open(RECORD, b"\x01" + blob[1:])


def test_the_master_key_has_32_bytes():
    for bad in (b"", bytes(31), bytes(33), "00" * 32):
        with pytest.raises(ValueError):
            Sealer(bad)


def test_repr_and_pickle_never_show_the_key(sealer):
    assert repr(sealer) == "Sealer(<redacted>)" and KEY.hex() not in str(sealer)
    with pytest.raises(TypeError):
        pickle.dumps(sealer)
    with pytest.raises(TypeError):
        copy.deepcopy(sealer)
