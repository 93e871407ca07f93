"""Signing under a BIP32 non-hardened child of a threshold key.

The child key is checked against bip_utils (an independent BIP32 implementation),
and the signature against coincurve and OpenSSL under the child key.
"""

import hashlib

import coincurve
import pytest
from bip_utils import Bip32KeyData, Bip32Secp256k1

from protocol import hd
from protocol.cmp.sign import FullSign
from protocol.cmp.signature import message_digest
from protocol.errors import UsageError
from protocol.rng import SeededRng
from tests.protocol.cmp.sign_helpers import (
    GROUP,
    agreed_signature,
    assert_valid_ecdsa,
    keys_for,
    presignatures,
    run_full_sign,
    run_sign,
)

KEYS = keys_for(3, 1)
SHARE = KEYS[1].share
PATH = "m/44/0/0/5"


def _bip_utils_child(path: str) -> bytes:
    parent = Bip32Secp256k1.FromPublicKey(SHARE.public_key.encode(),
                                          Bip32KeyData(chain_code=SHARE.chain_code))
    return parent.DerivePath(path).PublicKey().RawCompressed().ToBytes()


@pytest.mark.parametrize("path", [PATH, "m/0", "m/1/2/3/4/5/6"])
def test_derived_key_matches_bip_utils(path):
    derived = hd.derive(GROUP, SHARE.public_key, SHARE.chain_code, path)
    assert derived.public_key.encode() == _bip_utils_child(path)


def test_sign_with_a_path_verifies_under_the_child_key_only():
    presigs = presignatures(KEYS, (1, 3), sid=b"hd-sign")
    message = b"spend from m/44/0/0/5"
    sig = agreed_signature(run_sign(KEYS, presigs, message, path=PATH))
    digest = message_digest(message, "sha256")
    assert_valid_ecdsa(_bip_utils_child(PATH), digest, sig)
    assert not coincurve.PublicKey(SHARE.public_key.encode()).verify(sig.to_der(), digest, hasher=None)


def test_full_sign_with_a_path():
    digest = hashlib.sha256(b"raw digest under a child key").digest()
    sig = agreed_signature(run_full_sign(KEYS, (2, 3), digest, path=PATH))
    assert_valid_ecdsa(_bip_utils_child(PATH), digest, sig)


@pytest.mark.parametrize("path", ["m/44'/0", "m/0h", "m/2147483648"])
def test_hardened_paths_are_refused(path):
    with pytest.raises(UsageError, match="hardened"):
        FullSign(KEYS[1], (1, 2), bytes(32), b"sid", SeededRng(1), path=path)
