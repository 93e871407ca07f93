"""Shared ERS test material: recovery key pairs from the committed prime pool, threshold keys
made by in-process keygen (CGGMP21 and FROST), and independent signers and verifiers.

Nothing here is protocol code under test: the Ed25519 raw-scalar signer below is RFC 8032's
signing equation written with libsodium's scalar and point operations (PyNaCl bindings), so
a signature it makes from a recovered scalar verifies only if the scalar is right.
"""

from __future__ import annotations

import hashlib
from functools import cache

from nacl.bindings import (
    crypto_core_ed25519_scalar_add,
    crypto_core_ed25519_scalar_mul,
    crypto_core_ed25519_scalar_reduce,
    crypto_scalarmult_ed25519_base_noclamp,
)

from protocol import ers
from protocol.cmp.keygen import Keygen
from protocol.primes import PrimePool
from protocol.rng import SeededRng
from tests.primepool import pair_count, primes
from tests.protocol import simulator
from tests.protocol.frost import helpers as frost

LABEL = "treasury/2026-recovery"
#: the pool pairs of the two recovery keys: the last ones, which no dealer or cluster uses
ERS_PAIRS = (pair_count() - 1, pair_count() - 2)


@cache
def ers_pair(which: int = 0) -> tuple[ers.ErsPrivateKey, ers.ErsPublicKey]:
    pool = PrimePool(primes(ERS_PAIRS[which]))
    return ers.generate_keypair(SeededRng(f"ers-key-{which}"), prime_source=pool)


def ers_public(which: int = 0) -> ers.ErsPublicKey:
    return ers_pair(which)[1]


def ers_private(which: int = 0) -> ers.ErsPrivateKey:
    return ers_pair(which)[0]


@cache
def cmp_shares(n: int, t: int, seed: str = "") -> dict:
    """CGGMP21 key shares of a fresh t-of-n secp256k1 key (keygen only: ERS needs no aux info)."""
    parties = tuple(range(1, n + 1))
    session = f"ers-keygen-{n}-{t}-{seed}".encode()
    machines = {p: Keygen(p, parties, t, f"cmp-{n}-{t}{seed}", session, SeededRng(f"{session}/{p}"))
                for p in parties}
    return {p: out.share for p, out in simulator.assert_success(simulator.run(machines)).items()}


def shares(scheme: str, n: int, t: int, seed: str = "") -> dict:
    """A t-of-n key of ``scheme`` ("ecdsa", "eddsa", "schnorr"), one share per party."""
    if scheme == "ecdsa":
        return cmp_shares(n, t, seed)
    return frost.shares({"eddsa": "ed25519", "schnorr": "bip340"}[scheme], n, t, seed)


@cache
def partial_json(scheme: str, n: int, t: int, party: int, which_ers: int = 0, label: str = LABEL,
                 seed: str = "") -> dict:
    share = shares(scheme, n, t, seed)[party]
    return ers.make_partial(share, ers_public(which_ers), label, SeededRng(f"partial/{party}"),
                            holder=f"12D3KooWPeer{party}").to_json()


def partials(scheme: str, n: int, t: int, parties, **kwargs) -> list[dict]:
    return [dict(partial_json(scheme, n, t, p, **kwargs)) for p in parties]


def public_key_hex(share) -> str:
    """The key as the node shows it: compressed SEC1, Ed25519, or BIP340 x-only."""
    if getattr(share, "suite", None) == "bip340":
        return share.verifying_key.hex()
    return share.public_key.encode().hex()


def ed25519_sign_raw(scalar_be: bytes, message: bytes, prefix: bytes = b"\x07" * 32) -> tuple[bytes, bytes]:
    """(public key, RFC 8032 signature) by the raw scalar (big-endian) with libsodium's arithmetic."""
    a = scalar_be[::-1]                                   # libsodium scalars are little-endian
    public = crypto_scalarmult_ed25519_base_noclamp(a)
    r = crypto_core_ed25519_scalar_reduce(hashlib.sha512(prefix + message).digest())
    big_r = crypto_scalarmult_ed25519_base_noclamp(r)
    k = crypto_core_ed25519_scalar_reduce(hashlib.sha512(big_r + public + message).digest())
    s = crypto_core_ed25519_scalar_add(r, crypto_core_ed25519_scalar_mul(k, a))
    return public, big_r + s
