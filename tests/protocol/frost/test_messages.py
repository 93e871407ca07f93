"""FROST wire messages (type ids 0x03xx, pinned bytes) and the suite interface."""

import pytest

from protocol import wire
from protocol.errors import EncodingError
from protocol.frost.ciphersuite import Ciphersuite
from protocol.frost.keygen_round1 import DkgCommit, DkgShare
from protocol.frost.keygen_round2 import DkgReveal
from protocol.frost.refresh_round1 import RefreshCommit, RefreshShare
from protocol.frost.shares import FrostKeygenOutput, FrostKeyShare, FrostSignature
from protocol.frost.sign_round1 import SigningCommitments
from protocol.frost.sign_round2 import SignatureShare
from protocol.frost.suites import SUITES
from protocol.group import ED25519
from tests.protocol.frost import helpers

TYPE_IDS = {FrostKeyShare: 0x0301, FrostKeygenOutput: 0x0302, FrostSignature: 0x0303,
            DkgCommit: 0x0310, DkgShare: 0x0311, DkgReveal: 0x0312,
            SigningCommitments: 0x0320, SignatureShare: 0x0321,
            RefreshCommit: 0x0330, RefreshShare: 0x0331}


def test_type_ids_are_in_the_frost_range():
    for cls, type_id in TYPE_IDS.items():
        assert cls.__wire_type_id__ == type_id and 0x0301 <= type_id <= 0x03FF


def test_golden_bytes():
    # [version 1, type 0x0312, suite 0, bin8 of 32 bytes]
    assert wire.encode(DkgReveal(bytes(32))) == bytes.fromhex("9401cd031200c420") + bytes(32)
    # [version 1, type 0x0321, suite 2 (ed25519), bin8 of the little-endian scalar 1]
    share = SignatureShare(ED25519.scalar(1))
    assert wire.encode(share, ED25519) == bytes.fromhex("9401cd032102c42001") + bytes(31)


def test_protocol_messages_round_trip_and_secrets_are_redacted():
    group = ED25519
    x = group.scalar(12345)
    for msg in (DkgShare(x), RefreshShare(x), SignatureShare(x),
                RefreshCommit(bytes(32), (group.generator,)),
                FrostSignature(bytes(64), bytes(32))):
        assert wire.decode(wire.encode(msg, group), type(msg), group) == msg
    assert "redacted" in repr(DkgShare(x)) and "redacted" in repr(RefreshShare(x))


def test_a_message_of_another_group_is_refused():
    from protocol.group import SECP256K1
    body = wire.encode(SignatureShare(SECP256K1.scalar(1)), SECP256K1)
    with pytest.raises(EncodingError):
        wire.decode(body, SignatureShare, ED25519)


def test_every_suite_implements_the_interface():
    for suite in SUITES.values():
        assert isinstance(suite, Ciphersuite)


def test_the_rfc_secp256k1_suite_runs_through_the_same_machines():
    key = helpers.shares("secp256k1", 3, 2)
    signature = helpers.sign(key, [1, 2, 3], b"generic", path="m/1")
    assert len(signature.signature) == 65 and len(signature.public_key) == 33
    assert SUITES["secp256k1"].verify(signature.public_key, b"generic", signature.signature)
