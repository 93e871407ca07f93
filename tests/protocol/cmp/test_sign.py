"""Signing: one round on a presignature, FullSign for raw digests, and what Sign refuses."""

import dataclasses
import hashlib

import coincurve
import pytest

from protocol import wire
from protocol.cmp.shares import CmpKey
from protocol.cmp.sign import FullSign, Sign
from protocol.cmp.signature import EcdsaSignature, finish, verify
from protocol.errors import UsageError
from protocol.rng import SeededRng
from tests.protocol import simulator
from tests.protocol.cmp.dealer import deal
from tests.protocol.cmp.sign_helpers import (
    GROUP,
    agreed_signature,
    assert_valid_ecdsa,
    holds_any,
    keys_for,
    presignatures,
    run_full_sign,
    run_sign,
)

KEYS = keys_for(3, 1)
PUBLIC = KEYS[1].share.public_key.encode()


@pytest.fixture(scope="module")
def unused():
    """Presignatures of signers 1 and 3 that the refusal tests share: none of them may consume it."""
    presigs = presignatures(KEYS, (1, 3), sid=b"sign-refusals")
    yield presigs
    assert not any(p.consumed for p in presigs.values()), "a refused Sign consumed a presignature"


def test_sign_hashes_the_message_itself_even_when_it_looks_like_a_digest():
    presigs = presignatures(KEYS, (1, 3), sid=b"sign-hashes")
    message = hashlib.sha256(b"something").digest()       # 32 bytes, but still a message
    sig = agreed_signature(run_sign(KEYS, presigs, message))
    assert_valid_ecdsa(PUBLIC, hashlib.sha256(message).digest(), sig)
    assert not coincurve.PublicKey(PUBLIC).verify(sig.to_der(), message, hasher=None)


def test_sha256d_is_bitcoin_double_sha256():
    presigs = presignatures(KEYS, (2, 3), sid=b"sign-sha256d")
    preimage = b"legacy sighash preimage"
    sig = agreed_signature(run_sign(KEYS, presigs, preimage, hash_name="sha256d"))
    assert_valid_ecdsa(PUBLIC, hashlib.sha256(hashlib.sha256(preimage).digest()).digest(), sig)


def test_full_sign_signs_a_raw_digest_in_one_session():
    digest = bytes(range(32))
    sig = agreed_signature(run_full_sign(KEYS, (1, 2), digest))
    assert_valid_ecdsa(PUBLIC, digest, sig)


@pytest.mark.parametrize("digest", [b"", bytes(31), bytes(33), "0" * 32])
def test_full_sign_refuses_anything_but_32_bytes(digest):
    with pytest.raises(UsageError, match="32 bytes"):
        FullSign(KEYS[1], (1, 2), digest, b"sid", SeededRng(1))


def test_a_presignature_signs_once():
    presigs = presignatures(KEYS, (1, 3), sid=b"sign-once")
    agreed_signature(run_sign(KEYS, presigs, b"first"))
    with pytest.raises(UsageError, match="already used"):
        Sign(KEYS[1], presigs[1], b"second", b"sid-2")


def test_building_a_sign_machine_consumes_the_presignature():
    presigs = presignatures(KEYS, (1, 3), sid=b"sign-consume")
    Sign(KEYS[3], presigs[3], b"one", b"sid-1")
    assert presigs[3].consumed
    with pytest.raises(UsageError, match="already used"):
        Sign(KEYS[3], presigs[3], b"one", b"sid-1")
    # A started machine has sent σ_i: it keeps no k_i, χ_i, nor the presignature.
    started = Sign(KEYS[1], presigs[1], b"one", b"sid-1")
    started.start()
    assert not holds_any(started, {presigs[1].k.value, presigs[1].chi.value})


def test_an_abandoned_sign_machine_drops_the_presignature():
    presigs = presignatures(KEYS, (2, 3), sid=b"sign-abandon")
    machine = Sign(KEYS[2], presigs[2], b"one", b"sid-1")
    machine.abandon("timeout")
    assert machine.blame.culprits == () and machine.blame.check == "timeout"
    assert not holds_any(machine, {presigs[2].k.value, presigs[2].chi.value})
    assert presigs[2].consumed   # a σ_i may have left: the presignature is not used again


def test_signers_holding_records_of_different_presign_runs_abort_without_blame():
    """Two runs of one session id (a retried session): the ids differ, so do the contexts."""
    first = presignatures(KEYS, (1, 3), sid=b"sign-mixed", label="first run")
    second = presignatures(KEYS, (1, 3), sid=b"sign-mixed", label="second run")
    assert first[1].presign_id != second[1].presign_id
    assert first[1].presign_id == first[3].presign_id
    net = run_sign(KEYS, {1: first[1], 3: second[3]}, b"message")
    for channel in net.channels.values():
        assert channel.result is None
        assert channel.blame is not None and channel.blame.culprits == (), channel.blame


