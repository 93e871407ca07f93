"""One malicious party per round: every honest party aborts and blames exactly that party."""

from dataclasses import replace

import msgpack
import pytest

from protocol import wire
from protocol.channel import Accusation, Echo, Frame
from protocol.frost.keygen_round1 import DkgCommit, DkgShare
from protocol.frost.keygen_round2 import DkgReveal
from protocol.frost.refresh import FrostRefresh
from protocol.frost.refresh_round1 import RefreshCommit, RefreshShare
from protocol.frost.sign_round1 import SigningCommitments
from protocol.frost.sign_round2 import SignatureShare
from protocol.machine import Incoming, Outgoing
from protocol.rng import SeededRng
from protocol.zk import sch
from tests.protocol import simulator
from tests.protocol.frost import helpers
from tests.protocol.tamper import rewrite

BAD = 2
ENVELOPES = (Frame, Echo, Accusation)


def replace_body(number, recipient, body):
    def hook(o: Outgoing):
        return [Outgoing(o.round, o.recipient, body)] if (o.round, o.recipient) == (number, recipient) else [o]
    return hook


def equivocate(parties, number, cls, group, change, liar=3, victim=1):
    """A network hook: ``liar`` sends ``victim`` a different, validly signed round-``number`` broadcast."""
    def hook(sender, recipient, body):
        frame = wire.decode_one_of(body, ENVELOPES)
        if (sender, recipient) == (liar, victim) and isinstance(frame, Frame) and frame.recipient == 0 \
                and frame.round == number:
            other = wire.encode(change(wire.decode(frame.body, cls, group)), group)
            return [simulator.resign(liar, body, other)]
        return [body]
    return hook


def broadcast_body(net, sender, number):
    """``sender``'s round-``number`` broadcast body as it crossed the network."""
    for s, _, body in net.log:
        frame = wire.decode_one_of(body, ENVELOPES)
        if s == sender and isinstance(frame, Frame) and frame.recipient == 0 and frame.round == number:
            return frame.body
    raise AssertionError("no such broadcast")


# -- keygen ------------------------------------------------------------------------------------

def run_keygen(suite, **hooks):
    return simulator.run(helpers.keygen_machines(suite, 4, 2, seed="malicious"), **hooks)


def group_of(suite):
    from protocol.frost.suites import suite_by_name
    return suite_by_name(suite).group


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_keygen_bad_proof_of_knowledge(suite):
    group = group_of(suite)

    def forge(msg: DkgCommit):
        proof = sch.Proof(msg.entry.proof.A, msg.entry.proof.z + 1)
        return replace(msg, entry=replace(msg.entry, proof=proof))
    net = run_keygen(suite, corrupt={BAD: rewrite(DkgCommit, forge, group, recipient=None)})
    simulator.assert_all_blame(net, BAD, "z·G = A + e·X")


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_keygen_bad_share_to_one_party_is_blamed_by_all(suite):
    group = group_of(suite)
    net = run_keygen(suite, corrupt={BAD: rewrite(DkgShare, lambda m: DkgShare(m.share + 1), group, recipient=3)})
    simulator.assert_all_blame(net, BAD, "share for party 3 does not match")


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_keygen_share_from_another_polynomial(suite):
    group = group_of(suite)
    other = group.random_scalar(SeededRng(5))
    net = run_keygen(suite, corrupt={BAD: rewrite(DkgShare, lambda m: DkgShare(other), group, recipient=4)})
    simulator.assert_all_blame(net, BAD, "does not match")


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_keygen_commitment_labelled_as_another_party(suite):
    group = group_of(suite)
    net = run_keygen(suite, corrupt={BAD: rewrite(DkgCommit, lambda m: replace(m, entry=replace(m.entry, party=1)),
                                                  group, recipient=None)})
    simulator.assert_all_blame(net, BAD, "labelled")


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_keygen_message_of_another_session(suite):
    group = group_of(suite)
    net = run_keygen(suite, corrupt={BAD: rewrite(DkgCommit, lambda m: replace(m, session=bytes(32)), group,
                                                  recipient=None)})
    simulator.assert_all_blame(net, BAD, "another session")


