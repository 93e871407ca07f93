"""Signing under a BIP32 non-hardened child of a threshold key.

The child key is checked against bip_utils (an independent BIP32 implementation),
and the signature against coincurve and OpenSSL under the child key. The nonce is
re-randomised per (message, path), so that a child signature is no parent signature
on a digest computable before signing (Groth–Shoup's attack on additive derivation
with presignatures).
"""

import hashlib

import coincurve
import pytest
from bip_utils import Bip32KeyData, Bip32Secp256k1

from protocol import hd
from protocol.cmp.sign import FullSign, Sign, rerandomiser
from protocol.cmp.signature import message_digest, verify
from protocol.errors import UsageError
from protocol.rng import SeededRng
from tests.protocol import simulator
from tests.protocol.cmp.sign_helpers import (
    GROUP,
    agreed_signature,
    assert_valid_ecdsa,
    keys_for,
    presignatures,
    run_full_sign,
    run_sign,
)

KEYS = keys_for(3, 1)
SHARE = KEYS[1].share
PATH = "m/44/0/0/5"


def _bip_utils_child(path: str) -> bytes:
    parent = Bip32Secp256k1.FromPublicKey(SHARE.public_key.encode(),
                                          Bip32KeyData(chain_code=SHARE.chain_code))
    return parent.DerivePath(path).PublicKey().RawCompressed().ToBytes()


@pytest.mark.parametrize("path", [PATH, "m/0", "m/1/2/3/4/5/6"])
def test_derived_key_matches_bip_utils(path):
    derived = hd.derive(GROUP, SHARE.public_key, SHARE.chain_code, path)
    assert derived.public_key.encode() == _bip_utils_child(path)


def _as_digest(m) -> bytes:
    return int(m.value).to_bytes(32, "big")


def test_sign_with_a_path_verifies_under_the_child_key_only():
    presigs = presignatures(KEYS, (1, 3), sid=b"hd-sign")
    R = presigs[1].R          # known when the message and the path are chosen
    message = b"spend from m/44/0/0/5"
    sig = agreed_signature(run_sign(KEYS, presigs, message, path=PATH))
    digest = message_digest(message, "sha256")
    assert_valid_ecdsa(_bip_utils_child(PATH), digest, sig)
    parent = SHARE.public_key
    assert not coincurve.PublicKey(parent.encode()).verify(sig.to_der(), digest, hasher=None)
    # Without re-randomisation r = R.x, and this signature would also be the parent key's
    # on m + R.x·δ: one signature on (M1, P1) then signs any (M2, P2) with
    # m1 − m2 + r·(δ1 − δ2) ≡ 0, found by Wagner's algorithm. Now r is R'.x, R' = ρ·R
    # with ρ hashed from the message and the path, so no digest known beforehand works.
    tweak = hd.derive(GROUP, parent, SHARE.chain_code, PATH).tweak
    m = GROUP.scalar(int.from_bytes(digest, "big"))
    assert sig.r != R.x() % GROUP.order
    assert not verify(parent, _as_digest(m + GROUP.scalar(R.x()) * tweak), sig.r, sig.s)
    # (The relation holds with the signature's own r, fixed only once M and P are.)
    assert verify(parent, _as_digest(m + GROUP.scalar(sig.r) * tweak), sig.r, sig.s)


def test_the_nonce_point_depends_on_the_message_and_the_path():
    presig = presignatures(KEYS, (1, 2), sid=b"hd-nonce")[1]
    keys = [SHARE.public_key] + [hd.derive(GROUP, SHARE.public_key, SHARE.chain_code, p).public_key
                                 for p in (PATH, "m/44/0/0/6")]
    digests = [message_digest(m, "sha256") for m in (b"one", b"two")]
    points = {(rerandomiser(presig, key, d) * presig.R).encode() for key in keys for d in digests}
    assert len(points) == len(keys) * len(digests)
    assert presig.R.encode() not in points


def test_signers_given_different_paths_abort_without_blaming_anyone():
    presigs = presignatures(KEYS, (2, 3), sid=b"hd-disagree")
    machines = {2: Sign(KEYS[2], presigs[2], b"spend", b"sid", path=PATH),
                3: Sign(KEYS[3], presigs[3], b"spend", b"sid", path="m/44/0/0/6")}
    net = simulator.run(machines)
    for channel in net.channels.values():
        assert channel.result is None
        assert channel.blame is not None and channel.blame.culprits == ()


def test_full_sign_with_a_path():
    digest = hashlib.sha256(b"raw digest under a child key").digest()
    sig = agreed_signature(run_full_sign(KEYS, (2, 3), digest, path=PATH))
    assert_valid_ecdsa(_bip_utils_child(PATH), digest, sig)


@pytest.mark.parametrize("path", ["m/44'/0", "m/0h", "m/2147483648"])
def test_hardened_paths_are_refused(path):
    with pytest.raises(UsageError, match="hardened"):
        FullSign(KEYS[1], (1, 2), bytes(32), b"sid", SeededRng(1), path=path)
