"""CGGMP21 presigning followed by signing, end to end over the simulated network.

Every configuration runs Presign among a signing set through ``simulator.run``
(channels, echo broadcast, reordering), then Sign on a message; the signature must
verify with coincurve and OpenSSL and recover the key. For 2-of-4 (t = 2) every
signing set of three signs.
"""

from itertools import combinations

import msgpack
import pytest

from protocol import wire
from protocol.cmp.presign import Presign, Presignature
from protocol.cmp.signature import message_digest
from protocol.errors import EncodingError, UsageError
from protocol.group import SECP256K1
from protocol.rng import SeededRng
from tests.protocol.cmp.sign_helpers import (
    agreed_signature,
    assert_valid_ecdsa,
    keys_for,
    presignatures,
    run_presign,
    run_sign,
)

# With every 3-of-4 set below: n = 2..5, t = 1..3, n-of-n, first, middle and last indices.
CONFIGS = [
    (2, 1, (1, 2)),
    (3, 1, (1, 3)),
    (5, 3, (2, 3, 4, 5)),
]


def _assert_same_public_data(presigs: dict) -> None:
    first = next(iter(presigs.values()))
    for p in presigs.values():
        assert (p.presign_id, p.R, p.Gamma, p.delta, p.Deltas, p.S) == (
            first.presign_id, first.R, first.Gamma, first.delta, first.Deltas, first.S)
    assert len({p.k for p in presigs.values()}) == len(presigs), "k_i are not independent"


def _presign_and_sign(n: int, t: int, signers: tuple[int, ...]) -> None:
    keys = keys_for(n, t)
    presigs = presignatures(keys, signers, sid=b"presign-%d-%d" % (n, t) + bytes(signers))
    _assert_same_public_data(presigs)
    message = b"transfer %d-of-%d by %r" % (t + 1, n, signers)
    sig = agreed_signature(run_sign(keys, presigs, message))
    assert_valid_ecdsa(keys[signers[0]].share.public_key.encode(), message_digest(message, "sha256"),
                       sig)


@pytest.mark.parametrize(("n", "t", "signers"), CONFIGS,
                         ids=[f"{t + 1}-of-{n}-{''.join(map(str, s))}" for n, t, s in CONFIGS])
def test_presign_then_sign_verifies_independently(n, t, signers):
    _presign_and_sign(n, t, signers)


@pytest.mark.parametrize("signers", list(combinations(range(1, 5), 3)),
                         ids=lambda s: "".join(map(str, s)))
def test_every_signing_set_of_a_3_of_4_key_signs(signers):
    _presign_and_sign(4, 2, signers)


@pytest.fixture(scope="module")
def two_of_two():
    return presignatures(keys_for(2, 1), (1, 2), sid=b"codec")


def test_presignature_round_trips_through_the_codec_and_redacts_its_secrets(two_of_two):
    presig = two_of_two[2]
    data = wire.encode(presig, SECP256K1)
    again = wire.decode(data, Presignature, SECP256K1)
    assert again == presig and not again.consumed
    text = repr(presig)
    assert "redacted" in text and str(presig.k.value) not in text and str(presig.chi.value) not in text
    presig.consume()
    assert presig.consumed and wire.encode(presig, SECP256K1) == data   # the flag is not stored


def test_a_presignature_with_a_wrong_secret_does_not_decode(two_of_two):
    presig = two_of_two[1]
    raw = list(msgpack.unpackb(wire.encode(presig, SECP256K1)))
    names = [f for f, _ in Presignature.__wire_codecs__]
    raw[3 + names.index("k")] = (presig.k + 1).encode()
    with pytest.raises(EncodingError, match="k_i"):
        wire.decode(msgpack.packb(raw, use_bin_type=True), Presignature, SECP256K1)


def test_seeded_runs_are_byte_identical():
    keys = keys_for(2, 1)
    logs = [run_presign(keys, (1, 2), sid=b"determinism", seed=7).log for _ in range(2)]
    assert logs[0] == logs[1]
    assert len(logs[0]) > 0


@pytest.mark.parametrize(("signers", "match"), [
    ((1, 2, 3), "exactly 2 signers"),
    ((2, 3), "this party among them"),
    ((1, 9), "holders of the key"),
])
def test_presign_refuses_a_bad_signing_set(signers, match):
    keys = keys_for(3, 1)
    with pytest.raises(UsageError, match=match):
        Presign(keys[1], signers, b"sid", SeededRng(1))


@pytest.mark.parametrize("sid", [b"", b"x" * 257, "text"])
def test_presign_refuses_a_bad_session_id(sid):
    with pytest.raises(UsageError, match="session id"):
        Presign(keys_for(2, 1)[1], (1, 2), sid, SeededRng(1))


def test_a_presign_machine_starts_in_round_one_and_hides_its_secrets():
    machine = Presign(keys_for(2, 1)[1], (1, 2), b"sid", SeededRng(1))
    assert machine.round_number == 0 and "Presign(party=1" in repr(machine)
    out = machine.start()
    assert machine.round_number == 1 and len(out) == 2        # (K, G) broadcast, Π^enc to party 2
    assert "redacted" in repr(machine._ctx) and not machine.finished
