"""Reliable broadcast, signed frames and public accusations (protocol/channel)."""

import pytest

from protocol import wire
from protocol.channel import Channel
from protocol.errors import UsageError
from protocol.frames import Accusation, Done, Echo, EchoEntry, Frame, digest
from protocol.machine import Incoming, Outgoing
from tests.protocol import simulator
from tests.protocol.tamper import rewrite
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
    def equivocate(sender, recipient, body):
        frame = wire.decode_one_of(body, (Frame, Echo, Accusation))
        if sender == 3 and recipient == 1 and isinstance(frame, Frame) and frame.recipient == 0:
            return [simulator.resign(3, body, wire.encode(Number(frame.round + 1234)))]
        return [body]
    net = simulator.run(toy_machines(4), network=equivocate)
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


def test_an_accusation_after_this_party_said_done_is_recorded_but_changes_nothing():
    held = []

    def hold_done_from_2(sender, recipient, body):
        if sender == 2 and _is_frame_of_round(body, 3):
            held.append((recipient, body))
            return []
        return [body]
    net = simulator.run(toy_machines(3), network=hold_done_from_2)
    ch = net.channels[1]
    assert ch.result is None and ch.blame is None  # said Done, waiting for party 2's
    frames = tuple(body for s, r, body in net.log if s == 2 and r == 1 and _is_frame_of_round(body, 1))
    ch.receive(Incoming(3, 1, wire.encode(Accusation(1, 2, frames))))   # false: 2 was honest
    ch.receive(Incoming(3, 1, b"garbage after Done"))
    assert ch.blame is None and [b.culprits for b in ch.after_done] == [(3,), (3,)]
    net.pump([(2, r, b) for r, b in held])
    assert {p: c.result for p, c in net.channels.items()} == {1: 600, 2: 600, 3: 600}


def test_no_result_is_released_until_every_party_said_done():
    def hold_done_from_2(sender, recipient, body):
        return [] if sender == 2 and _is_frame_of_round(body, 3) else [body]
    net = simulator.run(toy_machines(3), network=hold_done_from_2)
    for ch in net.channels.values():
        assert ch.machine.result == 600 and ch.blame is None
        assert ch.result is None   # 1 and 3 never heard 2's Done, so nobody has every echo of it


def test_the_same_body_signed_twice_is_one_message_not_an_equivocation():
    def sign_again(sender, recipient, body):
        msg = wire.decode_one_of(body, (Frame, Echo, Accusation))
        if sender == 4 and recipient == 2 and isinstance(msg, Frame) and msg.round == 1:
            again = simulator.resign(4, body, msg.body)
            again = wire.encode(Frame(msg.round, msg.recipient, msg.context, msg.body,
                                      _other_signature(again, msg)))
            return [body, again]
        return [body]
    machines = toy_machines(4)
    net = simulator.run(machines, network=sign_again)
    simulator.assert_success(net)


def _other_signature(frame_bytes: bytes, original: Frame) -> bytes:
    """A second valid signature by the same key over the same frame (Ed25519 with another nonce)."""
    import hashlib

    from nacl.bindings import (
        crypto_core_ed25519_scalar_add,
        crypto_core_ed25519_scalar_mul,
        crypto_core_ed25519_scalar_reduce,
        crypto_scalarmult_ed25519_base_noclamp,
    )

    from protocol.frames import _signed_part, digest, session_prefix
    seed = hashlib.sha256(b"identity:%d:" % 4).digest()
    h = hashlib.sha512(seed).digest()
    a = bytearray(h[:32])
    a[0] &= 248
    a[31] &= 127
    a[31] |= 64
    a = crypto_core_ed25519_scalar_reduce(bytes(a) + bytes(32))
    pub = crypto_scalarmult_ed25519_base_noclamp(a)
    msg = session_prefix(simulator.SESSION) + _signed_part(4, original.round, original.recipient,
                                                           original.context, digest(original.body))
    r = crypto_core_ed25519_scalar_reduce(hashlib.sha512(b"another nonce" + msg).digest())
    R = crypto_scalarmult_ed25519_base_noclamp(r)
    k = crypto_core_ed25519_scalar_reduce(hashlib.sha512(R + pub + msg).digest())
    S = crypto_core_ed25519_scalar_add(r, crypto_core_ed25519_scalar_mul(k, a))
    assert original.signature != R + S
    return R + S


