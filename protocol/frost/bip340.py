"""FROST for BIP340 Schnorr signatures on secp256k1 (Taproot), as frost-secp256k1-tr.

The suite is FROST(secp256k1, SHA-256) with its own context string and BIP340's
rules, all of them in this module's hooks:

* H2 is BIP340's tagged hash "BIP0340/challenge", reduced modulo n, and the
  challenge hashes only the x coordinates of R and of the public key;
* a public key and a group commitment R stand for their even-y forms:
  ``adjust_key``/``adjust_commitment`` negate a point with an odd y, and the
  signing code then negates the secret (key share or nonces) to match; the DKG
  applies ``adjust_key`` once to its result, so key shares hold even-y keys;
* signatures are x(R) || z (64 bytes), public keys 32-byte x-only;
* ``taproot_tweak`` is BIP341's key-path tweak for an output key without a script
  tree (BIP86): t = H_TapTweak(x(P));
* ``single_nonce`` is BIP340's nonce derivation with auxiliary randomness.
"""

from __future__ import annotations

import hashlib

from protocol.errors import UsageError
from protocol.frost.secp256k1 import Secp256k1Sha256
from protocol.group import Point, Scalar

_TAGS: dict[str, bytes] = {}


def tagged_hash(tag: str, data: bytes) -> bytes:
    """BIP340's SHA256(SHA256(tag) || SHA256(tag) || data)."""
    prefix = _TAGS.get(tag)
    if prefix is None:
        digest = hashlib.sha256(tag.encode()).digest()
        prefix = _TAGS[tag] = digest + digest
    return hashlib.sha256(prefix + data).digest()


class Bip340Sha256(Secp256k1Sha256):
    name = "bip340"
    context = b"FROST-secp256k1-SHA256-TR-v1"

    @property
    def signature_size(self) -> int:
        return 64

    @property
    def public_key_size(self) -> int:
        return 32

    def _tagged_scalar(self, tag: str, data: bytes) -> Scalar:
        return self.group.scalar(int.from_bytes(tagged_hash(tag, data), "big"))

    def h2(self, m: bytes) -> Scalar:
        return self._tagged_scalar("BIP0340/challenge", m)

    def challenge(self, commitment: Point, public_key: Point, message: bytes) -> Scalar:
        return self.h2(commitment.encode_xonly() + public_key.encode_xonly() + message)

    @staticmethod
    def _even(point: Point) -> tuple[Point, int]:
        if point.is_identity():
            raise UsageError("the identity has no BIP340 form")
        return (point, 1) if point.has_even_y() else (-point, -1)

    def adjust_key(self, public_key: Point) -> tuple[Point, int]:
        return self._even(public_key)

    def adjust_commitment(self, commitment: Point) -> tuple[Point, int]:
        return self._even(commitment)

    def taproot_tweak(self, public_key: Point) -> Scalar:
        t = int.from_bytes(tagged_hash("TapTweak", public_key.encode_xonly()), "big")
        if t >= self.group.order:
            raise UsageError("the Taproot tweak is not below the group order (BIP341)")
        return self.group.scalar(t)

    def single_nonce(self, secret: Scalar, public_key: Point, message: bytes, aux: bytes) -> Scalar:
        """BIP340's k' for the secret d of the even-y key ``public_key``."""
        if len(aux) != 32:
            raise UsageError("BIP340 auxiliary randomness is 32 bytes")
        masked = bytes(a ^ b for a, b in zip(self.serialize_scalar(secret),
                                             tagged_hash("BIP0340/aux", aux), strict=True))
        k = self._tagged_scalar("BIP0340/nonce", masked + public_key.encode_xonly() + message)
        if k.is_zero():
            raise UsageError("BIP340 nonce is zero; use other auxiliary randomness")
        return k

    def encode_signature(self, commitment: Point, z: Scalar) -> bytes:
        if not commitment.has_even_y():
            raise UsageError("a BIP340 signature commits to an even-y R")
        return commitment.encode_xonly() + self.serialize_scalar(z)

    def _decode_commitment(self, data: bytes) -> Point:
        return self.group.decode_xonly(data)

    def encode_public_key(self, public_key: Point) -> bytes:
        return public_key.encode_xonly()

    def decode_public_key(self, data: bytes) -> Point:
        return self.group.decode_xonly(data)


BIP340 = Bip340Sha256()

__all__ = ["BIP340", "Bip340Sha256", "tagged_hash"]
