"""Shared helpers for the presign and sign tests: dealt keys, runs, tampering, independent checks.

Every signature a test accepts is checked by two libraries that share no code with
tssnet's signing: coincurve (libsecp256k1) and ``cryptography`` (OpenSSL), on the
DER encoding, and the recovery id must recover the public key through coincurve.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache

import coincurve
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from protocol import wire
from protocol.cmp.presign import KeyMaterial, Presign, Presignature
from protocol.cmp.sign import EcdsaSignature, FullSign, Sign
from protocol.errors import EncodingError
from protocol.group import SECP256K1
from protocol.machine import Outgoing
from protocol.params import DEFAULT_LEVEL
from protocol.rng import SeededRng
from tests.protocol import simulator
from tests.protocol.cmp.dealer import deal

GROUP = SECP256K1


@cache
def keys_for(n: int, t: int) -> dict:
    """A dealt t-of-n key (deterministic, prime-pool aux info), shared by every test."""
    return deal(range(1, n + 1), t)


@cache
def material(key) -> KeyMaterial:
    """One ``KeyMaterial`` per key for the whole test run, as a node keeps one per key."""
    return KeyMaterial(key, DEFAULT_LEVEL)


def rng(label: str, party: int) -> SeededRng:
    return SeededRng(f"{label}/{party}")


def run_presign(keys: dict, signers, *, sid: bytes = b"presign", seed: int = 0,
                corrupt=None, network=None) -> simulator.Network:
    machines = {p: Presign(keys[p], signers, sid, rng(sid.hex(), p), material=material(keys[p]))
                for p in signers}
    return simulator.run(machines, seed=seed, corrupt=corrupt, network=network)


def run_full_sign(keys: dict, signers, digest: bytes, *, sid: bytes = b"full-sign",
                  path: str | None = None, corrupt=None) -> simulator.Network:
    machines = {p: FullSign(keys[p], signers, digest, sid, rng(sid.hex(), p), path=path,
                            material=material(keys[p])) for p in signers}
    return simulator.run(machines, corrupt=corrupt)


def presignatures(keys: dict, signers, *, sid: bytes = b"presign") -> dict[int, Presignature]:
    return simulator.assert_success(run_presign(keys, signers, sid=sid))


def run_sign(keys: dict, presigs: dict, message: bytes, *, sid: bytes = b"sign",
             hash_name: str = "sha256", path: str | None = None, corrupt=None) -> simulator.Network:
    machines = {p: Sign(keys[p], presigs[p], message, sid, hash_name=hash_name, path=path)
                for p in presigs}
    return simulator.run(machines, corrupt=corrupt)


def agreed_signature(net: simulator.Network) -> EcdsaSignature:
    results = set(simulator.assert_success(net).values())
    assert len(results) == 1, "the signers output different signatures"
    return results.pop()


def assert_valid_ecdsa(public_key: bytes, digest: bytes, sig: EcdsaSignature) -> None:
    """Valid under ``public_key`` (compressed SEC1) for ``digest``, checked by coincurve and OpenSSL."""
    assert 0 < sig.s <= GROUP.order // 2, "s is not low"
    der = sig.to_der()
    assert coincurve.PublicKey(public_key).verify(der, digest, hasher=None)
    ossl = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), public_key)
    ossl.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))   # raises if invalid
    recovered = coincurve.PublicKey.from_signature_and_message(sig.to_recoverable(), digest,
                                                               hasher=None)
    assert recovered.format() == public_key, "the recovery id does not recover the key"


def rewrite(cls: type, change: Callable[[object], object], *, recipient: int | None = -1) -> Callable:
    """A ``corrupt`` hook: every outgoing ``cls`` message (to ``recipient``; -1 for any) changed.

    ``change`` takes the decoded message and returns the message to send instead.
    """
    def corrupt(o: Outgoing) -> list[Outgoing]:
        if recipient != -1 and o.recipient != recipient:
            return [o]
        try:
            msg = wire.decode(o.body, cls, GROUP)
        except EncodingError:
            return [o]
        return [Outgoing(o.round, o.recipient, wire.encode(change(msg), GROUP))]
    return corrupt


def bump(field: str, amount=1) -> Callable[[object], object]:
    """A ``change`` that adds ``amount`` to one field (an int, scalar or, with a point, a point)."""
    return lambda msg: dataclasses.replace(msg, **{field: getattr(msg, field) + amount})


def in_proof(proof_field: str, inner: Callable[[object], object]) -> Callable[[object], object]:
    """A ``change`` applied to the proof held in ``proof_field``."""
    return lambda msg: dataclasses.replace(msg, **{proof_field: inner(getattr(msg, proof_field))})
