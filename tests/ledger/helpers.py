"""Chains, identities and transactions for ledger tests."""

from __future__ import annotations

import hashlib

from coincurve import PrivateKey

from ledger.block import genesis_hash, make_block, tx_hash
from ledger.config import LedgerConfig, Validator
from ledger.crypto import Ed25519Signer
from ledger.mempool import Mempool
from ledger.state import LedgerState
from ledger.txs import KeygenTx, SignatureTx, ValidatorChange, ValidatorSetTx, sign_approval
from ledger.validate import check_block
from protocol.group import ED25519, SECP256K1, Group
from protocol.keygen_certificate import certify
from protocol.rng import SeededRng
from protocol.wire import encode


def signer(name: str) -> Ed25519Signer:
    return Ed25519Signer(name, hashlib.sha256(b"test-identity:" + name.encode()).digest())


def names(n: int) -> list[str]:
    return [f"v{i}" for i in range(n)]


def make_config(n: int, **overrides) -> LedgerConfig:
    validators = tuple(Validator(name, signer(name).public_key) for name in names(n))
    settings = {"chain_id": "test-chain", "validators": validators, "checkpoint_interval": 4,
                "window": 16, "max_txs_per_block": 8, "base_timeout": 1.0}
    settings.update(overrides)
    return LedgerConfig(**settings)


def keygen_tx(key_id: str, group: Group = SECP256K1, scheme: str = "ecdsa",
              participants: tuple[int, ...] = (1, 2, 3), threshold: int = 1,
              seed: int = 0) -> tuple[KeygenTx, int]:
    """A keygen transaction with a valid certificate, and the key's secret (for signing)."""
    rng = SeededRng(f"keygen:{key_id}:{seed}")
    polynomials = {i: [group.random_scalar(rng) for _ in range(threshold + 1)] for i in participants}
    secret = sum(p[0].value for p in polynomials.values()) % group.order
    cert = certify(key_id, group, participants, threshold, polynomials, rng, session_id=b"test-keygen-session")
    tx = KeygenTx(key_id, scheme, group.name, group.base_mul(secret).encode(), participants,
                  threshold, encode(cert, group))
    return tx, secret


def ecdsa_tx(key_id: str, secret: int, n: int) -> SignatureTx:
    """A signature transaction over the digest of ``n``, with a low-S ECDSA signature."""
    key = PrivateKey(secret.to_bytes(32, "big"))
    digest = hashlib.sha256(b"bridge-message:%d" % n).digest()
    sig = key.sign_recoverable(digest, hasher=None)[:64]  # r || s, already low-S
    return SignatureTx(key_id, key.public_key.format(), digest, sig, None)


def bip340_tx(key_id: str, secret: int, n: int) -> SignatureTx:
    key = PrivateKey(secret.to_bytes(32, "big"))
    digest = hashlib.sha256(b"taproot-message:%d" % n).digest()
    return SignatureTx(key_id, key.public_key.format(), digest, key.sign_schnorr(digest), bytes(32))


def ed25519_tx(key_id: str, secret: int, n: int) -> SignatureTx:
    """An Ed25519 signature by a raw scalar (as a threshold key has no seed): R = r·G,
    S = r + H(R, A, M)·a, with r derived from the scalar and the message."""
    message = b"ed-message:%d" % n
    group = ED25519
    a = group.scalar(secret)
    public = group.base_mul(a).encode()
    r = group.scalar(int.from_bytes(hashlib.sha512(b"nonce" + a.encode() + message).digest(), "little"))
    big_r = group.base_mul(r).encode()
    k = group.scalar(int.from_bytes(hashlib.sha512(big_r + public + message).digest(), "little"))
    s = r + k * a
    return SignatureTx(key_id, public, message, big_r + s.encode(), None)


def validator_change(add: tuple[str, ...] = (), remove: tuple[str, ...] = (),
                     nonce: bytes = b"nonce-1", base: int = 0) -> ValidatorChange:
    """The change adding ``add`` (with their test identity keys) and removing ``remove``,
    approved when ``base`` changes were committed."""
    added = tuple(sorted((Validator(name, signer(name).public_key) for name in add), key=lambda v: v.id))
    return ValidatorChange(added, tuple(sorted(remove)), base, nonce)


def validator_tx(add: tuple[str, ...] = (), remove: tuple[str, ...] = (), *,
                 approvers: tuple[str, ...] = ("v0", "v1", "v2", "v3"), nonce: bytes = b"nonce-1",
                 chain_id: str = "test-chain", base: int = 0,
                 config: LedgerConfig | None = None) -> ValidatorSetTx:
    """A change approved by ``approvers`` (by default a quorum of the 4- and 6-validator
    test chains) on ``chain_id`` with the genesis of ``config`` (default ``make_config(4)``)."""
    return approve(validator_change(add, remove, nonce, base), approvers, chain_id, config)


def approve(change: ValidatorChange, approvers: tuple[str, ...] = ("v0", "v1", "v2", "v3"),
            chain_id: str = "test-chain", config: LedgerConfig | None = None) -> ValidatorSetTx:
    """``change`` as a transaction with the approvals of ``approvers`` (in id order)."""
    genesis = genesis_hash(config if config is not None else make_config(4))
    approvals = tuple(sign_approval(signer(name), chain_id, genesis, change) for name in sorted(approvers))
    return ValidatorSetTx.of(change, approvals)


def commit_txs(state: LedgerState, config: LedgerConfig, txs) -> None:
    """A block of ``txs`` checked and applied to ``state`` (signatures assumed checked)."""
    block = make_block(state.height + 1, state.last_hash, state.last_timestamp_ms, "v0",
                       [encode(t) for t in txs])
    state.apply(check_block(block, state, config, Mempool(), crypto_checked=False, now_ms=None))


def check_txs(state: LedgerState, *txs) -> None:
    """``txs`` checked in order against ``state``, as one block would (nothing applied)."""
    checker = state.checker()
    for tx in txs:
        checker.check(tx, tx_hash(encode(tx)), crypto_checked=False)