@pytest.mark.parametrize(("recipient", "what"), [(None, "broadcast"), (3, "direct")])
def test_keygen_malformed_messages(recipient, what):
    net = run_keygen("ed25519", corrupt={BAD: replace_body(1, recipient, b"\xc1")})
    simulator.assert_all_blame(net, BAD, "not a msgpack message")


def _keygen_commit(suite, sender, *, key_id="key-1", session=b"earlier keygen"):
    """``sender``'s round-1 DkgCommit from a finished keygen of another session."""
    machines = helpers.keygen_machines(suite, 4, 2, seed="earlier", key_id=key_id, session=session)
    earlier = simulator.run(machines, session_id="earlier")
    simulator.assert_success(earlier)
    return wire.decode(broadcast_body(earlier, sender, 1), DkgCommit, group_of(suite))


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_keygen_commit_replayed_from_another_session(suite):
    old = _keygen_commit(suite, BAD)
    net = run_keygen(suite, corrupt={BAD: rewrite(DkgCommit, lambda m: old, group_of(suite), recipient=None)})
    simulator.assert_all_blame(net, BAD, "another session")


@pytest.mark.parametrize("suite", helpers.SUITES)
@pytest.mark.parametrize("source", ["another key id", "another party"])
def test_keygen_proof_of_knowledge_replayed_from_another_session(suite, source):
    """A vector and proof from an earlier keygen, under this session's tag: the proof fails.

    The proof binds the key id, parties, threshold, party index and vector, so
    neither a proof made for another key nor another party's proof (relabelled as
    the sender's own) passes; the sender is blamed for the proof, before its shares.
    """
    if source == "another key id":
        entry = _keygen_commit(suite, BAD, key_id="key-0").entry
    else:
        entry = replace(_keygen_commit(suite, 1).entry, party=BAD)
    net = run_keygen(suite, corrupt={BAD: rewrite(DkgCommit, lambda m: replace(m, entry=entry), group_of(suite),
                                                  recipient=None)})
    simulator.assert_all_blame(net, BAD, "z·G = A + e·X")


def test_keygen_inconsistent_broadcast():
    group = group_of("bip340")
    hook = equivocate(range(1, 5), 1, DkgCommit, group, lambda m: replace(m, chain_commitment=bytes(32)))
    net = run_keygen("bip340", network=hook)
    simulator.assert_all_blame(net, 3, "different broadcasts")


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_keygen_chain_code_reveal_that_does_not_open(suite):
    net = run_keygen(suite, corrupt={BAD: rewrite(DkgReveal, lambda m: DkgReveal(bytes(32)), None,
                                                  recipient=None)})
    simulator.assert_all_blame(net, BAD, "chain-code")


# -- signing -----------------------------------------------------------------------------------

SIGNERS = [1, 2, 3]


def run_sign(suite, *, session=b"sign-session", **hooks):
    key = helpers.shares(suite, 4, 2)
    return simulator.run(helpers.sign_machines(key, SIGNERS, b"attack at dawn", session=session), **hooks)


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_sign_bad_signature_share_names_its_sender(suite):
    group = group_of(suite)
    net = run_sign(suite, corrupt={BAD: rewrite(SignatureShare, lambda m: SignatureShare(m.share + 1), group,
                                                recipient=None)})
    simulator.assert_all_blame(net, BAD, f"signature share of party {BAD} does not verify")
    assert all(ch.result is None for ch in simulator.honest(net, {BAD}).values())


@pytest.mark.parametrize("suite", helpers.SUITES)
@pytest.mark.parametrize(("number", "check"), [(1, "another session"), (2, "does not verify")],
                         ids=["commitment", "share"])
def test_sign_message_replayed_from_another_session_is_refused(suite, number, check):
    """A commitment carries another session's tag; even a share whose commitments were
    accepted (round 1 honest) cannot be carried over from another session."""
    earlier = run_sign(suite, session=b"earlier session")
    simulator.assert_success(earlier)
    replayed = broadcast_body(earlier, BAD, number)
    net = run_sign(suite, session=b"later session", corrupt={BAD: replace_body(number, None, replayed)})
    simulator.assert_all_blame(net, BAD, check)


