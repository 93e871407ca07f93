"""FROST signing end to end: DKG then sign through the simulator, checked by other libraries."""

import itertools

import pytest
from bip_utils import Bip32ChainCode, Bip32KeyData, Bip32Secp256k1, P2TRAddrDecoder, P2TRAddrEncoder
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import hd
from protocol.errors import UsageError
from protocol.frost import single_key
from protocol.frost.sign import FrostSign
from protocol.rng import SeededRng
from tests.protocol import simulator
from tests.protocol.frost import helpers
from tests.protocol.frost.test_keygen import CONFIGS


@pytest.mark.parametrize("suite", helpers.SUITES)
@pytest.mark.parametrize(("n", "t"), CONFIGS)
def test_dkg_then_sign_verifies_externally(suite, n, t):
    key = helpers.shares(suite, n, t)
    signers = list(range(n - t, n + 1))  # the last t+1 parties
    message = f"{suite} {n}-of-{t} message".encode()
    sig = helpers.sign(key, signers, message)
    assert len(sig.signature) == 64 and sig.public_key == key[n].verifying_key
    assert helpers.external_verify(suite, sig.public_key, message, sig.signature)
    assert not helpers.external_verify(suite, sig.public_key, message + b".", sig.signature)


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_every_signer_set_of_a_4_of_2_key_signs(suite):
    key = helpers.shares(suite, 4, 2)
    for size in (3, 4):
        for signers in itertools.combinations([1, 2, 3, 4], size):
            message = bytes(signers)
            sig = helpers.sign(key, signers, message, seed=str(signers))
            assert helpers.external_verify(suite, sig.public_key, message, sig.signature)


@settings(max_examples=8)
@given(st.sampled_from(helpers.SUITES), st.sets(st.integers(1, 5), min_size=3, max_size=5),
       st.binary(max_size=80))
def test_any_large_enough_signer_set_signs_any_message(suite, signers, message):
    key = helpers.shares(suite, 5, 2)
    sig = helpers.sign(key, sorted(signers), message)
    assert helpers.external_verify(suite, sig.public_key, message, sig.signature)


def test_the_signature_is_random_but_always_valid():
    key = helpers.shares("ed25519", 3, 1)
    a = helpers.sign(key, [1, 2], b"same", seed="a")
    b = helpers.sign(key, [1, 2], b"same", seed="b")
    assert a.signature != b.signature and a.public_key == b.public_key


@pytest.mark.parametrize("suite", helpers.SUITES)
@pytest.mark.parametrize("path", ["m/0", "m/44/0/7", "m/2147483647/1"])
def test_hd_children_sign_for_the_derived_key(suite, path):
    key = helpers.shares(suite, 3, 1)
    share = key[1]
    child = hd.derive(share.group, share.public_key, share.chain_code, path).public_key
    sig = helpers.sign(key, [1, 3], b"child", path=path)
    assert sig.public_key == share.ciphersuite.encode_public_key(child)
    assert sig.public_key != share.verifying_key
    assert helpers.external_verify(suite, sig.public_key, b"child", sig.signature)


def test_bip340_children_match_bip32_public_derivation_in_bip_utils():
    share = helpers.shares("bip340", 3, 1)[2]
    parent = Bip32Secp256k1.FromPublicKey(share.public_key.encode(),
                                          Bip32KeyData(chain_code=Bip32ChainCode(share.chain_code)))
    expected = parent.DerivePath("m/5/6").PublicKey().RawCompressed().ToBytes()[1:]
    sig = helpers.sign(helpers.shares("bip340", 3, 1), [2, 3], b"bip32", path="m/5/6")
    assert sig.public_key == expected
    assert helpers.bip340_verifies(expected, b"bip32", sig.signature)


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_hardened_derivation_is_refused(suite):
    share = helpers.shares(suite, 3, 1)[1]
    for path in ("m/0'", "m/1/2h", [2**31]):
        with pytest.raises(UsageError, match="hardened"):
            FrostSign(share, [1, 2], b"m", b"s", SeededRng(1), path=path)


@pytest.mark.parametrize("path", [None, "m/3/1"])
def test_taproot_key_path_signature(path):
    key = helpers.shares("bip340", 4, 2)
    share = key[1]
    internal = share.public_key
    if path is not None:
        internal = hd.derive(share.group, internal, share.chain_code, path).public_key
    expected = helpers.bip341_output_key(internal.encode())
    address = P2TRAddrEncoder.EncodeKey(internal.encode(), hrp="bcrt")
    assert P2TRAddrDecoder.DecodeAddr(address, hrp="bcrt") == expected
    sig = helpers.sign(key, [1, 2, 4], b"taproot spend", path=path, taproot=True)
    assert sig.public_key == expected
    assert helpers.bip340_verifies(expected, b"taproot spend", sig.signature)


def test_taproot_needs_bip340():
    share = helpers.shares("ed25519", 3, 1)[1]
    with pytest.raises(UsageError, match="Taproot"):
        FrostSign(share, [1, 2], b"m", b"s", SeededRng(1), taproot=True)


def test_both_parities_of_group_key_and_commitment_occur_and_verify():
    """Over a few keys and sessions, odd and even y occur for the key and for R; all verify."""
    key_parities, nonce_signs = set(), set()
    for seed in range(8):
        key = helpers.shares("bip340", 3, 1, str(seed))
        key_parities.add(key[1].public_key.has_even_y())
        for session in (b"a", b"b", b"c"):
            net = simulator.run(helpers.sign_machines(key, [1, 3], b"parity", session=session))
            sig = simulator.assert_success(net)[1]
            assert helpers.bip340_verifies(sig.public_key, b"parity", sig.signature)
            nonce_signs.add(net.channels[1].machine._rounds[2].package.nonce_sign)
        if len(key_parities) == 2 and len(nonce_signs) == 2:
            break
    assert key_parities == {True, False} and nonce_signs == {1, -1}


def test_a_recovered_key_signs_for_the_same_keys_as_the_threshold():
    for suite in helpers.SUITES:
        key = helpers.shares(suite, 3, 1)
        secret = single_key.recover_secret([key[1], key[3]])
        share = key[1]
        for options in ({}, {"path": "m/9"}) + (({"taproot": True},) if suite == "bip340" else ()):
            threshold_sig = helpers.sign(key, [2, 3], b"both", **options)
            raw = single_key.sign(suite, secret, b"both", chain_code=share.chain_code, **options)
            assert single_key.public_key(suite, secret, chain_code=share.chain_code,
                                         **options) == threshold_sig.public_key
            assert helpers.external_verify(suite, threshold_sig.public_key, b"both", raw)


def test_signer_set_and_message_are_checked():
    share = helpers.shares("ed25519", 4, 2)[1]
    with pytest.raises(UsageError):
        FrostSign(share, [1, 2], b"m", b"s", SeededRng(1))        # fewer than t+1
    with pytest.raises(UsageError):
        FrostSign(share, [2, 3, 4], b"m", b"s", SeededRng(1))     # this party is missing
    with pytest.raises(UsageError):
        FrostSign(share, [1, 2, 5], b"m", b"s", SeededRng(1))     # 5 holds no share
    with pytest.raises(UsageError):
        FrostSign(share, [1, 2, 3], "text", b"s", SeededRng(1))   # not bytes
    with pytest.raises(UsageError):
        FrostSign(share, [1, 2, 3], b"m", b"", SeededRng(1))      # empty session id
