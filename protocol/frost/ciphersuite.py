"""The FROST ciphersuite interface (RFC 9591 §6) and the RFC's default behaviour.

``Ciphersuite`` is what frost-core's trait of the same name is: the prime-order
group, the hash functions H1..H5, the challenge, the signature encoding, and the
hooks through which a suite changes the plain RFC protocol without the protocol
code ever branching on the suite:

* ``adjust_key(P) -> (P', s)`` and ``adjust_commitment(R) -> (R', s)`` return the
  point the signature will use and the sign s ∈ {1, -1} with P' = s·P. The RFC
  suites return (P, 1); BIP340 negates a point with an odd y.
* ``taproot_tweak(P)``: the BIP341 key-path tweak, for suites that have one.
* ``single_nonce``: the nonce of a single-key signature (BIP340 fixes its own).

``RfcCiphersuite`` implements everything the RFC specifies once; a curve module
supplies only its hash-to-scalar and whatever it overrides.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from typing import ClassVar, Protocol, runtime_checkable

from protocol.errors import EncodingError, UsageError
from protocol.group import Group, Point, Scalar


@runtime_checkable
class Ciphersuite(Protocol):
    """What FROST needs from one (group, hash) pair; see the module docstring."""

    name: str
    context: bytes
    group: Group
    signature_size: int
    public_key_size: int

    def h1(self, m: bytes) -> Scalar: ...
    def h2(self, m: bytes) -> Scalar: ...
    def h3(self, m: bytes) -> Scalar: ...
    def h4(self, m: bytes) -> bytes: ...
    def h5(self, m: bytes) -> bytes: ...
    def serialize_element(self, p: Point) -> bytes: ...
    def serialize_scalar(self, s: Scalar) -> bytes: ...
    def challenge(self, commitment: Point, public_key: Point, message: bytes) -> Scalar: ...
    def adjust_key(self, public_key: Point) -> tuple[Point, int]: ...
    def adjust_commitment(self, commitment: Point) -> tuple[Point, int]: ...
    def taproot_tweak(self, public_key: Point) -> Scalar: ...
    def single_nonce(self, secret: Scalar, public_key: Point, message: bytes, aux: bytes) -> Scalar: ...
    def encode_signature(self, commitment: Point, z: Scalar) -> bytes: ...
    def decode_signature(self, signature: bytes) -> tuple[Point, Scalar]: ...
    def encode_public_key(self, public_key: Point) -> bytes: ...
    def decode_public_key(self, data: bytes) -> Point: ...
    def verify(self, public_key: Point | bytes, message: bytes, signature: bytes) -> bool: ...


class RfcCiphersuite(ABC):
    """RFC 9591's generic ciphersuite: subclasses set the constants and ``_hash_to_scalar``."""

    name: ClassVar[str]
    context: ClassVar[bytes]
    group: ClassVar[Group]
    #: the suite's hash function H, by its ``hashlib`` name
    hash_name: ClassVar[str]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"

    # -- what a curve module provides ---------------------------------------------------

    @abstractmethod
    def _hash_to_scalar(self, dst: bytes, m: bytes) -> Scalar:
        """A uniform scalar from ``m`` under the domain ``dst`` (context string + label)."""

    def _digest(self, m: bytes) -> bytes:
        """The suite's hash function H."""
        return hashlib.new(self.hash_name, m).digest()

    # -- RFC 9591 §6: H1..H5 ---------------------------------------------------------------

    def h1(self, m: bytes) -> Scalar:
        return self._hash_to_scalar(self.context + b"rho", m)

    def h2(self, m: bytes) -> Scalar:
        return self._hash_to_scalar(self.context + b"chal", m)

    def h3(self, m: bytes) -> Scalar:
        return self._hash_to_scalar(self.context + b"nonce", m)

    def h4(self, m: bytes) -> bytes:
        return self._digest(self.context + b"msg" + m)

    def h5(self, m: bytes) -> bytes:
        return self._digest(self.context + b"com" + m)

    # -- encodings ---------------------------------------------------------------------

    @property
    def signature_size(self) -> int:
        return self.group.point_size + self.group.scalar_size

    @property
    def public_key_size(self) -> int:
        return self.group.point_size

    def serialize_element(self, p: Point) -> bytes:
        if p.group is not self.group or p.is_identity():
            raise UsageError("FROST never serializes the identity or a point of another group")
        return p.encode()

    def serialize_scalar(self, s: Scalar) -> bytes:
        return self.group.scalar(s).encode()

    def encode_signature(self, commitment: Point, z: Scalar) -> bytes:
        return self.serialize_element(commitment) + self.serialize_scalar(z)

    def decode_signature(self, signature: bytes) -> tuple[Point, Scalar]:
        """(R, z); EncodingError for anything but a canonical, non-identity R and z < q."""
        if not isinstance(signature, bytes) or len(signature) != self.signature_size:
            raise EncodingError(f"a {self.name} signature is {self.signature_size} bytes")
        size = self.signature_size - self.group.scalar_size
        return self._decode_commitment(signature[:size]), self.group.decode_scalar(signature[size:])

    def _decode_commitment(self, data: bytes) -> Point:
        return self.group.decode_point(data)

    def encode_public_key(self, public_key: Point) -> bytes:
        return self.serialize_element(self.adjust_key(public_key)[0])

    def decode_public_key(self, data: bytes) -> Point:
        return self.group.decode_point(data)

    # -- the signature equation and its hooks -----------------------------------------

    def challenge(self, commitment: Point, public_key: Point, message: bytes) -> Scalar:
        return self.h2(self.serialize_element(commitment) + self.serialize_element(public_key) + message)

    def adjust_key(self, public_key: Point) -> tuple[Point, int]:
        return public_key, 1

    def adjust_commitment(self, commitment: Point) -> tuple[Point, int]:
        return commitment, 1

    def taproot_tweak(self, public_key: Point) -> Scalar:
        raise UsageError(f"the {self.name} suite has no Taproot tweak (only bip340 does)")

    def single_nonce(self, secret: Scalar, public_key: Point, message: bytes, aux: bytes) -> Scalar:
        """H3(aux || secret || public key || H4(message)): fresh with random ``aux``, else deterministic."""
        return self.h3(aux + self.serialize_scalar(secret) + self.serialize_element(public_key)
                       + self.h4(message))

    def verify(self, public_key: Point | bytes, message: bytes, signature: bytes) -> bool:
        """z·G = R + c·P for (R, z) = signature; False for anything malformed.

        Points must be canonical elements of the prime-order group, so the
        cofactored and cofactorless Ed25519 equations agree here.
        """
        if not isinstance(message, bytes):
            raise UsageError("the message is bytes")
        try:
            key = self.decode_public_key(public_key) if isinstance(public_key, bytes) else public_key
            commitment, z = self.decode_signature(signature)
        except EncodingError:
            return False
        if not isinstance(key, Point) or key.group is not self.group or key.is_identity():
            return False
        key = self.adjust_key(key)[0]  # BIP340: a key stands for its even-y form
        c = self.challenge(commitment, key, message)
        return self.group.base_mul(z) == commitment + c * key


__all__ = ["Ciphersuite", "RfcCiphersuite"]
