"""CGGMP21 presigning followed by signing, end to end over the simulated network.

Every configuration runs Presign among a signing set through ``simulator.run``
(channels, echo broadcast, reordering), then Sign on a message; the signature must
verify with coincurve and OpenSSL and recover the key. For 2-of-4 (t = 2) every
signing set of three signs.
"""

from functools import cache
from itertools import combinations

import msgpack
import pytest

from protocol import wire
from protocol.cmp.presign import Presign, Presignature
from protocol.cmp.presign_context import presign_id_of
from protocol.cmp.signature import message_digest
from protocol.errors import EncodingError, UsageError
from protocol.group import SECP256K1
from protocol.rng import SeededRng
from tests.protocol import simulator
from tests.protocol.cmp.sign_helpers import (
    SecretLog,
    agreed_signature,
    assert_valid_ecdsa,
    keys_for,
    presign_machines,
    presignatures,
    rng,
    run_presign,
    run_sign,
)
from tests.protocol.leaks import assert_never_copied

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


@cache
def _presigs(n: int, t: int, signers: tuple[int, ...]) -> dict[int, Presignature]:
    """One presign run per configuration, shared by the tests of this module.

    After it, each party's machine holds no session secret but its output's k_i, χ_i.
    """
    keys = keys_for(n, t)
    machines = presign_machines(keys, signers, b"presign-%d-%d" % (n, t) + bytes(signers))
    log = SecretLog(machines, signers)
    net = simulator.run(machines, corrupt=log.hooks())
    presigs = simulator.assert_success(net)
    for p in signers:
        assert not log.leftovers(net, p), f"party {p} kept a session secret after presigning"
    return presigs


def _presign_and_sign(n: int, t: int, signers: tuple[int, ...]) -> None:
    keys = keys_for(n, t)
    presigs = _presigs(n, t, signers)
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


def _with(raw: list, field: str, value) -> bytes:
    raw = list(raw)
    raw[3 + [f for f, _ in Presignature.__wire_codecs__].index(field)] = value
    return msgpack.packb(raw, use_bin_type=True)


def _shifted(points, by) -> list[bytes]:
    """The last two points moved by +by and -by: the sum, and so every aggregate check, unchanged."""
    points = list(points)
    points[-2], points[-1] = points[-2] + by, points[-1] - by
    return [p.encode() for p in points]


@pytest.mark.parametrize(("field", "change", "match"), [
    ("R", lambda p: (p.R + p.R.group.generator).encode(), "R is not"),
    ("delta", lambda p: (p.delta + 1).encode(), "R is not"),
    ("Gamma", lambda p: (p.Gamma + p.Gamma).encode(), "R is not"),
    ("Deltas", lambda p: _shifted(p.Deltas, p.R.group.generator), "presign_id"),
    ("S", lambda p: _shifted(p.S, p.R.group.generator), "presign_id"),
    ("epoch", lambda p: p.epoch + 1, "presign_id"),
])
def test_a_presignature_with_altered_public_data_does_not_decode(field, change, match):
    """Party 1's record of a 3-signer run; Δ_j and S_j of the two others moved in opposite ways
    pass every algebraic check, and only the presign_id (a digest of the public data) catches them."""
    presig = _presigs(4, 2, (1, 2, 3))[1]
    assert presig.presign_id == presign_id_of(presig.key_id, presig.epoch, presig.public_key,
                                              presig.signers, presig.R, presig.Gamma, presig.Deltas,
                                              presig.S)
    raw = msgpack.unpackb(wire.encode(presig, SECP256K1))
    with pytest.raises(EncodingError, match=match):
        wire.decode(_with(raw, field, change(presig)), Presignature, SECP256K1)


def test_a_presignature_is_never_pickled_or_copied(two_of_two):
    assert_never_copied(two_of_two[1], match="single use")


def test_parties_started_with_different_inputs_abort_without_blame_and_keep_no_secret():
    keys = keys_for(2, 1)
    machines = {1: Presign(keys[1], (1, 2), b"session one", rng("inputs", 1)),
                2: Presign(keys[2], (1, 2), b"session two", rng("inputs", 2))}
    log = SecretLog(machines, (1, 2))
    net = simulator.run(machines, corrupt=log.hooks())
    for p, channel in net.channels.items():
        assert channel.result is None and channel.blame is not None and channel.blame.culprits == ()
        assert "other inputs" in channel.blame.check
        assert channel.machine.blame is not None          # the machine was told, and erased
        assert not log.leftovers(net, p)


def test_seeded_runs_are_byte_identical():
    keys = keys_for(2, 1)
    logs = [run_presign(keys, (1, 2), sid=b"determinism", seed=7).log for _ in range(2)]
    assert logs[0] == logs[1]
    assert len(logs[0]) > 0


@pytest.mark.parametrize(("signers", "match"), [
    ((1, 2, 3), "exactly 2 signers"),
    ((2, 3), "this party among them"),
    ((1, 9), "holders of the key"),
    ((1, 1, 2), "name a party twice"),    # refused, not de-duplicated: the caller's list is wrong
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
