"""Reliable broadcast, signed frames and public accusations (protocol/channel)."""

import pytest

from protocol import wire
from protocol.channel import Channel
from protocol.errors import UsageError
from protocol.frames import Accusation, Echo, EchoEntry, Frame
from protocol.machine import Incoming, Outgoing
from tests.protocol import simulator
from tests.protocol.toy import Number, Piece, toy_machines


@pytest.mark.parametrize("seed", range(5))
def test_honest_parties_agree_in_any_delivery_order(seed):
    net = simulator.run(toy_machines(4), seed=seed)
    assert set(simulator.assert_success(net).values()) == {1000}


def test_duplicated_deliveries_change_nothing():
    net = simulator.run(toy_machines(3), network=lambda s, r, body: [body, body])
    simulator.assert_success(net)


def test_a_wrong_direct_message_is_blamed_by_every_honest_party():
    def lie_to_party_3(o: Outgoing):
        if o.recipient == 3:
            return [Outgoing(o.round, 3, wire.encode(Piece(1)))]
        return [o]
    net = simulator.run(toy_machines(4), corrupt={2: lie_to_party_3})
    simulator.assert_all_blame(net, 2, "piece")


def test_a_malformed_direct_message_is_blamed_by_every_honest_party():
    def garble(o: Outgoing):
        return [Outgoing(o.round, o.recipient, b"\xc1")] if o.recipient == 4 else [o]
    net = simulator.run(toy_machines(4), corrupt={1: garble})
    simulator.assert_all_blame(net, 1)


def test_different_broadcasts_to_different_parties_are_blamed_on_the_sender():
    net_holder = {}

    def equivocate(sender, recipient, body):
        frame = wire.decode_one_of(body, (Frame, Echo, Accusation))
        if sender == 3 and recipient == 1 and isinstance(frame, Frame) and frame.recipient == 0:
            return [net_holder["net"].resign(3, body, wire.encode(Number(frame.round + 1234)))]
        return [body]
    parties = toy_machines(4)
    # resign needs the network's signers, which run() creates from the same seeds
    net_holder["net"] = simulator.Network({}, simulator.signers(sorted(parties)), simulator.SESSION)
    net = simulator.run(parties, network=equivocate)
    simulator.assert_all_blame(net, 3, "different broadcasts")


def test_a_forged_echo_entry_is_blamed_on_the_echoer():
    def forge(sender, recipient, body):
        msg = wire.decode_one_of(body, (Frame, Echo, Accusation))
        if sender == 2 and isinstance(msg, Echo):
            entries = list(msg.entries)
            entries[0] = EchoEntry(entries[0].sender, b"\x00" * 32, entries[0].signature)
            return [wire.encode(Echo(msg.round, tuple(entries)))]
        return [body]
    net = simulator.run(toy_machines(4), network=forge)
    simulator.assert_all_blame(net, 2, "never made")


def test_a_false_accusation_is_blamed_on_the_accuser():
    seen: dict[int, bytes] = {}

    def accuse_falsely(sender, recipient, body):
        msg = wire.decode_one_of(body, (Frame, Echo, Accusation))
        if sender == 1 and recipient == 3 and isinstance(msg, Frame) and msg.round == 1:
            seen[msg.recipient] = body
        if sender == 3 and recipient == 2 and len(seen) == 2:
            false = wire.encode(Accusation(1, 1, tuple(seen.values())))
            seen.clear()
            return [false, body]
        return [body]
    net = simulator.run(toy_machines(3), network=accuse_falsely)
    blame = net.channels[2].blame
    assert blame is not None and blame.culprits == (3,) and "pass every check" in blame.check


def test_an_accusation_after_the_result_changes_nothing():
    net = simulator.run(toy_machines(3))
    frames = tuple(body for s, r, body in net.log if s == 1 and r == 3 and _is_frame_of_round(body, 1))
    ch = net.channels[2]
    ch.receive(Incoming(3, 1, wire.encode(Accusation(1, 1, frames))))
    assert ch.blame is None and ch.result == 600


def test_no_result_is_released_until_every_party_said_done():
    def hold_done_from_2(sender, recipient, body):
        return [] if sender == 2 and _is_frame_of_round(body, 3) else [body]
    net = simulator.run(toy_machines(3), network=hold_done_from_2)
    for p, ch in net.channels.items():
        assert ch.machine.result == 600
        assert ch.result is None if p != 2 else True
        assert ch.blame is None