def test_sign_identity_commitment_is_refused():
    group = group_of("ed25519")

    def identity(o: Outgoing):
        if o.round == 1 and o.recipient is None:
            msg = wire.decode(o.body, SigningCommitments, group)
            raw = [wire.WIRE_VERSION, SigningCommitments.__wire_type_id__, group.suite_id, msg.session,
                   group.identity.encode(), msg.binding.encode()]
            return [Outgoing(1, None, msgpack.packb(raw, use_bin_type=True))]
        return [o]
    net = run_sign("ed25519", corrupt={BAD: identity})
    simulator.assert_all_blame(net, BAD, "identity")


def test_sign_malformed_commitment():
    net = run_sign("bip340", corrupt={BAD: replace_body(1, None, b"\x93\x01\x02")})
    simulator.assert_all_blame(net, BAD, "not a msgpack message")


def test_sign_inconsistent_signature_share_broadcast():
    group = group_of("ed25519")
    hook = equivocate(SIGNERS, 2, SignatureShare, group, lambda m: SignatureShare(m.share + 1))
    net = run_sign("ed25519", network=hook)
    simulator.assert_all_blame(net, 3, "sent different broadcasts to different parties")


def _frames_between(net, sender, recipient, number):
    return tuple(body for s, r, body in net.log if (s, r) == (sender, recipient)
                 and isinstance(f := wire.decode_one_of(body, ENVELOPES), Frame) and f.round == number)


@pytest.mark.parametrize(("protocol", "number"), [("keygen", 1), ("keygen", 2), ("sign", 1), ("sign", 2)])
def test_an_accusation_after_the_result_changes_nothing(protocol, number):
    """Party 3 accuses honest party 1 with 1's real frames once everyone holds the result."""
    net = run_keygen("bip340") if protocol == "keygen" else run_sign("bip340")
    results = simulator.assert_success(net)
    accusation = wire.encode(Accusation(number, 1, _frames_between(net, 1, 3, number)))
    ch = net.channels[2]
    assert ch.receive(Incoming(3, number, accusation)) == []
    assert ch.blame is None and ch.result is results[2] and ch.after_done == []


# -- refresh -----------------------------------------------------------------------------------

def run_refresh(suite, **hooks):
    key = helpers.shares(suite, 4, 2)
    machines = {p: FrostRefresh(s, b"refresh", SeededRng(p)) for p, s in key.items()}
    return simulator.run(machines, **hooks)


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_refresh_bad_value_to_one_party_is_blamed_by_all(suite):
    group = group_of(suite)
    net = run_refresh(suite, corrupt={BAD: rewrite(RefreshShare, lambda m: RefreshShare(m.value + 1), group,
                                                   recipient=4)})
    simulator.assert_all_blame(net, BAD, "value for party 4 does not match")


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_refresh_commitment_that_would_move_the_key(suite):
    """A vector one longer hides a non-zero constant term; its length alone gives it away."""
    group = group_of(suite)
    net = run_refresh(suite, corrupt={BAD: rewrite(RefreshCommit, lambda m: replace(
        m, commitments=(group.generator, *m.commitments)), group, recipient=None)})
    simulator.assert_all_blame(net, BAD, "length")


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_refresh_commitment_of_another_session(suite):
    """A commitment carrying another session's tag (a replay, or made for another key state)."""
    net = run_refresh(suite, corrupt={BAD: rewrite(RefreshCommit, lambda m: replace(m, session=bytes(32)),
                                                   group_of(suite), recipient=None)})
    simulator.assert_all_blame(net, BAD, "another session")


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_refresh_commitment_replayed_from_an_earlier_refresh(suite):
    key = helpers.shares(suite, 4, 2)
    earlier = simulator.run({p: FrostRefresh(s, b"earlier refresh", SeededRng(f"earlier:{p}"))
                              for p, s in key.items()})
    simulator.assert_success(earlier)
    old = broadcast_body(earlier, BAD, 1)
    net = run_refresh(suite, corrupt={BAD: replace_body(1, None, old)})
    simulator.assert_all_blame(net, BAD, "another session")


@pytest.mark.parametrize("suite", helpers.SUITES)
def test_refresh_equivocation(suite):
    """Party 3 shows party 1 other refresh commitments than everyone else: 3 is blamed."""
    hook = equivocate(range(1, 5), 1, RefreshCommit, group_of(suite),
                      lambda m: replace(m, commitments=tuple(reversed(m.commitments))))
    net = run_refresh(suite, network=hook)
    simulator.assert_all_blame(net, 3, "sent different broadcasts to different parties")
