"""Sealing at rest: only the right master key and the right record key open a record."""

from __future__ import annotations

import copy
import pickle

import pytest

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
    assert first != second                                # a fresh nonce each time
    assert SECRET[:16] not in first and KEY not in first
    assert first[0] == 1 and len(first) == 1 + 12 + len(SECRET) + 16


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
        sealer.open(RECORD, b"\x02" + blob[1:])


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
