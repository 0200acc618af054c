"""The wire protocol: encoding, the incremental parser at every split point, limits, bad input."""
from __future__ import annotations

import json
import random
import struct

import pytest

from framewire.errors import FramewireError
from framewire.protocol import (
    ControlMessage,
    FrameMessage,
    Limits,
    Parser,
    decode_message,
    encode_control,
    encode_frame_header,
    jpeg_size,
)

CODES = {"FW_BAD_MAGIC", "FW_BAD_VERSION", "FW_BAD_HEADER", "FW_FRAME_TOO_LARGE", "FW_CONTROL_TOO_LARGE", "FW_BAD_MESSAGE"}


def jpeg_header(width: int, height: int) -> bytes:
    """SOI, an APP0 segment, then a baseline SOF0 with this size (what the relay's frame check reads)."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", height, width) + b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + sof


def frame_bytes(seq: int, size: int = 300, hlen: int = 32) -> bytes:
    data = jpeg_header(64, 48) + bytes([seq & 0xFF]) * size + b"\xff\xd9"
    header = encode_frame_header(seq, 1_700_000_000_123_456 + seq, 64, 48, len(data))
    if hlen > 32:  # a later revision's longer header: the parser must skip the unknown tail
        header = header[:6] + struct.pack(">H", hlen) + header[8:] + b"\xee" * (hlen - 32)
    return header + data


def sample_stream() -> bytes:
    return b"".join([
        encode_control("welcome", {"session": "s1", "role": "view", "stream": "cam", "granted": {"fps": 15},
                                   "serverTimeUs": 1, "maxFrameBytes": 1 << 24, "live": True}),
        frame_bytes(7),
        encode_control("ping", {"id": 3, "t0": 123}),
        frame_bytes(8, 1000, hlen=40),
        encode_control("stats", {"framesSkipped": 2, "live": True, "note": "é"}),
        encode_control("bye", {"reason": "done"}),
    ])


def summary(msgs):
    return [(m.type, m.seq, m.capture_us, len(m.data)) if isinstance(m, FrameMessage) else (m.type, json.dumps(m.body, sort_keys=True))
            for m in msgs]


EXPECTED = summary(Parser().feed(sample_stream()))


def test_the_sample_parses_to_six_messages():
    assert [t[0] for t in EXPECTED] == ["welcome", "frame", "ping", "frame", "stats", "bye"]
    assert EXPECTED[1][1:3] == (7, 1_700_000_000_123_463)
    assert EXPECTED[3][1] == 8


def test_every_split_point_gives_the_same_messages():
    data = sample_stream()
    for cut in range(len(data) + 1):
        p = Parser()
        got = p.feed(data[:cut]) + p.feed(data[cut:])
        assert summary(got) == EXPECTED, f"split at {cut}"
        assert p.buffered_bytes == 0


def test_every_two_split_points_on_a_small_stream():
    data = encode_control("ping", {"id": 1, "t0": 2}) + frame_bytes(1, 20)
    want = summary(Parser().feed(data))
    for a in range(len(data) + 1):
        for b in range(a, len(data) + 1):
            p = Parser()
            assert summary(p.feed(data[:a]) + p.feed(data[a:b]) + p.feed(data[b:])) == want


def test_byte_at_a_time_and_random_chunks():
    data = sample_stream()
    p = Parser()
    got = []
    for i in range(len(data)):
        got += p.feed(data[i:i + 1])
    assert summary(got) == EXPECTED
    rng = random.Random(7)
    for _ in range(50):
        p, got, i = Parser(), [], 0
        while i < len(data):
            n = rng.randint(1, 400)
            got += p.feed(data[i:i + n])
            i += n
        assert summary(got) == EXPECTED


def test_truncated_input_is_held_not_parsed():
    data = sample_stream()
    p = Parser()
    whole = len(encode_control("welcome", {"session": "s1", "role": "view", "stream": "cam", "granted": {"fps": 15},
                                           "serverTimeUs": 1, "maxFrameBytes": 1 << 24, "live": True}))
    assert len(p.feed(data[: whole - 1])) == 0
    assert p.buffered_bytes == whole - 1
    assert [m.type for m in p.feed(data[whole - 1: whole])] == ["welcome"]


def test_random_bytes_give_only_coded_errors():
    rng = random.Random(1)
    valid = sample_stream()
    for i in range(2000):
        if i % 2:
            data = bytes(rng.getrandbits(8) for _ in range(rng.randint(12, 200)))
        else:  # a valid stream with a few bytes flipped
            b = bytearray(valid)
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] = rng.getrandbits(8)
            data = bytes(b)
        p = Parser()
        try:
            p.feed(data)
        except FramewireError as err:
            assert err.code in CODES
            with pytest.raises(FramewireError) as again:
                p.feed(b"")  # a dead parser stays dead
            assert again.value is err


def test_an_oversize_frame_is_refused_from_its_12_byte_header():
    p = Parser(Limits(max_frame_bytes=1000))
    header = encode_frame_header(1, 0, 64, 48, 1001)
    with pytest.raises(FramewireError) as e:
        p.feed(header[:12])
    assert e.value.code == "FW_FRAME_TOO_LARGE"
    # At the limit it is accepted (and waited for).
    assert Parser(Limits(max_frame_bytes=1000)).feed(encode_frame_header(1, 0, 64, 48, 1000)) == []


def test_an_oversize_control_message_is_refused_from_its_header():
    big = encode_control("stats", {"x": "a" * 200})
    with pytest.raises(FramewireError) as e:
        Parser(Limits(max_control_bytes=100)).feed(big[:12])
    assert e.value.code == "FW_CONTROL_TOO_LARGE"


@pytest.mark.parametrize("mutate, code", [
    (lambda b: b"FX" + b[2:], "FW_BAD_MAGIC"),
    (lambda b: b[:2] + b"\x02" + b[3:], "FW_BAD_VERSION"),
    (lambda b: b[:3] + b"\x09" + b[4:], "FW_BAD_HEADER"),  # unknown type
    (lambda b: b[:6] + b"\x00\x1f" + b[8:], "FW_BAD_HEADER"),  # frame header length below 32
    (lambda b: b[:6] + b"\x01\x01" + b[8:], "FW_BAD_HEADER"),  # above 256
    (lambda b: b[:28] + b"\x07" + b[29:], "FW_BAD_HEADER"),  # unknown codec
    (lambda b: b[:24] + b"\x00\x00" + b[26:], "FW_BAD_HEADER"),  # width 0
])
def test_bad_frame_headers(mutate, code):
    with pytest.raises(FramewireError) as e:
        Parser().feed(mutate(frame_bytes(1)))
    assert e.value.code == code


def control(type_byte: int, payload: bytes) -> bytes:
    return struct.pack(">HBBBxHI", 0x4657, 1, type_byte, 0, 12, len(payload)) + payload


@pytest.mark.parametrize("type_byte, payload", [
    (0x04, b"{not json"),
    (0x04, b"[1,2]"),
    (0x04, b"null"),
    (0x04, b'{"id":1,"t0":NaN}'),
    (0x04, b'{"id":1,"t0":Infinity}'),
    (0x04, b'{"id":true,"t0":1}'),  # a boolean is not a number
    (0x04, b'{"id":-1,"t0":1}'),
    (0x04, b'{"id":1}'),
    (0x04, b"\xff\xfe"),  # not UTF-8
    (0x06, b'{"nested":{"a":1}}'),
    (0x06, b'{"x":null}'),
    (0x06, json.dumps({f"k{i}": i for i in range(65)}).encode()),
    (0x06, json.dumps({"s": "x" * 257}).encode()),
    (0x02, b'{"session":"s","role":"view","stream":".hidden","serverTimeUs":1,"maxFrameBytes":1}'),
    (0x02, b'{"session":"s","role":"watch","stream":"cam","serverTimeUs":1,"maxFrameBytes":1}'),
    (0x02, b'{"session":"s","role":"view","stream":"cam","granted":{"fps":0},"serverTimeUs":1,"maxFrameBytes":1}'),
    (0x03, json.dumps({"code": "X" * 65, "message": "m"}).encode()),
    (0x07, b"{}"),
    (0x08, b'{"seq":4294967296}'),
])
def test_bad_control_bodies_are_fw_bad_message(type_byte, payload):
    with pytest.raises(FramewireError) as e:
        Parser().feed(control(type_byte, payload))
    assert e.value.code == "FW_BAD_MESSAGE"


def test_strings_are_limited_in_utf16_code_units():
    # 600 astral characters are 1200 UTF-16 code units: too long for a 1024 limit.
    with pytest.raises(FramewireError):
        Parser().feed(encode_control("bye", {"reason": "\U0001F600" * 600}))
    assert Parser().feed(encode_control("bye", {"reason": "\U0001F600" * 512}))[0].body["reason"]


def test_unknown_fields_are_ignored_and_unknown_error_codes_kept():
    (m,) = Parser().feed(control(0x03, b'{"code":"FW_SOMETHING_NEW","message":"later","extra":[1]}'))
    assert isinstance(m, ControlMessage)
    assert m.body == {"code": "FW_SOMETHING_NEW", "message": "later"}
    (w,) = Parser().feed(control(0x02, b'{"session":"s","role":"view","stream":"cam","serverTimeUs":1,"maxFrameBytes":9,'
                                       b'"granted":{"width":320.4,"height":239.5},"future":1}'))
    assert w.body["granted"] == {"width": 320, "height": 240}
    assert w.body["live"] is False


def test_decode_message_needs_exactly_one_message():
    one = encode_control("ping", {"id": 1, "t0": 2})
    assert decode_message(one).body == {"id": 1, "t0": 2}
    for bad in (one[:11], one[:-1], one + b"x"):
        with pytest.raises(FramewireError) as e:
            decode_message(bad)
        assert e.value.code == "FW_BAD_HEADER"


def test_the_worked_examples_of_the_spec():
    hello = encode_control("hello", {"role": "view", "stream": "cam", "token": "s3cret", "params": {"fps": 15}})
    assert len(hello) == 79
    assert hello[:12].hex(" ") == "46 57 01 01 00 00 00 0c 00 00 00 43"
    header = encode_frame_header(1234, 1_700_000_000_123_456, 640, 480, 5000)
    assert header.hex(" ") == ("46 57 01 10 01 00 00 20 00 00 13 88 00 00 04 d2 "
                               "00 06 0a 24 18 20 22 40 02 80 01 e0 01 00 00 00")


def test_jpeg_size_reads_the_sof():
    assert jpeg_size(jpeg_header(640, 480) + b"\xff\xd9") == (640, 480)
    assert jpeg_size(b"\xff\xd8\xff\xda\x00\x02") is None  # scan before any SOF
    assert jpeg_size(b"not a jpeg") is None
    assert jpeg_size(jpeg_header(640, 480)[:25]) is None  # truncated inside the SOF
