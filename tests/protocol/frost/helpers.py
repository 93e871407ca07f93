"""Shared test helpers: run the DKG and signing through the simulator, verify independently.

Every party's RNG is seeded per (seed, session, party): two sessions never run on
one RNG stream, as two real sessions never would (a test that did would answer two
challenges with related nonces, the very thing signing must never do).

The external checks use other libraries only: PyNaCl (libsodium) and
``cryptography`` for Ed25519, coincurve's BIP340 verifier, and a BIP341 output key
computed with hashlib and coincurve, never with protocol code.
"""

from __future__ import annotations

import hashlib
from functools import cache

from coincurve import PublicKey, PublicKeyXOnly
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from protocol.frost.keygen import FrostKeygen
from protocol.frost.shares import FrostKeygenOutput, FrostKeyShare, FrostSignature
from protocol.frost.sign import FrostSign
from protocol.rng import SeededRng
from tests.protocol import simulator

SUITES = ("ed25519", "bip340")


def party_rng(kind: str, seed: str, session: bytes, party: int) -> SeededRng:
    """The RNG of ``party`` in one session: a different stream for every session."""
    return SeededRng(f"{kind}:{seed}:{session.hex()}:{party}")


def keygen_machines(suite: str, n: int, t: int, *, seed: str = "", key_id: str = "key-1",
                    session: bytes = b"keygen-session") -> dict[int, FrostKeygen]:
    parties = list(range(1, n + 1))
    return {p: FrostKeygen(suite, p, parties, t, key_id, session, party_rng(f"kg:{suite}", seed, session, p))
            for p in parties}


@cache
def keygen(suite: str, n: int, t: int, seed: str = "") -> dict[int, FrostKeygenOutput]:
    """Every party's DKG output for a fresh (suite, n, t) key, cached across tests."""
    net = simulator.run(keygen_machines(suite, n, t, seed=seed), seed=n * 10 + t)
    return simulator.assert_success(net)


def shares(suite: str, n: int, t: int, seed: str = "") -> dict[int, FrostKeyShare]:
    return {p: out.share for p, out in keygen(suite, n, t, seed).items()}


def sign_machines(key: dict[int, FrostKeyShare], signers, message: bytes, *,
                  session: bytes = b"sign-session", seed: str = "", **options) -> dict[int, FrostSign]:
    return {p: FrostSign(key[p], signers, message, session, party_rng("sign", seed, session, p), **options)
            for p in signers}


def sign(key: dict[int, FrostKeyShare], signers, message: bytes, **options) -> FrostSignature:
    """Run a signing session; every signer must output the same signature."""
    net = simulator.run(sign_machines(key, signers, message, **options))
    results = set(simulator.assert_success(net).values())
    assert len(results) == 1, "signers disagree on the signature"
    return results.pop()


def ed25519_verifies(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """PyNaCl's VerifyKey, libsodium's crypto_sign_open and cryptography must all agree."""
    verdicts = []
    try:
        VerifyKey(public_key).verify(message, signature)
        verdicts.append(True)
    except BadSignatureError:
        verdicts.append(False)
    try:
        verdicts.append(crypto_sign_open(signature + message, public_key) == message)
    except BadSignatureError:
        verdicts.append(False)
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        verdicts.append(True)
    except InvalidSignature:
        verdicts.append(False)
    assert len(set(verdicts)) == 1, f"Ed25519 verifiers disagree: {verdicts}"
    return verdicts[0]


def bip340_verifies(xonly: bytes, message: bytes, signature: bytes) -> bool:
    return PublicKeyXOnly(xonly).verify(signature, message)


def external_verify(suite: str, public_key: bytes, message: bytes, signature: bytes) -> bool:
    if suite == "ed25519":
        return ed25519_verifies(public_key, message, signature)
    return bip340_verifies(public_key, message, signature)


def bip341_output_point(internal_key33: bytes) -> bytes:
    """BIP341/BIP86 key-path output point Q (33 bytes, with its parity), from the BIP with coincurve."""
    x = internal_key33[1:]
    tag = hashlib.sha256(b"TapTweak").digest()
    tweak = hashlib.sha256(tag + tag + x).digest()
    even_internal = PublicKey(b"\x02" + x)  # lift_x: the even-y point with this x
    return PublicKey.combine_keys([even_internal, PublicKey.from_secret(tweak)]).format()


def bip341_output_key(internal_key33: bytes) -> bytes:
    """BIP341/BIP86 key-path output key (x-only)."""
    return bip341_output_point(internal_key33)[1:]


@cache
def bip340_keys_by_dkg_parity(n: int, t: int) -> dict[bool, str]:
    """A keygen seed whose DKG key (before normalization) has even y (True) and one with odd y (False)."""
    found: dict[bool, str] = {}
    for i in range(64):
        out = keygen("bip340", n, t, f"parity-{i}")[1]
        found.setdefault(out.certified_key.has_even_y(), f"parity-{i}")
        if len(found) == 2:
            return found
    raise AssertionError("no DKG outcome of each parity in 64 seeds")
