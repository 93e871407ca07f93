"""FROST(Ed25519, SHA-512) (RFC 9591 §6.1).

Hashes are SHA-512 read as a little-endian integer and reduced modulo L. H2 has no
context string, so the challenge is RFC 8032's SHA-512(R || A || M) and an
aggregate signature verifies with any standard Ed25519 verifier.
"""

from __future__ import annotations

from protocol.frost.ciphersuite import RfcCiphersuite
from protocol.group import ED25519, Scalar


class Ed25519Sha512(RfcCiphersuite):
    name = "ed25519"
    context = b"FROST-ED25519-SHA512-v1"
    group = ED25519
    hash_name = "sha512"

    def _wide(self, digest: bytes) -> Scalar:
        return self.group.scalar(int.from_bytes(digest, "little"))

    def _hash_to_scalar(self, dst: bytes, m: bytes) -> Scalar:
        return self._wide(self._digest(dst + m))

    def h2(self, m: bytes) -> Scalar:
        return self._wide(self._digest(m))


ED25519_SHA512 = Ed25519Sha512()

__all__ = ["ED25519_SHA512", "Ed25519Sha512"]
