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

from protocol.cmp.presign import KeyMaterial, Presign, Presignature
from protocol.cmp.sign import EcdsaSignature, FullSign, Sign
from protocol.group import SECP256K1
from protocol.machine import Outgoing
from protocol.params import DEFAULT_LEVEL
from protocol.rng import SeededRng
from tests.protocol import leaks, simulator, tamper
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


def presign_machines(keys: dict, signers, sid: bytes, label: str | None = None) -> dict[int, Presign]:
    """One Presign per signer; ``label`` (default: the session id) seeds their RNGs."""
    label = sid.hex() if label is None else label
    return {p: Presign(keys[p], signers, sid, rng(label, p), material=material(keys[p])) for p in signers}


def run_presign(keys: dict, signers, *, sid: bytes = b"presign", seed: int = 0, label: str | None = None,
                corrupt=None, network=None) -> simulator.Network:
    return simulator.run(presign_machines(keys, signers, sid, label), seed=seed, corrupt=corrupt,
                         network=network)


def full_sign_machines(keys: dict, signers, digest: bytes, sid: bytes,
                       path: str | None = None) -> dict[int, FullSign]:
    return {p: FullSign(keys[p], signers, digest, sid, rng(sid.hex(), p), path=path,
                        material=material(keys[p])) for p in signers}


def run_full_sign(keys: dict, signers, digest: bytes, *, sid: bytes = b"full-sign",
                  path: str | None = None, corrupt=None) -> simulator.Network:
    return simulator.run(full_sign_machines(keys, signers, digest, sid, path), corrupt=corrupt)


def presignatures(keys: dict, signers, *, sid: bytes = b"presign",
                  label: str | None = None) -> dict[int, Presignature]:
    return simulator.assert_success(run_presign(keys, signers, sid=sid, label=label))


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


def rewrite(cls: type, change: Callable[[object], object], *, recipient: int | None = tamper.ANY) -> Callable:
    """``tests.protocol.tamper.rewrite`` on secp256k1 messages."""
    return tamper.rewrite(cls, change, GROUP, recipient=recipient)


def bump(field: str, amount=1) -> Callable[[object], object]:
    """A ``change`` that adds ``amount`` to one field (an int, scalar or, with a point, a point)."""
    return lambda msg: dataclasses.replace(msg, **{field: getattr(msg, field) + amount})


def session_secrets(ctx) -> set[int]:
    """The ephemeral secrets a presign context holds now, as integers (k, γ, χ, w, nonces, β, α).

    w_i = λ_i·x_i is left out when λ_i = 1: it is then the long-term share x_i, which
    the caller keeps (and the machine may reach) anyway.
    """
    values = {s.value for s in (ctx.k, ctx.gamma, ctx.chi, ctx.w) if s is not None}
    values.discard(ctx.key.share.x.value)
    values |= {v for v in (ctx.rho, ctx.nu) if v}
    for secrets in (ctx.beta, ctx.beta_hat, ctx.alpha, ctx.alpha_hat):
        values |= {int(v) for v in secrets.values()}
    for witnesses in ctx.mta_witness.values():
        for w in witnesses:
            values |= {int(w.y), int(w.rho), int(w.rho_y)}
    return values


def holds_any(root, values: set[int]) -> list:
    """The objects reachable from ``root`` that are (or hold as a Scalar) one of ``values``, or a
    presignature."""
    return leaks.holds_any(root, values, lambda obj: isinstance(obj, Presignature))


class SecretLog:
    """``corrupt`` hooks that change nothing but note each watched party's session secrets.

    Each time a watched party emits messages, the secrets its presign context holds
    are added to what it is known to have held; ``leftovers`` then lists what is
    still reachable from its channel (after an abort: nothing may be).
    """

    def __init__(self, machines: dict, watched) -> None:
        self.machines = machines
        self.held: dict[int, set[int]] = {p: set() for p in watched}

    def hook(self, party: int, then: Callable | None = None) -> Callable:
        def corrupt(o: Outgoing) -> list[Outgoing]:
            ctx = getattr(self.machines[party], "_ctx", None)
            if ctx is not None:
                self.held[party] |= session_secrets(ctx)
            return then(o) if then is not None else [o]
        return corrupt

    def hooks(self, also: dict | None = None) -> dict:
        return {p: self.hook(p) for p in self.held} | (also or {})

    def leftovers(self, net: simulator.Network, party: int) -> list:
        """What ``party``'s channel still reaches of its secrets; its result does not count."""
        assert self.held[party], f"party {party} never held a secret: nothing was checked"
        channel = net.channels[party]
        output = channel.machine.result
        held = self.held[party]
        if isinstance(output, Presignature):   # the output is the one place k_i and χ_i stay
            held = held - {output.k.value, output.chi.value}
        return [obj for obj in holds_any(channel, held) if obj is not output]


def in_proof(proof_field: str, inner: Callable[[object], object]) -> Callable[[object], object]:
    """A ``change`` applied to the proof held in ``proof_field``."""
    return lambda msg: dataclasses.replace(msg, **{proof_field: inner(getattr(msg, proof_field))})
