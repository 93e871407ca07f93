"""House rule 9 for FROST: a tampered message blames exactly its sender, never an honest party.

One party's protocol logic emits one message with a byte flipped (before its
channel signs it, so the lie is attributable). Whatever the byte, the message
and the delivery order: no honest party blames an honest party, and each honest
party either finishes or blames the tamperer. Every byte of a FROST message is
checked (the codec is canonical and every field is verified), so in fact a
changed message always ends the session with the tamperer blamed by everyone.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.frost.refresh import FrostRefresh
from protocol.machine import Outgoing
from protocol.rng import SeededRng
from tests.protocol import simulator
from tests.protocol.frost import helpers

SUITES = st.sampled_from(helpers.SUITES)


def flip_one(which: int, position: int, flip: int):
    """A corrupt hook flipping one byte of the party's ``which``-th outgoing message; and its record."""
    state = {"count": 0, "tampered": False}

    def hook(o: Outgoing) -> list[Outgoing]:
        index = state["count"]
        state["count"] += 1
        if index != which:
            return [o]
        body = bytearray(o.body)
        body[position % len(body)] ^= flip
        state["tampered"] = True
        return [Outgoing(o.round, o.recipient, bytes(body))]
    return hook, state


def check(net, bad: int, tampered: bool, public) -> None:
    """The property; ``public`` maps a result to what every honest party must agree on."""
    outcomes = simulator.honest(net, {bad})
    for p, ch in outcomes.items():
        if ch.blame is not None:
            assert ch.blame.culprits == (bad,), (p, ch.blame)
        else:
            assert ch.result is not None, f"party {p} neither finished nor blamed"
    if tampered:
        for p, ch in outcomes.items():
            assert ch.result is None and ch.blame is not None, f"party {p} accepted a tampered session"
    else:
        assert len({public(ch.result) for ch in outcomes.values()}) == 1


@settings(max_examples=40)
@given(suite=SUITES, bad=st.integers(1, 4), which=st.integers(0, 5), position=st.integers(0, 400),
       flip=st.integers(1, 255), seed=st.integers(0, 1000))
def test_keygen_a_flipped_byte_never_blames_an_honest_party(suite, bad, which, position, flip, seed):
    # 4 parties, threshold 2: a party sends 1 broadcast and 3 direct shares, then 1 broadcast.
    hook, state = flip_one(which, position, flip)
    machines = helpers.keygen_machines(suite, 4, 2, seed="property", session=b"kg %d" % seed)
    net = simulator.run(machines, seed=seed, corrupt={bad: hook})
    check(net, bad, state["tampered"], lambda out: (out.share.public_key, out.certificate))


@settings(max_examples=60)
@given(suite=SUITES, bad=st.sampled_from([1, 2, 4]), which=st.integers(0, 2),
       position=st.integers(0, 200), flip=st.integers(1, 255), seed=st.integers(0, 1000),
       taproot=st.booleans())
def test_sign_a_flipped_byte_never_blames_an_honest_party(suite, bad, which, position, flip, seed, taproot):
    # Signers 1, 2, 4 of a 4-of-2 key: a signer sends its commitments, then its share.
    hook, state = flip_one(which, position, flip)
    key = helpers.shares(suite, 4, 2)
    options = {"taproot": True} if taproot and suite == "bip340" else {}
    machines = helpers.sign_machines(key, [1, 2, 4], b"property", session=b"sign %d" % seed, **options)
    net = simulator.run(machines, seed=seed, corrupt={bad: hook})
    check(net, bad, state["tampered"], lambda sig: sig)


@settings(max_examples=30)
@given(suite=SUITES, bad=st.integers(1, 4), which=st.integers(0, 4), position=st.integers(0, 200),
       flip=st.integers(1, 255), seed=st.integers(0, 1000))
def test_refresh_a_flipped_byte_never_blames_an_honest_party(suite, bad, which, position, flip, seed):
    hook, state = flip_one(which, position, flip)
    key = helpers.shares(suite, 4, 2)
    session = b"refresh %d" % seed
    machines = {p: FrostRefresh(s, session, SeededRng(b"refresh:%d:%d" % (seed, p))) for p, s in key.items()}
    net = simulator.run(machines, seed=seed, corrupt={bad: hook})
    check(net, bad, state["tampered"], lambda share: (share.epoch, share.public_shares))
