"""Our bounded length-prefixed framing: round trips however the bytes are split, refuses bad headers."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.p2p.framing import DEFAULT_MAX_FRAME_BYTES, FrameDecoder, FrameError, encode_frame


def test_frame_is_a_big_endian_length_then_the_payload():
    assert encode_frame(b"abc") == b"\x00\x00\x00\x03abc"


def test_default_limit_leaves_room_above_the_wire_limit():
    from protocol.wire import MAX_MESSAGE_BYTES
    assert DEFAULT_MAX_FRAME_BYTES == 16 * 1024 * 1024 > MAX_MESSAGE_BYTES


@given(payloads=st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=8),
       cuts=st.lists(st.integers(min_value=1, max_value=50), max_size=40))
def test_payloads_come_back_in_order_however_the_stream_is_split(payloads, cuts):
    stream = b"".join(encode_frame(p) for p in payloads)
    decoder = FrameDecoder()
    received, position = [], 0
    for cut in cuts:
        received += decoder.feed(stream[position:position + cut])
        position += cut
    received += decoder.feed(stream[position:])
    assert received == payloads
    assert decoder.pending == 0


def test_byte_by_byte_feeding_reports_the_partial_frame():
    decoder = FrameDecoder()
    frame = encode_frame(b"hello")
    for byte in frame[:-1]:
        assert decoder.feed(bytes([byte])) == []
    assert decoder.pending == len(frame) - 1
    assert decoder.feed(frame[-1:]) == [b"hello"]


def test_an_oversized_length_is_refused_from_the_header_alone():
    decoder = FrameDecoder(max_frame_bytes=1024)
    with pytest.raises(FrameError, match="exceeds"):
        decoder.feed((1025).to_bytes(4, "big"))


def test_a_frame_at_the_limit_is_accepted():
    decoder = FrameDecoder(max_frame_bytes=1024)
    assert decoder.feed(encode_frame(b"x" * 1024, 1024)) == [b"x" * 1024]


def test_a_zero_length_frame_is_refused():
    with pytest.raises(FrameError, match="empty"):
        FrameDecoder().feed(b"\x00\x00\x00\x00")
    with pytest.raises(FrameError):
        encode_frame(b"")


def test_encoding_over_the_limit_is_refused():
    with pytest.raises(FrameError):
        encode_frame(b"x" * 11, max_frame_bytes=10)


def test_frames_before_a_bad_header_are_kept_then_the_decoder_stays_broken():
    decoder = FrameDecoder(max_frame_bytes=16)
    with pytest.raises(FrameError) as caught:
        decoder.feed(encode_frame(b"ok", 16) + encode_frame(b"fine", 16) + b"\xff\xff\xff\xff")
    assert caught.value.complete == [b"ok", b"fine"]
    with pytest.raises(FrameError, match="already"):
        decoder.feed(encode_frame(b"again", 16))


def test_the_limit_must_fit_the_header():
    with pytest.raises(ValueError):
        FrameDecoder(max_frame_bytes=0)
    with pytest.raises(ValueError):
        FrameDecoder(max_frame_bytes=1 << 32)
