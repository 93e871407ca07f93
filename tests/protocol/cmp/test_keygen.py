"""CGGMP21 keygen (protocol/cmp/keygen.py): honest runs for many t-of-n, and one malicious
party per check, blamed by every honest party."""

from __future__ import annotations

import dataclasses
import itertools

import coincurve
import pytest

from protocol import shamir, wire
from protocol.channel import Accusation, Echo, Frame
from protocol.cmp import vss
from protocol.cmp.keygen import Keygen, KeygenOutput
from protocol.cmp.keygen_round1 import KeygenCommitment, KeygenRound1
from protocol.cmp.keygen_round2 import KeygenDecommitment
from protocol.cmp.keygen_round3 import KeygenProof, KeygenShare
from protocol.errors import UsageError
from protocol.group import SECP256K1
from protocol.keygen_certificate import public_shares, verify_keygen_certificate
from protocol.machine import Outgoing, Send, Transition
from protocol.params import SecurityLevel
from protocol.rng import SeededRng
from tests.protocol import simulator
from tests.protocol.leaks import assert_never_copied
from tests.protocol.tamper import rewrite

G = SECP256K1
SESSION = b"keygen-session"
KEY_ID = "test-key"


def keygen_machines(n: int, t: int, *, seed: int = 0, session_id: bytes = SESSION,
                    key_id: str = KEY_ID, classes=None) -> dict[int, Keygen]:
    parties = tuple(range(1, n + 1))
    classes = classes or {}
    return {p: classes.get(p, Keygen)(p, parties, t, key_id, session_id,
                                       SeededRng(b"keygen/%d/%d" % (seed, p)))
            for p in parties}


def run_keygen(n: int, t: int, **kwargs) -> dict[int, KeygenOutput]:
    return simulator.assert_success(simulator.run(keygen_machines(n, t, **kwargs)))


def secret_of(shares: dict[int, object], subset) -> int:
    """The key that the Shamir shares of ``subset`` interpolate to."""
    return sum((shamir.lagrange_at_zero(G, j, subset) * shares[j] for j in subset), G.scalar(0)).value


def _decode_frame(body: bytes):
    return wire.decode_one_of(body, (Frame, Echo, Accusation))


# -- honest runs ----------------------------------------------------------------------

