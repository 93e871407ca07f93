"""Transactions: encoding, and the signature and certificate checks every replica runs."""

from __future__ import annotations

import dataclasses

import pytest
from coincurve import PrivateKey

from ledger.messages import Status
from ledger.txs import (
    SECP256K1_HALF_ORDER,
    InvalidTransaction,
    KeygenTx,
    SignatureTx,
    ValidatorSetTx,
    check_keygen,
    check_signature,
    check_validator_change,
    decode_tx,
)
from protocol import wire
from protocol.errors import EncodingError
from protocol.group import ED25519, SECP256K1
from tests.ledger.helpers import bip340_tx, ecdsa_tx, ed25519_tx, keygen_tx, validator_tx

SIGNERS = {"ecdsa": ecdsa_tx, "schnorr": bip340_tx, "eddsa": ed25519_tx}
GROUPS = {"ecdsa": SECP256K1, "schnorr": SECP256K1, "eddsa": ED25519}


@pytest.mark.parametrize("scheme", sorted(SIGNERS))
def test_signatures_of_each_scheme(scheme):
    keygen, secret = keygen_tx("k", GROUPS[scheme], scheme)
    tx = SIGNERS[scheme]("k", secret, 1)
    assert tx.public_key == keygen.public_key
    check_signature(tx, scheme)
    other = SIGNERS[scheme]("k", secret, 2)
    with pytest.raises(InvalidTransaction):  # a signature over another message
        check_signature(dataclasses.replace(tx, signature=other.signature), scheme)
    flipped = bytes([tx.signature[0] ^ 1]) + tx.signature[1:]
    with pytest.raises(InvalidTransaction):
        check_signature(dataclasses.replace(tx, signature=flipped), scheme)


def test_ecdsa_high_s_and_digest_size_refused():
    _, secret = keygen_tx("k")
    tx = ecdsa_tx("k", secret, 1)
    s = int.from_bytes(tx.signature[32:], "big")
    high = tx.signature[:32] + (SECP256K1.order - s).to_bytes(32, "big")
    assert SECP256K1.order - s > SECP256K1_HALF_ORDER
    with pytest.raises(InvalidTransaction, match="low-S"):
        check_signature(dataclasses.replace(tx, signature=high), "ecdsa")
    with pytest.raises(InvalidTransaction):
        check_signature(dataclasses.replace(tx, message=tx.message + b"x"), "ecdsa")


def test_signature_under_another_key_refused():
    _, secret = keygen_tx("k")
    tx = ecdsa_tx("k", secret, 1)
    stranger = PrivateKey(b"\x07" * 32)
    with pytest.raises(InvalidTransaction):
        check_signature(dataclasses.replace(tx, public_key=stranger.public_key.format()), "ecdsa")


@pytest.mark.parametrize("scheme", sorted(SIGNERS))
def test_keygen_certificates_checked(scheme):
    tx, _ = keygen_tx("k", GROUPS[scheme], scheme)
    check_keygen(tx)
    other, _ = keygen_tx("k", GROUPS[scheme], scheme, seed=9)
    for bad in (dataclasses.replace(tx, key_id="k2"), dataclasses.replace(tx, threshold=2),
                dataclasses.replace(tx, public_key=other.public_key),
                dataclasses.replace(tx, certificate=other.certificate),
                dataclasses.replace(tx, certificate=tx.certificate[:-3]),
                dataclasses.replace(tx, participants=(1, 2, 4))):
        with pytest.raises(InvalidTransaction):
            check_keygen(bad)


def test_scheme_must_match_curve():
    tx, _ = keygen_tx("k", SECP256K1, "ecdsa")
    for scheme, curve in (("eddsa", "secp256k1"), ("ecdsa", "ed25519"), ("rsa", "secp256k1")):
        with pytest.raises(InvalidTransaction):
            check_keygen(dataclasses.replace(tx, scheme=scheme, curve=curve))


def test_transactions_round_trip_and_nothing_else_decodes():
    keygen, secret = keygen_tx("k")
    for tx in (keygen, ecdsa_tx("k", secret, 1), bip340_tx("k", secret, 1), validator_tx(add=("x",))):
        assert decode_tx(wire.encode(tx)) == tx
    with pytest.raises(EncodingError):
        decode_tx(wire.encode(Status(1, 0, "v0")))
    with pytest.raises(EncodingError):
        decode_tx(b"\x93\x01")
    with pytest.raises(EncodingError):
        decode_tx(wire.encode(keygen)[:-1])
    assert {KeygenTx, SignatureTx, ValidatorSetTx} == {type(decode_tx(wire.encode(t))) for t in
                                                       (keygen, ecdsa_tx("k", secret, 2), validator_tx(remove=("v0",)))}


def test_validator_change_shape():
    with pytest.raises(InvalidTransaction):
        check_validator_change(ValidatorSetTx((), (), 0, b"n", ()))
    with pytest.raises(InvalidTransaction):
        check_validator_change(validator_tx(add=("x",), remove=("x",)))
    twice = validator_tx(add=("x",))
    with pytest.raises(InvalidTransaction):
        check_validator_change(ValidatorSetTx(twice.add * 2, (), 0, b"n", ()))
    bad_key = ValidatorSetTx((dataclasses.replace(twice.add[0], public_key=bytes(32)),), (), 0, b"n", ())
    with pytest.raises(InvalidTransaction):
        check_validator_change(bad_key)
