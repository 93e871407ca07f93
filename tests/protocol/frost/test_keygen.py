"""FROST DKG: honest runs for both suites, the certificate, the output records."""

import itertools
import pickle

import pytest

from protocol import wire
from protocol.errors import EncodingError, UsageError
from protocol.frost import single_key
from protocol.frost.keygen import FrostKeygen
from protocol.frost.shares import FrostKeygenOutput, FrostKeyShare
from protocol.keygen_certificate import verify_keygen_certificate
from protocol.rng import SeededRng
from tests.protocol import simulator
from tests.protocol.frost import helpers

CONFIGS = [(2, 1), (3, 1), (3, 2), (4, 1), (4, 2), (4, 3), (5, 2), (5, 4)]


@pytest.mark.parametrize("suite", helpers.SUITES)
@pytest.mark.parametrize(("n", "t"), CONFIGS)
def test_dkg_gives_consistent_shares_of_one_key(suite, n, t):
    outputs = helpers.keygen(suite, n, t)
    shares = [o.share for o in outputs.values()]
    first = shares[0]
    assert {s.public_key for s in shares} == {first.public_key}
    assert {s.public_shares for s in shares} == {first.public_shares}
    assert {s.chain_code for s in shares} == {first.chain_code}
    assert [s.party for s in shares] == list(range(1, n + 1))
    assert all((s.epoch, s.threshold, s.suite, s.key_id) == (0, t, suite, "key-1") for s in shares)
    # Any t+1 shares recover the secret of the public key; t shares determine nothing checkable.
    for subset in itertools.combinations(shares, t + 1):
        single_key.recover_secret(list(subset))
    with pytest.raises(UsageError):
        single_key.recover_secret(shares[:t])


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_certificate_proves_the_public_key(suite):
    outputs = helpers.keygen(suite, 4, 2)
    out = outputs[1]
    assert {o.certificate for o in outputs.values()} == {out.certificate}
    group = out.share.group
    verify_keygen_certificate(out.certificate, "key-1", group, out.share.public_key, [1, 2, 3, 4], 2)
    verify_keygen_certificate(wire.encode(out.certificate, group), "key-1", group,
                              out.share.public_key.encode(), [1, 2, 3, 4], 2)


def test_ten_parties():
    outputs = helpers.keygen("ed25519", 10, 6)
    shares = [o.share for o in outputs.values()]
    single_key.recover_secret(shares[3:10])


def test_seven_parties_bip340_signs():
    key = helpers.shares("bip340", 7, 3)
    signature = helpers.sign(key, [2, 4, 6, 7], b"seven")
    assert helpers.bip340_verifies(signature.public_key, b"seven", signature.signature)


def test_outputs_round_trip_through_the_codec_and_hide_the_secret():
    out = helpers.keygen("ed25519", 3, 1)[2]
    group = out.share.group
    assert wire.decode(wire.encode(out, group), FrostKeygenOutput, group) == out
    assert wire.decode(wire.encode(out.share, group), FrostKeyShare, group) == out.share
    text = repr(out) + repr(out.share) + str(out.share)
    assert "redacted" in text and out.share.secret.encode().hex() not in text
    assert pickle.loads(pickle.dumps(out.share)) == out.share


def test_a_tampered_share_record_does_not_decode():
    share = helpers.shares("bip340", 3, 1)[1]
    group = share.group
    from dataclasses import replace
    with pytest.raises(ValueError):
        replace(share, secret=share.secret + 1)
    with pytest.raises(ValueError):
        replace(share, suite="ed25519")
    with pytest.raises(ValueError):
        replace(share, public_shares=(share.public_shares[1], share.public_shares[0],
                                      share.public_shares[2]))
    encoded = bytearray(wire.encode(share, group))
    encoded[-40] ^= 1  # a byte of the last public share (the chain code is the last 34 bytes)
    with pytest.raises(EncodingError):
        wire.decode(bytes(encoded), FrostKeyShare, group)


def test_verifying_key_is_the_suites_encoding():
    ed = helpers.shares("ed25519", 2, 1)[1]
    bip = helpers.shares("bip340", 2, 1)[1]
    assert ed.verifying_key == ed.public_key.encode()
    assert bip.verifying_key == bip.public_key.encode_xonly() and len(bip.verifying_key) == 32


def test_different_sessions_give_different_keys():
    a = simulator.assert_success(simulator.run(helpers.keygen_machines("ed25519", 3, 1, seed="x")))
    b = simulator.assert_success(simulator.run(helpers.keygen_machines("ed25519", 3, 1, seed="y")))
    assert a[1].share.public_key != b[1].share.public_key
    assert a[1].share.chain_code != b[1].share.chain_code


@pytest.mark.parametrize("args", [
    ("ed448", 1, [1, 2, 3], 1),
    ("ed25519", 1, [1, 2, 3], 3),
    ("ed25519", 1, [1, 2, 3], 0),
    ("ed25519", 4, [1, 2, 3], 1),
    ("ed25519", 1, [1], 1),
    ("bip340", 1, [2, 1, 3], 1),
])
def test_bad_parameters_are_usage_errors(args):
    suite, party, parties, t = args
    with pytest.raises(UsageError):
        FrostKeygen(suite, party, parties, t, "k", b"s", SeededRng(1))


def test_key_id_and_session_id_are_checked():
    with pytest.raises(UsageError):
        FrostKeygen("ed25519", 1, [1, 2], 1, "", b"s", SeededRng(1))
    with pytest.raises(UsageError):
        FrostKeygen("ed25519", 1, [1, 2], 1, "k" * 200, b"s", SeededRng(1))
    with pytest.raises(UsageError):
        FrostKeygen("ed25519", 1, [1, 2], 1, "k", "not-bytes", SeededRng(1))

