"""Signing nonces are fresh per session, single use, erased after use or abort, never copied."""


import pytest

from protocol import wire
from protocol.errors import UsageError
from protocol.frames import ENVELOPES, Frame
from protocol.frost.core import Commitment, SigningPackage
from protocol.frost.ed25519 import ED25519_SHA512
from protocol.frost.nonces import SigningNonces, nonce_generate, session_nonce_generate
from protocol.frost.sign import FrostSign
from protocol.frost.sign_round1 import SigningCommitments
from protocol.frost.sign_round2 import SignatureShare
from protocol.frost.tweak import signing_key
from protocol.machine import Incoming
from protocol.rng import SeededRng
from tests.protocol import leaks, simulator
from tests.protocol.frost import helpers

SUITE = ED25519_SHA512
GROUP = SUITE.group
TAG = bytes(range(32))


class RepeatingRng:
    """A broken RNG: the same bytes on every call (a restored snapshot, a forked process)."""

    def random_bytes(self, n: int) -> bytes:
        return b"\x42" * n


def _package(nonces_by_party, message=b"m", context=b""):
    key = signing_key(SUITE, GROUP.base_mul(7))
    return SigningPackage(SUITE, key, [Commitment(i, *n.commitments) for i, n in nonces_by_party.items()],
                          message, context)


def _commitments(machine: FrostSign) -> tuple:
    (out,) = machine.start()
    msg = wire.decode(out.body, SigningCommitments, machine.group)
    return msg.hiding, msg.binding


def test_nonces_answer_exactly_once_and_are_erased():
    secret = GROUP.scalar(5)
    nonces = SigningNonces.generate(SUITE, secret, SeededRng(1), TAG)
    other = SigningNonces.generate(SUITE, GROUP.scalar(6), SeededRng(2), TAG)
    first = _package({1: nonces, 2: other})
    first.sign_share(1, secret, nonces)
    assert nonces.used and nonces._hiding is None and nonces._binding is None
    # The same commitment in another package (another message): refused, not answered twice.
    second = _package({1: nonces, 2: other}, message=b"another message")
    with pytest.raises(UsageError, match="already used"):
        second.sign_share(1, secret, nonces)
    with pytest.raises(UsageError):
        nonces.take()


def test_erased_nonces_answer_nothing():
    nonces = SigningNonces.generate(SUITE, GROUP.scalar(5), SeededRng(1), TAG)
    other = SigningNonces.generate(SUITE, GROUP.scalar(6), SeededRng(2), TAG)
    nonces.erase()
    nonces.erase()  # idempotent
    assert nonces.used
    with pytest.raises(UsageError, match="already used"):
        _package({1: nonces, 2: other}).sign_share(1, GROUP.scalar(5), nonces)


def test_nonces_of_another_commitment_are_refused():
    a = SigningNonces.generate(SUITE, GROUP.scalar(5), SeededRng(1), TAG)
    b = SigningNonces.generate(SUITE, GROUP.scalar(6), SeededRng(2), TAG)
    c = SigningNonces.generate(SUITE, GROUP.scalar(5), SeededRng(3), TAG)
    with pytest.raises(UsageError, match="not the signer's commitment"):
        _package({1: a, 2: b}).sign_share(1, GROUP.scalar(5), c)
    assert not c.used


def test_nonces_depend_on_randomness_secret_and_session():
    same = b"same randomness"
    a = SigningNonces.generate(SUITE, GROUP.scalar(5), SeededRng(same), TAG)
    b = SigningNonces.generate(SUITE, GROUP.scalar(6), SeededRng(same), TAG)
    c = SigningNonces.generate(SUITE, GROUP.scalar(5), SeededRng(b"other"), TAG)
    d = SigningNonces.generate(SUITE, GROUP.scalar(5), SeededRng(same), bytes(32))
    assert len({a.commitments, b.commitments, c.commitments, d.commitments}) == 4


def test_a_repeating_rng_still_gives_distinct_nonces_per_session_and_role():
    secret = GROUP.scalar(5)
    a = SigningNonces.generate(SUITE, secret, RepeatingRng(), TAG)
    b = SigningNonces.generate(SUITE, secret, RepeatingRng(), bytes(32))
    assert len({*a.commitments, *b.commitments}) == 4  # hiding != binding, session a != session b
    # The session nonce is never the RFC's plain nonce for the same randomness.
    randomness = RepeatingRng().random_bytes(32)
    plain = nonce_generate(SUITE, secret, randomness)
    assert plain not in {session_nonce_generate(SUITE, secret, randomness, TAG, role)
                         for role in (b"\x01", b"\x02")}
    with pytest.raises(UsageError):
        session_nonce_generate(SUITE, secret, randomness, TAG[:31], b"\x01")
    with pytest.raises(UsageError):
        session_nonce_generate(SUITE, secret, randomness, TAG, b"\x03")


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_two_sessions_with_one_rng_seed_commit_to_different_nonces(suite):
    """The machine binds the session tag: a repeated RNG seed never repeats a nonce."""
    key = helpers.shares(suite, 3, 1)
    first = _commitments(FrostSign(key[1], [1, 2], b"m", b"session one", SeededRng(b"same seed")))
    second = _commitments(FrostSign(key[1], [1, 2], b"m", b"session two", SeededRng(b"same seed")))
    other_message = _commitments(FrostSign(key[1], [1, 2], b"n", b"session one", SeededRng(b"same seed")))
    assert len({*first, *second, *other_message}) == 6
    # Even an RNG that always returns the same bytes.
    a = _commitments(FrostSign(key[1], [1, 2], b"m", b"session one", RepeatingRng()))
    b = _commitments(FrostSign(key[1], [1, 2], b"m", b"session two", RepeatingRng()))
    assert len({*a, *b}) == 4


