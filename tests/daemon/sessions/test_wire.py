"""The session messages and records on the wire, the proposal signature, the early-frame buffer."""

from __future__ import annotations

import pytest

from daemon.identity import NodeIdentity
from daemon.records import SCHEMA, BlameRecord, KeyRecord, SessionRecord, presign_key, valid_key_id
from daemon.sessions import messages as m
from daemon.sessions.early import EarlyFrames
from protocol import wire
from protocol.errors import EncodingError, UsageError

ALICE = NodeIdentity.from_seed(b"\x01" * 32)
BOB = NodeIdentity.from_seed(b"\x02" * 32)


def _proposal(**changes) -> m.Proposal:
    fields = dict(session_id="ab" * 16, protocol=m.CMP_SIGN, coordinator=ALICE.peer_id, key_id="k1",
                  participants=(ALICE.peer_id, BOB.peer_id), threshold=1, suite="", paillier_bits=2048,
                  epoch=0, deadline_ms=1, presign_id=b"\x05" * 32, message=b"m", hash="sha256")
    fields.update(changes)
    return m.Proposal(**fields)


def test_messages_round_trip_and_refuse_malformed_bytes():
    for message in (m.sign_proposal(ALICE.signer(), _proposal()), m.Refusal("s", "code", "why"),
                    m.SessionFrame("s", 1, b"body"), m.Outcome("s", False, b"", "t", "msg",
                                                               BlameRecord(("p",), 2, "c"))):
        data = wire.encode(message)
        assert wire.decode_one_of(data, m.MESSAGES) == message
        with pytest.raises(EncodingError):
            wire.decode_one_of(data[:-1], m.MESSAGES)
    with pytest.raises(UsageError):
        wire.encode(m.SessionFrame("s", 1, b"x" * (m.MAX_FRAME + 1)))
    with pytest.raises(EncodingError):
        wire.decode_one_of(b"\x93\x01\x05\x12" + b"\x00" * 8, m.MESSAGES)


def test_a_proposal_signature_binds_the_whole_proposal_and_its_signer():
    signed = m.sign_proposal(ALICE.signer(), _proposal())
    assert m.proposal_signed_by(ALICE.public_key, signed)
    assert not m.proposal_signed_by(BOB.public_key, signed)
    for change in ({"session_id": "cd" * 16}, {"message": b"other"}, {"participants": (BOB.peer_id,
                                                                                        ALICE.peer_id)}):
        assert not m.proposal_signed_by(ALICE.public_key, m.SignedProposal(_proposal(**change),
                                                                           signed.signature))


def test_records_round_trip_and_check_their_fields():
    record = KeyRecord(SCHEMA, "k1", "ecdsa", "secp256k1", 1, ("a", "b", "c"), 2, b"\x02" * 33,
                       b"\x00" * 32, 0, 5, b"cert", "s")
    assert wire.decode(wire.encode(record), KeyRecord) == record
    assert record.party_of("c") == 3 and record.party_of("z") is None
    with pytest.raises(ValueError):
        KeyRecord(SCHEMA, "k/1", "ecdsa", "secp256k1", 1, ("a", "b"), 1, b"\x02" * 33, b"\0" * 32, 0, 5,
                  b"", "s")
    with pytest.raises(ValueError):
        KeyRecord(SCHEMA, "k1", "ecdsa", "secp256k1", 1, ("a", "a"), 1, b"\x02" * 33, b"\0" * 32, 0, 5,
                  b"", "s")
    session = SessionRecord("s", "sign", "failed", 1, ("a",), "a", error_type="t", error_message="m",
                            blame=BlameRecord(("a",), 1, "check"))
    assert wire.decode(wire.encode(session), SessionRecord) == session
    assert presign_key("k1", 0, (1, 2), b"\xab") == "presig/k1/0/1-2/ab"
    assert [valid_key_id(k) for k in ("k1", "a.b-c_d", "", ".x", "a/b", "x" * 65, 5)] == \
        [True, True, False, False, False, False, False]


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_early_frames_are_bounded_per_peer_and_expire():
    clock = Clock()
    early = EarlyFrames(ttl=10, max_frames=3, max_bytes=100, clock=clock)
    assert early.keep("s1", "p", 0, b"x" * 40)
    assert early.keep("s2", "p", 0, b"x" * 40)
    assert not early.keep("s1", "p", 0, b"x" * 40)    # over p's bytes
    assert early.keep("s1", "q", 0, b"y")              # q has its own allowance
    assert early.keep("s1", "p", 1, b"z")
    assert not early.keep("s1", "p", 1, b"z")          # over p's count
    assert early.take("s1") == [("p", 0, b"x" * 40), ("q", 0, b"y"), ("p", 1, b"z")]
    assert early.take("s1") == []
    clock.now = 11
    early.expire()
    assert len(early) == 0
    assert early.keep("s3", "p", 0, b"x" * 90)         # expired frames gave p its room back


def test_early_frames_are_bounded_across_all_peers_too():
    early = EarlyFrames(ttl=10, max_frames=10, max_bytes=100, max_total_bytes=150, clock=Clock())
    assert early.keep("s1", "p", 0, b"x" * 80)
    assert early.keep("s2", "q", 0, b"y" * 60)
    assert not early.keep("s3", "r", 0, b"z" * 20)     # r is within its own bounds, not the total
    early.take("s1")
    assert early.keep("s3", "r", 0, b"z" * 20)


def _parts(messages: list[bytes]) -> list[bytes]:
    found = []
    for data in messages:
        message = wire.decode_one_of(data, (m.Batch, m.SessionFrame))
        found += list(message.parts) if isinstance(message, m.Batch) else [data]
    return found


def test_batches_keep_order_and_bounds():
    small = [wire.encode(m.SessionFrame("s", 0, bytes([i]))) for i in range(3)]
    assert m.batches(small[:1]) == small[:1]            # one part goes as itself
    (one,) = m.batches(small)
    assert wire.decode(one, m.Batch).parts == tuple(small)
    many = [wire.encode(m.SessionFrame("s", 0, bytes([i]))) for i in range(m.MAX_BATCH_PARTS + 3)]
    split = m.batches(many)
    assert len(wire.decode(split[0], m.Batch).parts) == m.MAX_BATCH_PARTS and _parts(split) == many
    big = [wire.encode(m.SessionFrame("s", 0, bytes([i]) * (m.MAX_BATCH_BYTES // 2))) for i in range(3)]
    split = m.batches(big)
    assert len(split) == 3 and _parts(split) == big   # two halves and a frame header exceed the bound


def test_a_batch_refuses_one_part_too_many_parts_and_oversized_parts():
    part = wire.encode(m.SessionFrame("s", 0, b"x"))
    for parts in ((part,), (part,) * (m.MAX_BATCH_PARTS + 1)):
        with pytest.raises(UsageError):
            wire.encode(m.Batch(parts))
    with pytest.raises(UsageError):
        wire.encode(m.Batch((part, b"z" * (m.MAX_BATCH_BYTES + 1))))
    # A batch is no session message: it cannot be nested inside another.
    nested = wire.encode(m.Batch((part, part)))
    with pytest.raises(EncodingError):
        wire.decode_one_of(nested, m.MESSAGES)
