"""Bridge signatures by non-hardened BIP32 children of a registered key.

Child secrets for secp256k1 come from bip-utils (an independent BIP32 implementation)
and are signed with coincurve, so the ledger's derivation is checked against both;
BIP340 and Ed25519 children are also signed with the protocol's single-key signer,
which derives exactly as the threshold signers do.
"""

from __future__ import annotations

import dataclasses
import hashlib
from functools import cache

import msgpack
import pytest
from bip_utils import Bip32KeyData, Bip32Secp256k1
from coincurve import PrivateKey

from ledger.block import tx_hash
from ledger.state import LedgerState
from ledger.txs import (
    MAX_PATH_BYTES,
    InvalidTransaction,
    KeygenTx,
    SignatureTx,
    check_signature,
    decode_tx,
    verifying_key,
)
from protocol import wire
from protocol.errors import EncodingError, UsageError
from protocol.frost import single_key
from protocol.group import ED25519, SECP256K1
from tests.ledger.helpers import keygen_tx, make_config

CHAIN_CODE = hashlib.sha256(b"ledger-test-chain-code").digest()
OTHER_CHAIN_CODE = hashlib.sha256(b"another-chain-code").digest()
PATH = "m/44/0/0/5"
GROUPS = {"ecdsa": SECP256K1, "schnorr": SECP256K1, "eddsa": ED25519}
# (scheme, prefix of the certified key): BIP340 keys whose certified point has an odd y
# derive from its negation, so both parities are exercised.
CASES = [("ecdsa", None), ("schnorr", 2), ("schnorr", 3), ("eddsa", None)]


@cache
def registered(scheme: str, prefix: int | None = None) -> tuple[KeygenTx, int]:
    """A keygen transaction with a chain code (its certified key starting with ``prefix``)."""
    for seed in range(64):
        tx, secret = keygen_tx("k", GROUPS[scheme], scheme, seed=seed)
        if prefix is None or tx.public_key[0] == prefix:
            return dataclasses.replace(tx, chain_code=CHAIN_CODE), secret
    raise AssertionError(f"no seed gives a key with prefix {prefix}")


def _bip32_secret(secret: int, path: str | None, chain_code: bytes) -> bytes:
    if path is None:
        return secret.to_bytes(32, "big")
    node = Bip32Secp256k1.FromPrivateKey(secret.to_bytes(32, "big"), Bip32KeyData(chain_code=chain_code))
    return node.DerivePath(path).PrivateKey().Raw().ToBytes()


def signed(scheme: str, keygen: KeygenTx, secret: int, signer_path: str | None, *,
           path: str | None = "same", n: int = 1, chain_code: bytes = CHAIN_CODE) -> SignatureTx:
    """A signature by the key's child at ``signer_path`` (None: the key itself), presented
    with ``path`` (by default the signer's)."""
    presented = signer_path if path == "same" else path
    if scheme == "eddsa":
        message = b"ed-bridge-message:%d" % n
        signature = single_key.sign("ed25519", ED25519.scalar(secret), message,
                                    chain_code=chain_code, path=signer_path)
        return SignatureTx("k", keygen.public_key, message, signature, None, presented)
    digest = hashlib.sha256(b"bridge-message:%d" % n).digest()
    if scheme == "schnorr" and keygen.public_key[0] == 3:
        secret = SECP256K1.order - secret  # BIP340 derives from the even-y key
    key = PrivateKey(_bip32_secret(secret, signer_path, chain_code))
    if scheme == "ecdsa":
        signature = key.sign_recoverable(digest, hasher=None)[:64]  # low-S
    else:
        signature = key.sign_schnorr(digest)
    return SignatureTx("k", keygen.public_key, digest, signature, None, presented)