def _round1_commitments(net):
    found = set()
    for sender, _, body in net.log:
        frame = wire.decode_one_of(body, ENVELOPES)
        if isinstance(frame, Frame) and frame.round == 1 and frame.recipient == 0:
            msg = wire.decode(frame.body, SigningCommitments, net.channels[sender].machine.group)
            found.add((sender, msg.hiding.encode(), msg.binding.encode()))
    return found


def test_the_test_helpers_never_reuse_a_nonce_across_sessions():
    """Three sessions of one key with the helpers' default seed: no commitment repeats."""
    key = helpers.shares("ed25519", 3, 1)
    seen = {}
    for session in (b"s1", b"s2", b"s3"):
        net = simulator.run(helpers.sign_machines(key, [1, 2], b"same message", session=session))
        simulator.assert_success(net)
        for sender, hiding, binding in _round1_commitments(net):
            for point in (hiding, binding):
                assert point not in seen, f"party {sender} reused a nonce of {seen[point]} in {session}"
                seen[point] = session
    assert len(seen) == 3 * 2 * 2


def test_nonces_are_redacted_and_never_copied():
    secret = GROUP.scalar(5)
    nonces = SigningNonces.generate(SUITE, secret, SeededRng(1), TAG)
    d, _ = SigningNonces.generate(SUITE, secret, SeededRng(1), TAG).take()
    assert "redacted" in repr(nonces) and d.encode().hex() not in repr(nonces)
    leaks.assert_never_copied(nonces)


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
    assert machine.nonces is None  # consumed by the answer
    # A second delivery of the same commitments is a duplicate, not a second answer.
    assert machine.receive(Incoming(2, 1, commit.body, broadcast=True)) == []
    # Different commitments for the same round are an equivocation, blamed on the sender.
    other = FrostSign(key[2], [1, 2], b"m", b"once", SeededRng(3)).start()[0]
    assert machine.receive(Incoming(2, 1, other.body, broadcast=True)) == []
    assert machine.blame.culprits == (2,)


# -- no nonce survives an abort -------------------------------------------------------------

def _holds_scalar(root, values) -> bool:
    """Whether ``root`` still reaches one of the nonce ``values`` or unused ``SigningNonces``."""
    return bool(leaks.holds_any(root, values, lambda obj: isinstance(obj, SigningNonces) and not obj.used))


def _nonce_values(machine: FrostSign, session: bytes, seed: str = "") -> set[int]:
    rng = helpers.party_rng("sign", seed, session, machine.party)
    d, e = SigningNonces.generate(machine.suite, machine.share.secret, rng, machine.tag).take()
    return {d.value, e.value}


def test_the_reachability_check_finds_live_nonces():
    key = helpers.shares("ed25519", 3, 1)
    machines = helpers.sign_machines(key, [1, 2], b"m", session=b"live")
    machines[1].start()
    assert _holds_scalar(machines[1], _nonce_values(machines[1], b"live"))


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_no_nonce_survives_a_blame_before_the_answer(suite):
    """Party 2 sends round-1 commitments of another session: 1 and 3 blame it and keep no nonce."""
    key = helpers.shares(suite, 4, 2)
    machines = helpers.sign_machines(key, [1, 2, 3], b"m", session=b"abort")
    group = key[1].group

    def wrong_session(o):
        if o.round == 1 and o.recipient is None:
            msg = wire.decode(o.body, SigningCommitments, group)
            o = type(o)(o.round, None, wire.encode(SigningCommitments(bytes(32), msg.hiding, msg.binding),
                                                   group))
        return [o]
    net = simulator.run(machines, corrupt={2: wrong_session})
    simulator.assert_all_blame(net, 2, "another session")
    for p in (1, 3):
        machine = net.channels[p].machine
        assert not _holds_scalar(net.channels[p], _nonce_values(machine, b"abort"))
        assert machine.round_number == 0 and machine.nonces is None


def test_a_channel_abort_erases_the_nonces_of_the_session():
    """Other inputs: the channel aborts and the machine never learns; the caller erases the nonces."""
    key = helpers.shares("ed25519", 3, 1)
    machines = {1: FrostSign(key[1], [1, 2], b"one message", b"s", helpers.party_rng("sign", "", b"s", 1)),
                2: FrostSign(key[2], [1, 2], b"another", b"s", helpers.party_rng("sign", "", b"s", 2))}
    net = simulator.run(machines)
    for ch in net.channels.values():
        assert ch.blame is not None and ch.blame.culprits == () and "other inputs" in ch.blame.check
    machine = net.channels[1].machine
    # The channel's abort reaches the machine, which drops its unused nonces at once.
    assert machine.nonces is None and machine.blame.culprits == () and "other inputs" in machine.blame.check
    assert not _holds_scalar(net.channels[1], _nonce_values(machine, b"s"))
    assert machine.receive(Incoming(2, 1, b"anything", broadcast=True)) == []


def test_commitment_message_round_trips():
    nonces = SigningNonces.generate(SUITE, GROUP.scalar(5), SeededRng(1), TAG)
    msg = SigningCommitments(bytes(32), *nonces.commitments)
    assert wire.decode(wire.encode(msg, GROUP), SigningCommitments, GROUP) == msg
