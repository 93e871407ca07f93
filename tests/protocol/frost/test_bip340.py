"""BIP340/BIP341: the reference test vectors through our verifier, even-y rules, Taproot."""

import csv
from pathlib import Path

import pytest
from bip_utils import P2TRAddrDecoder, P2TRAddrEncoder
from coincurve import PrivateKey

from protocol.errors import UsageError
from protocol.frost import single_key
from protocol.frost.bip340 import BIP340, tagged_hash
from protocol.frost.tweak import signing_key
from protocol.group import SECP256K1
from tests.protocol.frost import helpers

DATA = Path(__file__).resolve().parents[2] / "data" / "frost" / "bip340_test_vectors.csv"
ROWS = list(csv.DictReader(DATA.open()))


def test_the_vector_file_is_complete():
    assert [int(r["index"]) for r in ROWS] == list(range(19))


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"v{r['index']}")
def test_reference_vectors_verify_as_specified(row):
    public_key, message = bytes.fromhex(row["public key"]), bytes.fromhex(row["message"])
    signature = bytes.fromhex(row["signature"])
    expected = row["verification result"] == "TRUE"
    assert BIP340.verify(public_key, message, signature) is expected


@pytest.mark.parametrize("row", [r for r in ROWS if r["secret key"]], ids=lambda r: f"v{r['index']}")
def test_raw_scalar_signing_reproduces_the_vectors(row):
    secret = SECP256K1.scalar(int(row["secret key"], 16))
    message = bytes.fromhex(row["message"])
    assert single_key.public_key(BIP340, secret).hex().upper() == row["public key"]
    signature = single_key.sign(BIP340, secret, message, aux=bytes.fromhex(row["aux_rand"]))
    assert signature.hex().upper() == row["signature"]
    assert helpers.bip340_verifies(bytes.fromhex(row["public key"]), message, signature)


def test_tagged_hash_is_bip340s():
    import hashlib
    tag = hashlib.sha256(b"BIP0340/challenge").digest()
    assert tagged_hash("BIP0340/challenge", b"x") == hashlib.sha256(tag + tag + b"x").digest()


def test_hooks_negate_exactly_the_odd_points():
    odd = next(SECP256K1.base_mul(k) for k in range(1, 50) if not SECP256K1.base_mul(k).has_even_y())
    even = -odd
    assert BIP340.adjust_key(odd) == (even, -1)
    assert BIP340.adjust_key(even) == (even, 1)
    assert BIP340.adjust_commitment(odd) == (even, -1)
    assert BIP340.encode_public_key(odd) == BIP340.encode_public_key(even) == even.encode_xonly()
    with pytest.raises(UsageError):
        BIP340.encode_signature(odd, SECP256K1.scalar(1))


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8, 13])
def test_taproot_output_key_matches_bip341_computed_independently(k):
    secret = SECP256K1.scalar(k * 0x1234567)
    internal = SECP256K1.base_mul(secret)
    tweaked = signing_key(BIP340, internal, taproot=True)
    expected = helpers.bip341_output_key(internal.encode())
    assert tweaked.public_key.encode_xonly() == expected
    address = P2TRAddrEncoder.EncodeKey(internal.encode(), hrp="bc")
    assert P2TRAddrDecoder.DecodeAddr(address, hrp="bc") == expected
    # The described secret really is the output key's secret (with BIP340 parity).
    assert SECP256K1.base_mul(tweaked.secret(secret)) == tweaked.public_key
    assert tweaked.public_key.has_even_y()


def test_raw_taproot_signature_verifies_under_the_output_key():
    secret = SECP256K1.scalar(int.from_bytes(PrivateKey(b"\x07" * 32).secret, "big"))
    output = single_key.public_key(BIP340, secret, taproot=True)
    signature = single_key.sign(BIP340, secret, b"spend", taproot=True)
    assert output == helpers.bip341_output_key(SECP256K1.base_mul(secret).encode())
    assert helpers.bip340_verifies(output, b"spend", signature)


def test_taproot_is_refused_for_ed25519():
    from protocol.frost.ed25519 import ED25519_SHA512
    with pytest.raises(UsageError, match="Taproot"):
        signing_key(ED25519_SHA512, ED25519_SHA512.group.generator, taproot=True)


def test_verifier_refuses_malformed_inputs():
    secret = SECP256K1.scalar(99)
    signature = single_key.sign(BIP340, secret, b"m")
    key = single_key.public_key(BIP340, secret)
    assert BIP340.verify(key, b"m", signature)
    assert not BIP340.verify(key, b"m", signature[:63])
    assert not BIP340.verify(key[:31], b"m", signature)
    assert not BIP340.verify(b"\xff" * 32, b"m", signature)
    # The full point of either parity stands for its x-only key.
    point = SECP256K1.base_mul(secret)
    assert BIP340.verify(point, b"m", signature) and BIP340.verify(-point, b"m", signature)