def test_a_message_received_before_start_is_kept_until_start():
    machines = toy_machines(2)
    keys = simulator.signers([1, 2])
    ids = {p: keys[p].public_key for p in (1, 2)}
    a = Channel(machines[1], "s", keys[1], ids)
    b = Channel(machines[2], "s", keys[2], ids)
    early = b.start()
    for o in early:
        assert a.receive(Incoming(2, o.round, o.body)) == []
    pending = a.start()
    queue = [(1, o) for o in pending]
    while queue:
        sender, o = queue.pop(0)
        target, src = (b, 1) if sender == 1 else (a, 2)
        queue += [(3 - sender, x) for x in target.receive(Incoming(src, o.round, o.body))]
    assert a.result == b.result == 300


def test_an_oversized_frame_is_refused_with_blame_not_a_crash():
    import msgpack

    from protocol.frames import _MAX_FRAME_BODY

    def inflate(sender, recipient, body):
        msg = wire.decode_one_of(body, (Frame, Echo, Accusation))
        if sender == 2 and recipient == 1 and isinstance(msg, Frame):
            # Built by hand: our own encoder refuses to make it.
            return [msgpack.packb([1, 0x0601, 0, msg.round, msg.recipient, msg.context,
                                   b"\x00" * (_MAX_FRAME_BODY + 1), msg.signature], use_bin_type=True)]
        return [body]
    net = simulator.run(toy_machines(3), network=inflate)
    assert net.channels[1].blame is not None and net.channels[1].blame.culprits == (2,)


def test_one_party_gets_one_pending_accusation_however_often_it_repeats_it():
    def hold_round1_of_1_to_3(sender, recipient, body):
        return [] if sender == 1 and recipient == 3 and _is_frame_of_round(body, 1) else [body]
    net = simulator.run(toy_machines(3), network=hold_round1_of_1_to_3)
    ch = net.channels[3]
    assert ch.machine.round_number == 1   # still waiting for party 1's round 1
    round1 = next(body for s, r, body in net.log if s == 1 and r == 2 and _is_frame_of_round(body, 1))
    for n in range(50):   # party 1's (validly signed) round-2 frames, which 3 cannot audit yet
        frame = net.resign(1, round1, wire.encode(Number(n)), round_=2, recipient=0)
        ch.receive(Incoming(2, 2, wire.encode(Accusation(2, 1, (frame,)))))
    assert len(ch._pending) == 1 and ch.blame is None


def _holding_done_from(party: int):
    held = []

    def hook(sender, recipient, body):
        if sender == party and _is_frame_of_round(body, 3):
            held.append((recipient, body))
            return []
        return [body]
    return held, hook


@pytest.mark.parametrize("attack", ["bad-echo", "second-done", "direct-final", "bad-signature",
                                    "other-context", "garbage"])