@pytest.mark.parametrize(("n", "t"), [(2, 1), (3, 1), (3, 2), (4, 2), (5, 1), (5, 3), (5, 4), (10, 6)])
def test_every_party_outputs_the_same_key_and_any_t_plus_1_shares_give_it(n, t):
    out = run_keygen(n, t, seed=n * 100 + t)
    first = out[1].share
    parties = tuple(range(1, n + 1))
    for p, o in out.items():
        s = o.share
        assert (s.party, s.parties, s.threshold, s.key_id, s.epoch, s.schema) == (p, parties, t, KEY_ID, 0, 1)
        assert (s.public_key, s.public_shares, s.chain_code, s.rid) == (
            first.public_key, first.public_shares, first.chain_code, first.rid)
        assert G.base_mul(s.x) == s.public_share(p)
        assert o.certificate == out[1].certificate
    shares = {p: o.share.x for p, o in out.items()}
    subsets = list(itertools.combinations(parties, t + 1))
    for subset in subsets[:: max(1, len(subsets) // 12)]:
        secret = secret_of(shares, subset)
        assert coincurve.PrivateKey(secret.to_bytes(32, "big")).public_key.format() == first.public_key.encode()
    # t shares are not enough: they interpolate to something else.
    assert G.base_mul(secret_of(shares, parties[:t])) != first.public_key
    verify_keygen_certificate(out[1].certificate, KEY_ID, G, first.public_key, parties, t)
    verify_keygen_certificate(wire.encode(out[2].certificate, G), KEY_ID, G, first.public_key.encode(),
                              parties, t)


def test_output_round_trips_through_the_codec_and_hides_the_secret():
    out = run_keygen(3, 1)[2]
    assert wire.decode(wire.encode(out, G), KeygenOutput, G) == out
    assert "redacted" in repr(out) and str(out.share.x.value) not in repr(out)
    assert_never_copied(out, match="wire codec")


def test_seeded_runs_give_byte_identical_transcripts():
    logs = [simulator.run(keygen_machines(4, 2, seed=7), seed=3).log for _ in range(2)]
    assert logs[0] == logs[1]
    other = simulator.run(keygen_machines(4, 2, seed=8), seed=3).log
    assert other != logs[0]


def test_delivery_order_does_not_change_the_result():
    keys = {simulator.assert_success(simulator.run(keygen_machines(4, 2), seed=s))[1].share.public_key
            for s in range(3)}
    assert len(keys) == 1


def test_fresh_randomness_gives_a_fresh_key_and_chain_code():
    a = run_keygen(3, 1, seed=1)[1].share
    b = run_keygen(3, 1, seed=2)[1].share
    assert a.public_key != b.public_key and a.chain_code != b.chain_code and a.rid != b.rid


@pytest.mark.parametrize("kwargs", [
    {"threshold": 0}, {"threshold": 3}, {"key_id": ""}, {"key_id": "k" * 200},
    {"session_id": b""}, {"session_id": "text"}, {"party": 4}, {"parties": (1, 1, 2)},
    {"level": "cggmp21-128"}, {"threshold": True}, {"parties": (1, 2, 2**16)},
    {"parties": tuple(range(1, 34))},
])
def test_bad_arguments_are_usage_errors(kwargs):
    args = {"party": 1, "parties": (1, 2, 3), "threshold": 1, "key_id": KEY_ID,
            "session_id": SESSION, "rng": SeededRng(1), **kwargs}
    with pytest.raises(UsageError):
        Keygen(**args)


def test_feldman_vectors_evaluate_to_the_public_images_of_the_shares():
    # One Horner evaluation (protocol.shamir) serves scalars, Feldman vectors and the
    # certificate's public shares: f(j)·G = Σ_k j^k·F[k] for a dealer and for a sum of dealers.
    rng = SeededRng(b"feldman")
    dealings = [vss.Dealing(G, rng, 3, zero_constant=z) for z in (False, True, False)]
    parties = (1, 2, 5, 65535)
    for d in dealings:
        for j in parties:
            assert shamir.evaluate_points(d.vector, j) == G.base_mul(d.share_for(j))
            vss.check_share(d.vector, j, d.share_for(j), "test")
    publics = public_shares(G, [d.vector for d in dealings], parties)
    for j in parties:
        assert publics[j] == G.base_mul(sum((d.share_for(j) for d in dealings), G.scalar(0)))


def test_a_party_at_another_security_level_aborts_the_session_without_blame():
    # The level is part of the session's inputs: parties that disagree on it were
    # started differently, which is nobody's misbehaviour in the protocol.
    parties = (1, 2, 3)
    other = SecurityLevel(name="other", repetitions=80)
    machines = keygen_machines(3, 1)
    machines[2] = Keygen(2, parties, 1, KEY_ID, SESSION, SeededRng(b"keygen/0/2"), other)
    net = simulator.run(machines)
    for ch in net.channels.values():
        assert ch.result is None
        assert ch.blame is not None and ch.blame.culprits == () and "other inputs" in ch.blame.check


# -- one malicious party per check ----------------------------------------------------

def test_an_opening_that_does_not_match_the_commitment_is_blamed():
    corrupt = rewrite(KeygenDecommitment, lambda d: dataclasses.replace(d, u=bytes(32)), G)
    net = simulator.run(keygen_machines(4, 2), corrupt={3: corrupt})
    simulator.assert_all_blame(net, 3, "does not match the round-1 commitment")


def test_a_wrong_schnorr_proof_is_blamed():
    def bad(p: KeygenProof):
        return dataclasses.replace(p, proof=dataclasses.replace(p.proof, z=p.proof.z + 1))
    net = simulator.run(keygen_machines(4, 2), corrupt={2: rewrite(KeygenProof, bad, G)})
    simulator.assert_all_blame(net, 2, "Π^sch")


def test_a_schnorr_proof_with_another_nonce_is_blamed():
    def bad(p: KeygenProof):
        return dataclasses.replace(p, proof=p.certificate_proof)
    net = simulator.run(keygen_machines(3, 1), corrupt={1: rewrite(KeygenProof, bad, G)})
    simulator.assert_all_blame(net, 1, "committed nonce")


def test_a_wrong_certificate_proof_is_blamed():
    def bad(p: KeygenProof):
        cp = p.certificate_proof
        return dataclasses.replace(p, certificate_proof=dataclasses.replace(cp, z=cp.z + 1))
    net = simulator.run(keygen_machines(4, 2), corrupt={4: rewrite(KeygenProof, bad, G)})
    simulator.assert_all_blame(net, 4, "certificate")


def test_a_wrong_direct_share_to_one_party_is_blamed_by_every_honest_party():
    corrupt = rewrite(KeygenShare, lambda s: KeygenShare(s.share + 1), G, recipient=3)
    net = simulator.run(keygen_machines(5, 2), corrupt={1: corrupt})
    simulator.assert_all_blame(net, 1, "does not match the sender's Feldman vector")


def test_a_malformed_message_is_blamed():
    def garble(o: Outgoing):
        return [Outgoing(o.round, o.recipient, o.body[:-1])] if o.round == 2 else [o]
    net = simulator.run(keygen_machines(4, 1), corrupt={2: garble})
    simulator.assert_all_blame(net, 2)


def test_a_malformed_direct_message_is_blamed_by_every_honest_party():
    def garble(o: Outgoing):
        if o.recipient == 2:
            return [Outgoing(o.round, o.recipient, wire.encode(KeygenCommitment(bytes(32))))]
        return [o]
    net = simulator.run(keygen_machines(3, 1), corrupt={3: garble})
    simulator.assert_all_blame(net, 3)


def test_different_broadcasts_to_different_parties_are_blamed():
    def equivocate(sender, recipient, body):
        msg = _decode_frame(body)
        if sender == 2 and recipient == 4 and isinstance(msg, Frame) and msg.recipient == 0 and msg.round == 1:
            return [simulator.resign(2, body, wire.encode(KeygenCommitment(bytes(32))))]
        return [body]
    machines = keygen_machines(4, 2)
    net = simulator.run(machines, network=equivocate)
    simulator.assert_all_blame(net, 2, "different broadcasts")


def _recorded(session_id: bytes, party: int) -> dict[tuple[int, int | None], bytes]:
    """Every message ``party``'s protocol logic sent in an honest run of ``session_id``."""
    sent: dict[tuple[int, int | None], bytes] = {}

    def record(o: Outgoing):
        sent[(o.round, o.recipient)] = o.body
        return [o]
    simulator.run(keygen_machines(4, 2, session_id=session_id), corrupt={party: record})
    return sent


def test_messages_replayed_from_another_session_are_blamed():
    old = _recorded(b"an earlier session", 3)

    def replay(o: Outgoing):
        return [Outgoing(o.round, o.recipient, old[(o.round, o.recipient)])]
    net = simulator.run(keygen_machines(4, 2), corrupt={3: replay})
    simulator.assert_all_blame(net, 3, "commitment")


def test_a_proof_replayed_from_another_session_is_blamed():
    # Same seeds, so the same dealing and nonces: only the session id differs.
    old = _recorded(b"an earlier session", 2)

    def replay_proof(o: Outgoing):
        return [Outgoing(o.round, None, old[(o.round, None)])] if o.round == 3 and o.recipient is None else [o]
    net = simulator.run(keygen_machines(4, 2), corrupt={2: replay_proof})
    simulator.assert_all_blame(net, 2, "Π^sch")


class _BadDealer(Keygen):
    """Commits to (and opens) a dealing that ``tamper`` altered: the commitment matches."""

    tamper = staticmethod(lambda opening, group: opening)

    def _begin(self) -> Transition:
        super()._begin()
        opening = self.tamper(self.openings[self.party], self.group)
        self.openings[self.party] = opening
        v = vss.commitment_digest(self.transcript, self.party, wire.encode(opening, self.group))
        self.commitments[self.party] = v
        return Transition([Send(KeygenCommitment(v))], next=KeygenRound1(self))


@pytest.mark.parametrize(("tamper", "check"), [
    (lambda d, g: dataclasses.replace(d, vector=d.vector[:-1]), "threshold + 1"),
    (lambda d, g: dataclasses.replace(d, vector=(*d.vector, g.generator)), "threshold + 1"),
    (lambda d, g: dataclasses.replace(d, vector=(g.identity, *d.vector[1:])), "constant term is the identity"),
    (lambda d, g: dataclasses.replace(d, vector=(d.vector[0], g.identity, *d.vector[2:])), "identity coefficient"),
])
def test_a_bad_feldman_vector_is_blamed(tamper, check):
    cls = type("Bad", (_BadDealer,), {"tamper": staticmethod(tamper)})
    net = simulator.run(keygen_machines(4, 2, classes={2: cls}))
    simulator.assert_all_blame(net, 2, check)


def test_honest_runs_never_blame_in_any_order():
    for seed in range(3):
        simulator.assert_success(simulator.run(keygen_machines(3, 2, seed=seed), seed=seed))
