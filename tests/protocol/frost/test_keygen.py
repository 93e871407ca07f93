"""FROST DKG: honest runs for both suites, the certificate, the output records."""

import itertools
from dataclasses import replace

import pytest

from protocol import wire
from protocol.errors import EncodingError, UsageError
from protocol.frost import single_key
from protocol.frost.bip340 import BIP340
from protocol.frost.keygen import FrostKeygen
from protocol.frost.shares import MAX_PARTY_ID, FrostKeygenOutput, FrostKeyShare
from protocol.keygen_certificate import verify_keygen_certificate
from protocol.rng import SeededRng
from tests.protocol import simulator
from tests.protocol.frost import helpers
from tests.protocol.leaks import assert_never_copied

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
    verify_keygen_certificate(out.certificate, "key-1", group, out.certified_key, [1, 2, 3, 4], 2)
    verify_keygen_certificate(wire.encode(out.certificate, group), "key-1", group,
                              out.certified_key.encode(), [1, 2, 3, 4], 2)
    # The certified key is the share's key, up to BIP340's even-y normalization.
    assert out.share.verifying_key == out.share.ciphersuite.encode_public_key(out.certified_key)


@pytest.mark.parametrize(("n", "t"), [(3, 1), (4, 2)])
def test_bip340_keys_are_normalized_to_even_y_for_both_dkg_outcomes(n, t):
    """An odd-y DKG key is negated with every share (frost-secp256k1-tr); an even one is kept."""
    for dkg_even, seed in helpers.bip340_keys_by_dkg_parity(n, t).items():
        outputs = helpers.keygen("bip340", n, t, seed)
        certified = outputs[1].certified_key
        assert certified.has_even_y() is dkg_even
        for out in outputs.values():
            share = out.share
            assert share.public_key.has_even_y()
            assert share.public_key == (certified if dkg_even else -certified)
            assert share.public_key.encode() == b"\x02" + share.verifying_key
            assert share.verifying_key == certified.encode_xonly()
            assert share.group.base_mul(share.secret) == share.public_share(share.party)
        secret = single_key.recover_secret([o.share for o in outputs.values()][: t + 1])
        assert secret.group.base_mul(secret) == outputs[1].share.public_key
        signature = helpers.sign({p: o.share for p, o in outputs.items()}, list(range(1, t + 2)),
                                 b"normalized", seed=seed)
        assert signature.public_key == outputs[1].share.verifying_key
        assert helpers.bip340_verifies(signature.public_key, b"normalized", signature.signature)


def test_a_bip340_share_with_an_odd_key_or_a_foreign_certificate_is_refused():
    seeds = helpers.bip340_keys_by_dkg_parity(3, 1)
    out = helpers.keygen("bip340", 3, 1, seeds[False])[1]
    share = out.share
    with pytest.raises(ValueError, match="even y"):
        replace(share, secret=-share.secret, public_key=-share.public_key,
                public_shares=tuple(-x for x in share.public_shares))
    other = helpers.keygen("bip340", 3, 1, seeds[True])[1]
    with pytest.raises(ValueError, match="certified key"):
        FrostKeygenOutput(share, other.certificate)
    assert BIP340.adjust_key(out.certified_key)[0] == share.public_key


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


def test_a_key_share_is_never_pickled_or_copied():
    out = helpers.keygen("ed25519", 3, 1)[2]
    assert_never_copied(out.share, match="wire codec")
    assert_never_copied(out, match="wire codec")  # the output holds the share


def test_a_tampered_share_record_does_not_decode():
    share = helpers.shares("bip340", 3, 1)[1]
    group = share.group
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
    ("ed25519", 1, [1, MAX_PARTY_ID + 1], 1),
    ("bip340", 1, [1, 2, 70000], 2),
    ("ed25519", 1, [1, 2, 3], True),
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



def test_the_largest_party_id_works():
    parties = [1, MAX_PARTY_ID]
    machines = {p: FrostKeygen("ed25519", p, parties, 1, "k", b"s", SeededRng(p)) for p in parties}
    outputs = simulator.assert_success(simulator.run(machines))
    share = outputs[MAX_PARTY_ID].share
    assert wire.decode(wire.encode(share, share.group), FrostKeyShare, share.group) == share


@pytest.mark.parametrize("change", ["threshold", "key_id", "session"])
def test_parties_given_different_inputs_abort_without_blame(change):
    machines = helpers.keygen_machines("ed25519", 3, 1, seed="inputs")
    other = {"threshold": dict(t=2), "key_id": dict(key_id="key-2"), "session": dict(session=b"other")}
    machines[2] = helpers.keygen_machines("ed25519", 3, **({"t": 1} | other[change]), seed="inputs")[2]
    net = simulator.run(machines)
    for p, ch in net.channels.items():
        assert ch.result is None, f"party {p} output a key"
        assert ch.blame is not None and ch.blame.culprits == (), (p, ch.blame)
        assert "other inputs" in ch.blame.check