@pytest.mark.parametrize("path", [PATH, "m/0", "m/2147483647/1/2"])
@pytest.mark.parametrize("scheme,prefix", CASES[:3])
def test_child_keys_match_bip_utils(scheme, prefix, path):
    keygen, _ = registered(scheme, prefix)
    parent = keygen.public_key if scheme == "ecdsa" else b"\x02" + keygen.public_key[1:]
    node = Bip32Secp256k1.FromPublicKey(parent, Bip32KeyData(chain_code=CHAIN_CODE)).DerivePath(path)
    expected = node.PublicKey().RawCompressed().ToBytes()
    child = verifying_key(scheme, keygen.public_key, CHAIN_CODE, path)
    if scheme == "ecdsa":
        assert child == expected
    else:  # x-only: the even-y form of the child
        assert child == b"\x02" + expected[1:]


@pytest.mark.parametrize("scheme,prefix", CASES)
def test_child_signatures_accepted_for_each_scheme(scheme, prefix):
    keygen, secret = registered(scheme, prefix)
    for path in (PATH, "m/0", "m/1/2/3/4/5/6/7/8"):
        check_signature(signed(scheme, keygen, secret, path), scheme, CHAIN_CODE)
    check_signature(signed(scheme, keygen, secret, None), scheme, CHAIN_CODE)  # the key itself


@pytest.mark.parametrize("prefix", [2, 3])
def test_bip340_children_signed_as_the_threshold_signers_derive_them(prefix):
    keygen, secret = registered("schnorr", prefix)
    digest = hashlib.sha256(b"taproot-child").digest()
    signature = single_key.sign("bip340", SECP256K1.scalar(secret), digest, chain_code=CHAIN_CODE,
                                path=PATH)
    expected = single_key.public_key("bip340", SECP256K1.scalar(secret), chain_code=CHAIN_CODE, path=PATH)
    assert verifying_key("schnorr", keygen.public_key, CHAIN_CODE, PATH)[1:] == expected
    check_signature(SignatureTx("k", keygen.public_key, digest, signature, None, PATH), "schnorr",
                    CHAIN_CODE)


@pytest.mark.parametrize("scheme,prefix", CASES)
def test_parent_and_child_signatures_are_not_interchangeable(scheme, prefix):
    keygen, secret = registered(scheme, prefix)
    with pytest.raises(InvalidTransaction, match="is by the key itself, not by its child at m/44/0/0/5"):
        check_signature(signed(scheme, keygen, secret, None, path=PATH), scheme, CHAIN_CODE)
    with pytest.raises(InvalidTransaction, match="does not verify under the key itself"):
        check_signature(signed(scheme, keygen, secret, PATH, path=None), scheme, CHAIN_CODE)


@pytest.mark.parametrize("scheme,prefix", CASES)
def test_a_wrong_path_or_chain_code_is_refused(scheme, prefix):
    keygen, secret = registered(scheme, prefix)
    with pytest.raises(InvalidTransaction, match="does not verify under its child at m/44/0/0/6"):
        check_signature(signed(scheme, keygen, secret, PATH, path="m/44/0/0/6"), scheme, CHAIN_CODE)
    with pytest.raises(InvalidTransaction, match="does not verify under its child at m/0/44/0/5"):
        check_signature(signed(scheme, keygen, secret, PATH, path="m/0/44/0/5"), scheme, CHAIN_CODE)
    other = signed(scheme, keygen, secret, PATH, chain_code=OTHER_CHAIN_CODE)
    with pytest.raises(InvalidTransaction, match="does not verify under its child"):
        check_signature(other, scheme, CHAIN_CODE)


@pytest.mark.parametrize("scheme,prefix", CASES)
def test_a_path_on_a_key_without_a_chain_code_is_refused(scheme, prefix):
    keygen, secret = registered(scheme, prefix)
    with pytest.raises(InvalidTransaction, match="registered without a chain code"):
        check_signature(signed(scheme, keygen, secret, PATH), scheme, None)
    check_signature(signed(scheme, keygen, secret, None), scheme, None)  # the key itself still is fine


