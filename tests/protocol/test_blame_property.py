"""House rule 9: a tampered message blames exactly its sender, never an honest party."""

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.machine import Outgoing
from tests.protocol import simulator
from tests.protocol.toy import toy_machines


@settings(max_examples=60)
@given(bad=st.integers(1, 4), which=st.integers(0, 50), position=st.integers(0, 64),
       flip=st.integers(1, 255), seed=st.integers(0, 1000))
def test_a_flipped_byte_never_blames_an_honest_party(bad, which, position, flip, seed):
    counter = {"n": 0}

    def tamper(o: Outgoing):
        counter["n"] += 1
        if counter["n"] - 1 != which % 5:   # a toy party emits 5 messages at n = 4
            return [o]
        body = bytearray(o.body)
        body[position % len(body)] ^= flip
        return [Outgoing(o.round, o.recipient, bytes(body))]

    net = simulator.run(toy_machines(4), seed=seed, corrupt={bad: tamper})
    for p, ch in simulator.honest(net, {bad}).items():
        if ch.blame is not None:
            assert ch.blame.culprits == (bad,), (p, ch.blame)
        else:
            assert ch.result is not None, f"party {p} neither finished nor blamed"