def test_after_done_one_cheater_cannot_make_a_party_abort_while_others_release(attack):
    held, hook = _holding_done_from(2)
    machines = toy_machines(3)
    net = simulator.run(machines, network=hook)
    ch1 = net.channels[1]
    assert ch1.result is None and ch1.blame is None
    done3 = next(b for s, r, b in net.log if s == 3 and r == 1 and _is_frame_of_round(b, 3))
    frame = wire.decode(done3, Frame)
    if attack == "bad-echo":
        sent = wire.encode(Echo(3, (EchoEntry(1, bytes(32), bytes(64)),)))
    elif attack == "second-done":
        sent = net.resign(3, done3, wire.encode(Done(1)))
    elif attack == "direct-final":
        sent = net.resign(3, done3, frame.body, recipient=1)
    elif attack == "bad-signature":
        sent = wire.encode(Frame(3, 0, frame.context, frame.body, bytes(64)))
    elif attack == "other-context":
        sent = wire.encode(Frame(3, 0, bytes(32), frame.body, frame.signature))
    else:
        sent = b"garbage"
    ch1.receive(Incoming(3, 3, sent))
    assert ch1.blame is None, ch1.blame
    net.pump([(2, r, b) for r, b in held])
    assert {p: c.result for p, c in net.channels.items()} == {1: 600, 2: 600, 3: 600}


def test_a_final_broadcast_that_is_not_done_is_blamed_by_everyone():
    swapped = {}

    def bad_done(sender, recipient, body):
        if sender != 2:
            return [body]
        msg = wire.decode_one_of(body, (Frame, Echo, Accusation))
        if isinstance(msg, Frame) and msg.round == 3:   # the same Done(0) to everyone
            swapped.setdefault("frame", simulator.resign(2, body, wire.encode(Done(0))))
            return [swapped["frame"]]
        if isinstance(msg, Echo) and msg.round == 3:    # and its own echo agrees with it
            bad = wire.decode(swapped["frame"], Frame)
            entries = tuple(EchoEntry(2, digest(bad.body), bad.signature) if e.sender == 2 else e
                            for e in msg.entries)
            return [wire.encode(Echo(3, entries))]
        return [body]
    machines = toy_machines(3)
    net = simulator.run(machines, network=bad_done)
    simulator.assert_all_blame(net, 2, "not Done")
    assert all(c.result is None for c in net.channels.values())


def test_an_accusation_showing_frames_made_for_other_inputs_blames_no_one():
    machines = toy_machines(3)
    machines[2].context = b"another message"
    forwarded = {"done": False}

    def accuse_with_2s_frame(sender, recipient, body):
        if sender == 2 and recipient == 1:
            return []                      # party 1 learns of party 2 only through party 3
        if sender == 2 and recipient == 3 and _is_frame_of_round(body, 1) and not forwarded["done"]:
            forwarded["done"] = True
            extra.append((3, 1, wire.encode(Accusation(1, 2, (body,)))))
        return [body]
    extra: list = []
    net = simulator.run(machines, network=accuse_with_2s_frame)
    net.pump(extra)
    blame = net.channels[1].blame
    assert blame is not None and blame.culprits == () and "other inputs" in blame.check


def test_one_sender_cannot_crowd_out_others_before_start():
    machines = toy_machines(3)
    keys = simulator.signers([1, 2, 3])
    ids = {p: keys[p].public_key for p in (1, 2, 3)}
    a = Channel(machines[1], "s", keys[1], ids)
    b = Channel(machines[2], "s", keys[2], ids)
    c = Channel(machines[3], "s", keys[3], ids)
    flood = c.start()[0].body
    for _ in range(500):
        a.receive(Incoming(3, 1, flood))
    for o in b.start():
        a.receive(Incoming(2, o.round, o.body))
    assert len(a._early[3]) <= a._early_count and len(a._early[2]) >= 1


def test_frames_of_earlier_rounds_are_not_kept_after_done():
    held, hook = _holding_done_from(2)
    net = simulator.run(toy_machines(3), network=hook)
    ch1 = net.channels[1]
    before = len(ch1._frames)
    stale = next(b for s, r, b in net.log if s == 3 and r == 1 and _is_frame_of_round(b, 1))
    for n in range(20):
        ch1.receive(Incoming(3, 1, net.resign(3, stale, b"x" * n)))
    assert len(ch1._frames) == before and ch1.blame is None


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
    for p in (2, 3):  # a bad signature is not transferable: the others just never hear 1's Done
        assert net.channels[p].result is None
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
            other = simulator.resign(4, body, wire.encode(Piece(frame.round + 99)))
            return [body, other]
        return [body]
    machines = toy_machines(4)
    net = simulator.run(machines, network=equivocate_to_2)
    simulator.assert_all_blame(net, 4, "two different frames")


