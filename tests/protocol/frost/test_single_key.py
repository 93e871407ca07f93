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
