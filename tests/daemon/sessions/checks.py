"""Independent checks of what the nodes return: coincurve, PyNaCl and bip-utils."""

from __future__ import annotations

import hashlib

import coincurve
from bip_utils import Bip32KeyData, Bip32Secp256k1
from nacl.signing import VerifyKey

from daemon.service import SignatureView


def assert_ecdsa(view: SignatureView, public_key: bytes, digest: bytes) -> None:
    """Valid r||s and DER under ``public_key`` for ``digest``; the recovery id recovers the key."""
    assert bytes.fromhex(view.public_key) == public_key
    assert bytes.fromhex(view.digest) == digest
    der, compact = bytes.fromhex(view.der), bytes.fromhex(view.signature)
    assert len(compact) == 64
    assert coincurve.PublicKey(public_key).verify(der, digest, hasher=None)
    recovered = coincurve.PublicKey.from_signature_and_message(compact + bytes([view.recovery_id]),
                                                               digest, hasher=None)
    assert recovered.format() == public_key


def assert_ed25519(view: SignatureView, public_key: bytes, message: bytes) -> None:
    assert bytes.fromhex(view.public_key) == public_key
    VerifyKey(public_key).verify(message, bytes.fromhex(view.signature))   # raises if invalid


def assert_bip340(view: SignatureView, xonly: bytes, digest: bytes) -> None:
    assert bytes.fromhex(view.public_key) == xonly
    assert coincurve.PublicKeyXOnly(xonly).verify(bytes.fromhex(view.signature), digest)


def bip32_child(public_key: bytes, chain_code: bytes, path: str) -> tuple[bytes, bytes]:
    """(compressed public key, chain code) of the child at ``path``, by bip-utils."""
    child = Bip32Secp256k1.FromPublicKey(public_key, Bip32KeyData(chain_code=chain_code)).DerivePath(path)
    return child.PublicKey().RawCompressed().ToBytes(), child.ChainCode().ToBytes()


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