def test_a_fault_found_outside_verify_is_never_made_an_accusation():
    from protocol.errors import InvalidProof
    from tests.protocol.toy import ToyMachine, _Round1

    class PickyRound(_Round1):
        def store(self, sender, broadcast, direct):
            if sender == 2:   # a check only party 1 can run: others could not audit it
                raise InvalidProof("toy", "party 1's private check")
            super().store(sender, broadcast, direct)

    class Picky(ToyMachine):
        def _begin(self):
            transition = super()._begin()
            transition.next = PickyRound(self)
            return transition

    machines = toy_machines(3)
    machines[1] = Picky(1, [1, 2, 3], 100)
    net = simulator.run(machines)
    assert net.channels[1].blame.culprits == (2,) and not net.channels[1].blame.auditable
    assert not any(isinstance(wire.decode_one_of(b, (Frame, Echo, Accusation)), Accusation)
                   for s, r, b in net.log)
    for p in (2, 3):   # they never hear party 1's Done: no result, and no one blamed
        assert net.channels[p].result is None and net.channels[p].blame is None


# -- two parties: no echo ----------------------------------------------------------


def _kinds(net) -> list[type]:
    return [type(wire.decode_one_of(body, (Frame, Echo, Accusation))) for _, _, body in net.log]


@pytest.mark.parametrize("seed", range(3))
def test_two_parties_finish_without_echoes(seed):
    net = simulator.run(toy_machines(2), seed=seed)
    assert set(simulator.assert_success(net).values()) == {300}
    # Only the machine's frames and the two Done frames cross the wire.
    assert set(_kinds(net)) == {Frame}


def test_three_parties_still_echo():
    net = simulator.run(toy_machines(3))
    simulator.assert_success(net)
    assert Echo in _kinds(net)


def test_an_echo_in_a_two_party_session_convicts_its_sender():
    def add_echo(sender, recipient, body):
        if sender != 2:
            return [body]
        echo = Echo(1, (EchoEntry(1, digest(b""), bytes(64)), EchoEntry(2, digest(b""), bytes(64))))
        return [wire.encode(echo), body]
    net = simulator.run(toy_machines(2), network=add_echo)
    simulator.assert_all_blame(net, 2, "echo in a session of two parties")


def test_two_party_equivocation_is_still_impossible_to_hide():
    # With one recipient there is no second version to compare; a frame whose body was
    # changed in transit fails its signature and is blamed on the sender.
    def garble(sender, recipient, body):
        frame = wire.decode_one_of(body, (Frame, Echo, Accusation))
        if sender == 2 and isinstance(frame, Frame) and frame.round == 1:
            changed = Frame(**{**{f: getattr(frame, f) for f in frame.__dataclass_fields__},
                               "body": wire.encode(Number(1))})
            return [wire.encode(changed)]
        return [body]
    net = simulator.run(toy_machines(2), network=garble)
    assert net.channels[1].blame is not None
    assert net.channels[1].blame.culprits == (2,)
    assert "bad frame signature" in net.channels[1].blame.check


def test_a_tamper_hook_that_never_fires_fails_the_run():
    # A test whose tampering matched nothing would pass without checking anything.
    never = rewrite(Piece, lambda p: Piece(p.value + 1), None, recipient=99)
    with pytest.raises(AssertionError, match="never changed a message"):
        simulator.run(toy_machines(3), corrupt={2: never})
    fires = rewrite(Piece, lambda p: Piece(p.value + 1), None)
    simulator.run(toy_machines(3), corrupt={2: fires})
    assert fires.fired > 0
