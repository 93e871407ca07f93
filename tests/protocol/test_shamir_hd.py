"""Shamir helpers and BIP32 non-hardened derivation (checked against bip-utils)."""

import pytest
from bip_utils import Bip32KeyData, Bip32Secp256k1
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import hd, shamir
from protocol.errors import UsageError
from protocol.group import ED25519, SECP256K1
from protocol.rng import SeededRng


@settings(max_examples=25)
@given(seed=st.binary(min_size=32, max_size=32), t=st.integers(1, 5), extra=st.integers(0, 4))
def test_any_t_plus_one_shares_interpolate_the_secret(seed, t, extra):
    rng = SeededRng(seed)
    for group in (SECP256K1, ED25519):
        secret = group.random_scalar(rng)
        poly = shamir.random_polynomial(group, rng, secret, t)
        subset = list(range(1 + extra, 2 + extra + t))
        total = group.scalar(0)
        for i in subset:
            total = total + shamir.lagrange_at_zero(group, i, subset) * shamir.evaluate(poly, i)
        assert total == secret


def test_lagrange_refuses_bad_subsets():
    for bad in ([], [1, 1], [0, 2]):
        with pytest.raises(UsageError):
            shamir.lagrange_at_zero(SECP256K1, 1, bad)
    with pytest.raises(UsageError):
        shamir.lagrange_at_zero(SECP256K1, 3, [1, 2])


@pytest.mark.parametrize("path", ["m", "m/0", "m/44/0/0/5", "m/2147483647/1/2"])
def test_secp256k1_children_match_bip_utils(path):
    rng = SeededRng(b"hd".ljust(32, b"\0"))
    x = SECP256K1.random_nonzero_scalar(rng)
    parent = SECP256K1.base_mul(x)
    chain = rng.random_bytes(32)
    child = hd.derive(SECP256K1, parent, chain, path)
    ref = Bip32Secp256k1.FromPublicKey(parent.encode(), Bip32KeyData(chain_code=chain)).DerivePath(path)
    assert child.public_key.encode() == ref.PublicKey().RawCompressed().ToBytes()
    assert child.chain_code == ref.ChainCode().ToBytes()
    assert SECP256K1.base_mul(x + child.tweak) == child.public_key


def test_ed25519_children_are_additive_tweaks():
    rng = SeededRng(b"hd-ed".ljust(32, b"\0"))
    x = ED25519.random_nonzero_scalar(rng)
    child = hd.derive(ED25519, ED25519.base_mul(x), bytes(32), "m/1/2")
    assert ED25519.base_mul(x + child.tweak) == child.public_key
    assert hd.derive(ED25519, ED25519.base_mul(x), bytes(32), "m/1/3").public_key != child.public_key


@pytest.mark.parametrize("path", ["m/0'", "m/1h", "m/2147483648", "44/0", "m/x", "m/01", "m/\u00b3", "m/\u0663", [2**31]])
def test_hardened_and_malformed_paths_are_refused(path):
    with pytest.raises(UsageError):
        hd.parse_path(path)


def test_hardened_refusal_says_why():
    with pytest.raises(UsageError, match="non-hardened"):
        hd.parse_path("m/44'/0")
