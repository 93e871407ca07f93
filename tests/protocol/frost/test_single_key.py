"""Signing with a raw Ed25519 scalar (a recovered threshold key) verifies with standard verifiers."""

import hashlib

import pytest

from protocol.errors import UsageError
from protocol.frost import single_key
from protocol.group import ED25519
from protocol.rng import SeededRng
from tests.protocol.frost import helpers


def _scalar(i: int):
    # Uniform scalars mod L: almost none of them is the clamped hash of any RFC 8032 seed.
    return ED25519.scalar(int.from_bytes(hashlib.sha512(b"scalar %d" % i).digest(), "little"))


@pytest.mark.parametrize("i", range(8))
def test_raw_scalar_ed25519_signatures_verify_with_pynacl_and_cryptography(i):
    secret = _scalar(i)
    public_key = single_key.public_key("ed25519", secret)
    assert public_key == ED25519.base_mul(secret).encode()
    for message in (b"", b"x", bytes(range(256)) * 3):
        signature = single_key.sign("ed25519", secret, message)
        assert helpers.ed25519_verifies(public_key, message, signature)
        assert not helpers.ed25519_verifies(public_key, message + b"?", signature)


def test_deterministic_without_rng_and_hedged_with_one():
    secret = _scalar(1)
    assert single_key.sign("ed25519", secret, b"m") == single_key.sign("ed25519", secret, b"m")
    a = single_key.sign("ed25519", secret, b"m", rng=SeededRng(1))
    b = single_key.sign("ed25519", secret, b"m", rng=SeededRng(2))
    assert a != b
    key = single_key.public_key("ed25519", secret)
    assert helpers.ed25519_verifies(key, b"m", a) and helpers.ed25519_verifies(key, b"m", b)


def test_recovered_threshold_key_signs_like_the_threshold():
    key = helpers.shares("ed25519", 4, 2)
    secret = single_key.recover_secret([key[4], key[1], key[2]])
    signature = single_key.sign("ed25519", secret, b"recovered", rng=SeededRng(9))
    assert helpers.ed25519_verifies(key[1].verifying_key, b"recovered", signature)
    child = single_key.public_key("ed25519", secret, chain_code=key[1].chain_code, path="m/4/2")
    signature = single_key.sign("ed25519", secret, b"child", chain_code=key[1].chain_code, path="m/4/2")
    assert helpers.ed25519_verifies(child, b"child", signature)


def test_recover_secret_refuses_bad_inputs():
    key = helpers.shares("ed25519", 4, 2)
    with pytest.raises(UsageError):
        single_key.recover_secret([])
    with pytest.raises(UsageError):
        single_key.recover_secret([key[1], key[1], key[2]])
    with pytest.raises(UsageError):
        single_key.recover_secret([key[1], helpers.shares("bip340", 4, 2)[2], key[3]])


def test_sign_refuses_a_zero_or_foreign_secret():
    with pytest.raises(UsageError):
        single_key.sign("ed25519", ED25519.scalar(0), b"m")
    from protocol.group import SECP256K1
    with pytest.raises(UsageError):
        single_key.sign("ed25519", SECP256K1.scalar(3), b"m")
    with pytest.raises(UsageError):
        single_key.sign("ed25519", _scalar(1), "text")


def test_a_raw_bip340_secret_of_either_parity_derives_like_an_xpub_of_its_x_only_key():
    """HD derivation for BIP340 starts from the even-y key 0x02 || x, whatever the secret's parity."""
    from bip_utils import Bip32ChainCode, Bip32KeyData, Bip32Secp256k1

    from protocol.group import SECP256K1
    chain_code = hashlib.sha256(b"chain").digest()
    parities = set()
    for k in range(1, 12):
        secret = SECP256K1.scalar(k * 0x1F2E3D4C5B6A)
        parities.add(SECP256K1.base_mul(secret).has_even_y())
        xonly = single_key.public_key("bip340", secret)
        xpub = Bip32Secp256k1.FromPublicKey(b"\x02" + xonly,
                                            Bip32KeyData(chain_code=Bip32ChainCode(chain_code)))
        expected = xpub.DerivePath("m/3/5").PublicKey().RawCompressed().ToBytes()[1:]
        assert single_key.public_key("bip340", secret, chain_code=chain_code, path="m/3/5") == expected
        signature = single_key.sign("bip340", secret, b"child", chain_code=chain_code, path="m/3/5")
        assert helpers.bip340_verifies(expected, b"child", signature)
    assert parities == {True, False}


def test_suites_are_given_by_name_or_as_themselves():
    from protocol.frost.ed25519 import ED25519_SHA512
    secret = _scalar(3)
    assert single_key.public_key(ED25519_SHA512, secret) == single_key.public_key("ed25519", secret)
    with pytest.raises(UsageError, match="unknown"):
        single_key.public_key("ed448", secret)
    with pytest.raises(UsageError, match="not a FROST ciphersuite"):
        single_key.sign(object(), secret, b"m")
