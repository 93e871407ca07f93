"""Signing nonces are fresh, single use, erased after use and never printed or copied."""

import copy
import pickle

import pytest

from protocol import wire
from protocol.errors import UsageError
from protocol.frost.core import Commitment, SigningPackage
from protocol.frost.ed25519 import ED25519_SHA512
from protocol.frost.nonces import SigningNonces
from protocol.frost.sign import FrostSign
from protocol.frost.sign_round1 import SigningCommitments
from protocol.frost.sign_round2 import SignatureShare
from protocol.frost.tweak import signing_key
from protocol.machine import Incoming
from protocol.rng import SeededRng
from tests.protocol.frost import helpers

SUITE = ED25519_SHA512
GROUP = SUITE.group


def _package(nonces_by_party, message=b"m", context=b""):
    key = signing_key(SUITE, GROUP.base_mul(7))
    return SigningPackage(SUITE, key, [Commitment(i, *n.commitments) for i, n in nonces_by_party.items()],
                          message, context)


def test_nonces_answer_exactly_once_and_are_erased():
    secret = GROUP.scalar(5)
    nonces = SigningNonces.generate(SUITE, secret, SeededRng(1))
    other = SigningNonces.generate(SUITE, GROUP.scalar(6), SeededRng(2))
    first = _package({1: nonces, 2: other})
    first.sign_share(1, secret, nonces)
    assert nonces.used and nonces._hiding is None and nonces._binding is None
    # The same commitment in another package (another message): refused, not answered twice.
    second = _package({1: nonces, 2: other}, message=b"another message")
    with pytest.raises(UsageError, match="already used"):
        second.sign_share(1, secret, nonces)
    with pytest.raises(UsageError):
        nonces.take()


def test_nonces_of_another_commitment_are_refused():
    a = SigningNonces.generate(SUITE, GROUP.scalar(5), SeededRng(1))
    b = SigningNonces.generate(SUITE, GROUP.scalar(6), SeededRng(2))
    c = SigningNonces.generate(SUITE, GROUP.scalar(5), SeededRng(3))
    with pytest.raises(UsageError, match="not the signer's commitment"):
        _package({1: a, 2: b}).sign_share(1, GROUP.scalar(5), c)
    assert not c.used


def test_nonces_are_fresh_per_signature_and_depend_on_the_secret():
    rng_state = b"same randomness"
    a = SigningNonces.generate(SUITE, GROUP.scalar(5), SeededRng(rng_state))
    b = SigningNonces.generate(SUITE, GROUP.scalar(6), SeededRng(rng_state))
    c = SigningNonces.generate(SUITE, GROUP.scalar(5), SeededRng(b"other"))
    assert len({a.commitments, b.commitments, c.commitments}) == 3


def test_nonces_are_redacted_and_never_copied():
    secret = GROUP.scalar(5)
    nonces = SigningNonces.generate(SUITE, secret, SeededRng(1))
    d, _ = SigningNonces.generate(SUITE, secret, SeededRng(1)).take()
    assert "redacted" in repr(nonces) and d.encode().hex() not in repr(nonces)
    for copier in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(UsageError):
            copier(nonces)


def test_a_signing_machine_starts_once_and_answers_once():
    key = helpers.shares("ed25519", 3, 1)
    machine = FrostSign(key[1], [1, 2], b"m", b"once", SeededRng(1))
    machine.start()
    with pytest.raises(UsageError):
        machine.start()
    peer = FrostSign(key[2], [1, 2], b"m", b"once", SeededRng(2))
    (commit,) = peer.start()
    (answer,) = machine.receive(Incoming(2, 1, commit.body, broadcast=True))
    assert wire.decode(answer.body, SignatureShare, key[1].group)
    # A second delivery of the same commitments is a duplicate, not a second answer.
    assert machine.receive(Incoming(2, 1, commit.body, broadcast=True)) == []
    # Different commitments for the same round are an equivocation, blamed on the sender.
    other = FrostSign(key[2], [1, 2], b"m", b"once", SeededRng(3)).start()[0]
    assert machine.receive(Incoming(2, 1, other.body, broadcast=True)) == []
    assert machine.blame.culprits == (2,)


def test_commitment_message_round_trips():
    nonces = SigningNonces.generate(SUITE, GROUP.scalar(5), SeededRng(1))
    msg = SigningCommitments(bytes(32), *nonces.commitments)
    assert wire.decode(wire.encode(msg, GROUP), SigningCommitments, GROUP) == msg
