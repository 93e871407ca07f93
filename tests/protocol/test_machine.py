"""The round machine on its own: decoding, buffering, de-duplication and blame."""

import pytest

from protocol import wire
from protocol.errors import UsageError
from protocol.machine import Incoming
from tests.protocol.toy import Number, Piece, ToyMachine


def _pair():
    a, b = ToyMachine(1, [1, 2], 7), ToyMachine(2, [1, 2], 9)
    return a, b, a.start(), b.start()


def _deliver(machine, sender, out):
    got = []
    for o in out:
        if o.recipient in (None, machine.party):
            got += machine.receive(Incoming(sender, o.round, o.body, broadcast=o.recipient is None))
    return got


def test_two_parties_agree_on_the_result():
    a, b, out_a, out_b = _pair()
    more_b = _deliver(b, 1, out_a)
    more_a = _deliver(a, 2, out_b)
    _deliver(a, 2, more_b)
    _deliver(b, 1, more_a)
    assert a.result == b.result == 16 and a.blame is None


def test_messages_of_a_later_round_wait_in_the_buffer():
    a, b, out_a, out_b = _pair()
    more_b = _deliver(b, 1, out_a)          # b finishes round 1, sends round 2
    assert _deliver(a, 2, more_b) == []     # a is still in round 1: buffered
    assert a.round_number == 1
    _deliver(a, 2, out_b)
    assert a.result == 16


def test_an_identical_duplicate_is_ignored_and_a_different_one_is_blamed():
    a, _, _, out_b = _pair()
    bcast = next(o for o in out_b if o.recipient is None)
    a.receive(Incoming(2, 1, bcast.body, broadcast=True))
    assert a.receive(Incoming(2, 1, bcast.body, broadcast=True)) == [] and a.blame is None
    a.receive(Incoming(2, 1, wire.encode(Number(10)), broadcast=True))
    assert a.blame.culprits == (2,) and "two different" in a.blame.check
    assert a.blame.evidence == (bcast.body, wire.encode(Number(10)))


@pytest.mark.parametrize("incoming, check", [
    (Incoming(2, 1, b"\x93\x01", broadcast=True), "msgpack"),
    (Incoming(2, 1, wire.encode(Piece(3)), broadcast=True), "expected Number"),
    (Incoming(2, 3, wire.encode(Number(3)), broadcast=True), "no round 3"),
    (Incoming(2, 0, wire.encode(Number(3)), broadcast=True), "no round 0"),
])
def test_malformed_or_misnumbered_messages_blame_their_sender(incoming, check):
    a, _, _, out_b = _pair()
    direct = next(o for o in out_b if o.recipient == 1)
    a.receive(Incoming(2, 1, direct.body))
    a.receive(incoming)
    assert a.blame is not None and a.blame.culprits == (2,), a.blame
    assert check in a.blame.check


def test_a_broadcast_that_did_not_come_through_the_broadcast_layer_is_refused():
    a, _, _, out_b = _pair()
    for o in out_b:
        a.receive(Incoming(2, o.round, o.body, broadcast=False))
    assert a.blame.culprits == (2,)


def test_a_failed_check_blames_the_sender_and_the_machine_stays_aborted():
    a, _, _, _ = _pair()
    a.receive(Incoming(2, 1, wire.encode(Number(9)), broadcast=True))
    a.receive(Incoming(2, 1, wire.encode(Piece(9 + 2))))  # should be 9 + 1
    assert a.blame.culprits == (2,) and "piece" in a.blame.check
    assert a.receive(Incoming(2, 2, wire.encode(Number(9)), broadcast=True)) == []
    assert a.result is None


def test_misuse_is_a_usage_error_not_blame():
    a = ToyMachine(1, [1, 2], 7)
    with pytest.raises(UsageError):
        a.receive(Incoming(2, 1, b""))
    a.start()
    with pytest.raises(UsageError):
        a.start()
    with pytest.raises(UsageError):
        a.receive(Incoming(5, 1, b""))
    with pytest.raises(UsageError):
        ToyMachine(3, [1, 2], 1)


def test_abandon_ends_the_session_without_blame_and_drops_round_state():
    a, _, _, _ = _pair()
    a.abandon("timed out")
    assert a.blame.culprits == () and a.blame.check == "timed out"
    assert a.kinds_of(1) is None and a.receive(Incoming(2, 1, wire.encode(Number(9)), broadcast=True)) == []
