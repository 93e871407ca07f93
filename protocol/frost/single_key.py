"""Signing with a whole raw secret scalar, such as a key recovered from t+1 FROST shares.

A threshold Ed25519 key is a scalar s with public key s·G, not an RFC 8032 seed:
no seed hashes to s, so Ed25519 libraries (which derive the scalar and the nonce
prefix from a seed) cannot sign with it. ``sign`` signs with the scalar itself,
for the same derived or Taproot keys the threshold signer uses, and the result
verifies with any standard verifier of the suite (RFC 8032 Ed25519, BIP340).

The nonce is the suite's ``single_nonce`` over (aux, secret, public key, message):
``aux`` is 32 fresh bytes from ``rng`` when one is given (hedged signing), else
32 zero bytes (deterministic, a hash of the message and the key). BIP340's suite
uses BIP340's own nonce derivation, so the BIP340 test vectors reproduce exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol import shamir
from protocol.errors import UsageError
from protocol.frost.ciphersuite import Ciphersuite
from protocol.frost.shares import FrostKeyShare
from protocol.frost.suites import as_suite
from protocol.frost.tweak import signing_key
from protocol.group import Scalar
from protocol.rng import Rng

AUX_SIZE = 32


def recover_secret(shares: Sequence[FrostKeyShare]) -> Scalar:
    """The group secret from t+1 or more shares of one key and epoch, checked against its public key."""
    if not shares:
        raise UsageError("no shares")
    first = shares[0]
    if any((s.key_id, s.epoch, s.public_key, s.suite) != (first.key_id, first.epoch, first.public_key,
                                                          first.suite) for s in shares):
        raise UsageError("shares of different keys or epochs do not combine")
    parties = tuple(sorted({s.party for s in shares}))
    if len(parties) != len(shares) or len(parties) < first.threshold + 1:
        raise UsageError(f"need {first.threshold + 1} shares of distinct parties")
    group = first.group
    secret = group.scalar(0)
    for s in shares:
        secret = secret + shamir.lagrange_at_zero(group, s.party, parties) * s.secret
    if group.base_mul(secret) != first.public_key:
        raise UsageError("the shares do not recover the key's secret")
    return secret


def sign(suite: Ciphersuite | str, secret: Scalar, message: bytes, *, chain_code: bytes | None = None,
         path: str | None = None, taproot: bool = False, rng: Rng | None = None,
         aux: bytes | None = None) -> bytes:
    """A signature by the raw scalar ``secret`` (or its ``path``/``taproot`` child) on ``message``."""
    suite = as_suite(suite)
    group = suite.group
    if not isinstance(secret, Scalar) or secret.group is not group or secret.is_zero():
        raise UsageError(f"the secret is a non-zero scalar of the {suite.name} suite's group")
    if not isinstance(message, bytes):
        raise UsageError("the message is bytes")
    if aux is None:
        aux = rng.random_bytes(AUX_SIZE) if rng is not None else bytes(AUX_SIZE)
    if not isinstance(aux, bytes) or len(aux) != AUX_SIZE:
        raise UsageError(f"auxiliary randomness is {AUX_SIZE} bytes")
    key = signing_key(suite, group.base_mul(secret), chain_code=chain_code, path=path, taproot=taproot)
    d = key.secret(secret)
    k = suite.single_nonce(d, key.public_key, message, aux)
    commitment, sign_r = suite.adjust_commitment(group.base_mul(k))
    c = suite.challenge(commitment, key.public_key, message)
    return suite.encode_signature(commitment, k * sign_r + c * d)


def public_key(suite: Ciphersuite | str, secret: Scalar, *, chain_code: bytes | None = None,
               path: str | None = None, taproot: bool = False) -> bytes:
    """The encoded key that ``sign`` with the same arguments produces signatures for."""
    suite = as_suite(suite)
    key = signing_key(suite, suite.group.base_mul(secret), chain_code=chain_code, path=path,
                      taproot=taproot)
    return suite.encode_public_key(key.public_key)


__all__ = ["AUX_SIZE", "public_key", "recover_secret", "sign"]