def test_parties_started_with_different_inputs_abort_without_blame():
    machines = toy_machines(3)
    machines[2].context = b"another message"
    net = simulator.run(machines)
    for ch in net.channels.values():
        assert ch.result is None
        assert ch.blame is not None and ch.blame.culprits == () and "other inputs" in ch.blame.check


def test_a_signed_frame_for_a_round_that_does_not_exist_convicts_its_sender():
    def stray(sender, recipient, body):
        msg = wire.decode_one_of(body, (Frame, Echo, Accusation))
        if sender == 4 and recipient == 1 and isinstance(msg, Frame) and msg.round == 1 and msg.recipient == 1:
            return [holder["net"].resign(4, body, msg.body, round_=7), body]
        return [body]
    machines = toy_machines(4)
    holder = {"net": simulator.Network({}, simulator.signers(sorted(machines)), simulator.SESSION)}
    net = simulator.run(machines, network=stray)
    simulator.assert_all_blame(net, 4, "does not have")


def test_a_late_message_of_a_kind_the_round_lacks_is_blamed_on_its_sender_by_everyone():
    sent = {"done": False}

    def late_direct(sender, recipient, body):
        msg = wire.decode_one_of(body, (Frame, Echo, Accusation))
        if sender == 4 and recipient == 1 and isinstance(msg, Frame) and msg.round == 2 and not sent["done"]:
            sent["done"] = True   # round 2 is broadcast-only: a direct round-2 frame is impossible
            return [body, holder["net"].resign(4, body, msg.body, recipient=1)]
        return [body]
    machines = toy_machines(4)
    holder = {"net": simulator.Network({}, simulator.signers(sorted(machines)), simulator.SESSION)}
    net = simulator.run(machines, network=late_direct)
    simulator.assert_all_blame(net, 4)


def _is_frame_of_round(body: bytes, number: int) -> bool:
    msg = wire.decode_one_of(body, (Frame, Echo, Accusation))
    return isinstance(msg, Frame) and msg.round == number


def test_a_frame_with_a_bad_signature_is_blamed_on_its_sender():
    def break_signature(sender, recipient, body):
        msg = wire.decode_one_of(body, (Frame, Echo, Accusation))
        if sender == 4 and recipient == 1 and isinstance(msg, Frame):
            return [wire.encode(Frame(msg.round, msg.recipient, msg.context, msg.body, bytes(64)))]
        return [body]
    net = simulator.run(toy_machines(4), network=break_signature)
    assert net.channels[1].blame.culprits == (4,) and "signature" in net.channels[1].blame.check
    for p in (2, 3):
        assert net.channels[p].blame is None or net.channels[p].blame.culprits == (4,)


def test_a_frame_for_another_party_is_refused():
    net = simulator.run(toy_machines(3))
    meant_for_2 = next(b for s, r, b in net.log if s == 1 and r == 2 and _is_direct(b))

    def misroute(sender, recipient, body):
        return [meant_for_2] if sender == 1 and recipient == 3 and _is_direct(body) else [body]
    fresh = simulator.run(toy_machines(3), network=misroute)
    assert fresh.channels[3].blame.culprits == (1,) and "another party" in fresh.channels[3].blame.check


def _is_direct(body: bytes) -> bool:
    msg = wire.decode_one_of(body, (Frame, Echo, Accusation))
    return isinstance(msg, Frame) and msg.recipient != 0


def test_channel_requires_the_matching_identity_key():
    machines = toy_machines(2)
    keys = simulator.signers([1, 2])
    with pytest.raises(UsageError):
        Channel(machines[1], "s", keys[2], {1: keys[1].public_key, 2: keys[2].public_key})


def test_two_different_signed_direct_frames_are_proved_to_everyone():
    def equivocate_to_2(sender, recipient, body):
        if sender == 4 and recipient == 2 and _is_direct(body):
            frame = wire.decode(body, Frame)
            other = holder["net"].resign(4, body, wire.encode(Piece(frame.round + 99)))
            return [body, other]
        return [body]
    machines = toy_machines(4)
    holder = {"net": simulator.Network({}, simulator.signers(sorted(machines)), simulator.SESSION)}
    net = simulator.run(machines, network=equivocate_to_2)
    simulator.assert_all_blame(net, 4, "two different frames")