def _other_epoch(key: CmpKey) -> CmpKey:
    return CmpKey(dataclasses.replace(key.share, epoch=key.share.epoch + 1), key.aux)


@pytest.mark.parametrize(("which", "match"), [
    ("other key", "another key"),
    ("other epoch", "another key, epoch"),
    ("other party", "another key, epoch or party"),
    ("other threshold", "exactly 3 signers"),
])
def test_sign_refuses_a_presignature_made_for_something_else(unused, which, match):
    presigs = unused
    key = {
        "other key": deal((1, 2, 3), 1, seed=b"another dealer", key_id="other-key")[1],
        "other epoch": _other_epoch(KEYS[1]),
        "other party": KEYS[3],
        "other threshold": keys_for(3, 2)[1],   # same key id and public key, t = 2
    }[which]
    with pytest.raises(UsageError, match=match):
        Sign(key, presigs[1], b"message", b"sid")
    assert not presigs[1].consumed, "a refused presignature stays usable"


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"hash_name": "md5"}, "unknown hash"),
    ({"hash_name": "SHA256"}, "unknown hash"),
    ({"path": "m/0'"}, "hardened"),
    ({"path": "44/0"}, "starts with 'm'"),
])
def test_sign_refuses_bad_options_before_consuming(unused, kwargs, match):
    presigs = unused
    with pytest.raises(UsageError, match=match):
        Sign(KEYS[1], presigs[1], b"message", b"sid", **kwargs)
    assert not presigs[1].consumed


@pytest.mark.parametrize(("message", "sid", "match"), [
    ("text", b"sid", "bytes"),
    (b"message", b"", "session id"),
    (b"message", "sid", "session id"),
])
def test_sign_refuses_bad_arguments(unused, message, sid, match):
    with pytest.raises(UsageError, match=match):
        Sign(KEYS[1], unused[1], message, sid)


def test_signature_encodings():
    sig = EcdsaSignature(r=0x1234, s=0x80, recovery_id=1)
    assert sig.to_compact() == (0x1234).to_bytes(32, "big") + (0x80).to_bytes(32, "big")
    assert sig.to_recoverable()[-1] == 1
    # DER: SEQUENCE { INTEGER 0x1234, INTEGER 0x0080 } (a leading zero keeps 0x80 positive)
    assert sig.to_der() == bytes.fromhex("3008020212340202" + "0080")


def test_finish_normalises_to_low_s_and_flips_the_recovery_id():
    rng = SeededRng(b"finish")
    x, k = GROUP.random_nonzero_scalar(rng), GROUP.random_nonzero_scalar(rng)
    public_key, R = GROUP.base_mul(x), GROUP.base_mul(k.inverse())
    digest = hashlib.sha256(b"low-s").digest()
    m = int.from_bytes(digest, "big")
    r = R.x() % GROUP.order
    s = k * (m + r * x)
    # Nonce k with R = k^-1·G, or -k with -R: the same r, s and -s; one s is high.
    sigs = {finish(nonce_point, s_value, digest, public_key)
            for nonce_point, s_value in ((R, s), (-R, -s))}
    assert len(sigs) == 1
    sig = sigs.pop()
    assert sig.s <= GROUP.order // 2 and verify(public_key, digest, sig.r, sig.s)
    assert_valid_ecdsa(public_key.encode(), digest, sig)


@pytest.mark.parametrize(("one", "other"), [
    ({"message": b"pay alice"}, {"message": b"pay mallory"}),
    ({"hash_name": "sha256"}, {"hash_name": "sha256d"}),
], ids=["message", "hash"])
def test_signers_given_different_messages_abort_without_blaming_anyone(one, other):
    presigs = presignatures(KEYS, (1, 3), sid=b"sign-disagree-" + next(iter(one)).encode())
    machines = {1: Sign(KEYS[1], presigs[1], **({"message": b"m"} | one), session_id=b"sid"),
                3: Sign(KEYS[3], presigs[3], **({"message": b"m"} | other), session_id=b"sid")}
    net = simulator.run(machines)
    for channel in net.channels.values():
        assert channel.result is None
        assert channel.blame is not None and channel.blame.culprits == ()


def test_ecdsa_signature_encoding_is_pinned():
    sig = EcdsaSignature(r=2**255 + 1, s=0x1234, recovery_id=3)
    data = wire.encode(sig)
    # [version 1, type 0x0241, suite 0, r (32 bytes), s (2 bytes), v]
    assert data.hex() == "9601cd024100" + "c420" + "80" + "00" * 30 + "01" + "c4021234" + "03"
    assert wire.decode(data, EcdsaSignature) == sig