@pytest.mark.parametrize("path,reason", [
    ("m/0'", "hardened"), ("m/44h/0", "hardened"), ("m/2147483648", "hardened"),
    ("m/01", "not a decimal index"), ("m/-1", "not a decimal index"), ("m/", "not a decimal index"),
    ("m/0/", "not a decimal index"), ("M/0", "starts with 'm'"), ("0/1", "starts with 'm'"),
    (" m/0", "not written canonically"), ("m/0 ", "not written canonically"),
    ("m", "names the key itself"), ("m/" + "/".join(["0"] * 256), "at most 255 steps"),
])
def test_malformed_paths_are_refused_with_their_reason(path, reason):
    keygen, secret = registered("ecdsa")
    tx = signed("ecdsa", keygen, secret, PATH, path=path)
    with pytest.raises(InvalidTransaction, match=reason):
        check_signature(tx, "ecdsa", CHAIN_CODE)


def test_an_unknown_scheme_is_refused_before_any_derivation():
    keygen, secret = registered("ecdsa")
    for path in (PATH, None):
        with pytest.raises(InvalidTransaction, match="unknown scheme 'rsa'"):
            check_signature(signed("ecdsa", keygen, secret, PATH, path=path), "rsa", CHAIN_CODE)
    with pytest.raises(InvalidTransaction, match="unknown scheme 'rsa'"):
        verifying_key("rsa", keygen.public_key, CHAIN_CODE, PATH)


def test_the_deepest_path_derives():
    keygen, secret = registered("ecdsa")
    deepest = "m/" + "/".join(["7"] * 255)
    check_signature(signed("ecdsa", keygen, secret, deepest), "ecdsa", CHAIN_CODE)


def test_paths_and_chain_codes_round_trip_and_are_bounded():
    keygen, secret = registered("ecdsa")
    sig = signed("ecdsa", keygen, secret, PATH)
    for tx in (keygen, dataclasses.replace(keygen, chain_code=None), sig,
               dataclasses.replace(sig, path=None)):
        assert decode_tx(wire.encode(tx)) == tx
    with pytest.raises(UsageError):
        wire.encode(dataclasses.replace(sig, path="m/" + "1" * MAX_PATH_BYTES))
    with pytest.raises(UsageError):
        wire.encode(dataclasses.replace(keygen, chain_code=CHAIN_CODE[:31]))
    fields = msgpack.unpackb(wire.encode(sig))
    too_long = msgpack.packb(fields[:-1] + ["m/" + "1/" * MAX_PATH_BYTES], use_bin_type=True)
    with pytest.raises(EncodingError):
        decode_tx(too_long)
    without_path = msgpack.packb(fields[:-1], use_bin_type=True)  # the retired 7-field form
    with pytest.raises(EncodingError):
        decode_tx(without_path)


def test_the_retired_transaction_formats_do_not_decode():
    keygen, secret = registered("ecdsa")
    for tx, retired in ((keygen, 0x0420), (signed("ecdsa", keygen, secret, None), 0x0421)):
        fields = msgpack.unpackb(wire.encode(tx))
        old = msgpack.packb([fields[0], retired, fields[2], *fields[3:-1]], use_bin_type=True)
        with pytest.raises(EncodingError, match="unexpected message type"):
            decode_tx(old)


def _check(state: LedgerState, *txs) -> None:
    checker = state.checker()
    for tx in txs:
        checker.check(tx, tx_hash(wire.encode(tx)), crypto_checked=False)


@pytest.mark.parametrize("scheme,prefix", CASES)
def test_replicas_accept_child_signatures_of_a_registered_key(scheme, prefix):
    state = LedgerState(make_config(4))
    keygen, secret = registered(scheme, prefix)
    _check(state, keygen, signed(scheme, keygen, secret, PATH), signed(scheme, keygen, secret, None))
    with pytest.raises(InvalidTransaction, match="is by the key itself"):
        _check(state, keygen, signed(scheme, keygen, secret, None, path=PATH))
    bare = dataclasses.replace(keygen, chain_code=None)
    with pytest.raises(InvalidTransaction, match="registered without a chain code"):
        _check(state, bare, signed(scheme, bare, secret, PATH))
