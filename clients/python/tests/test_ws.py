"""The RFC 6455 layer: handshake checks, masking, server frames at every split point, limits."""
from __future__ import annotations

import struct

import pytest

from framewire import ws
from framewire.errors import FramewireError


def server_frame(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0) -> bytes:
    """An unmasked frame as a server sends it."""
    first = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    if n < 126:
        return bytes([first, n]) + payload
    if n < 1 << 16:
        return bytes([first, 126]) + struct.pack(">H", n) + payload
    return bytes([first, 127]) + struct.pack(">Q", n) + payload


def unmask(frame: bytes) -> tuple:
    """(fin, opcode, payload) of a client frame; checks it is masked."""
    assert frame[1] & 0x80, "client frames are masked"
    n, at = frame[1] & 0x7F, 2
    if n == 126:
        n, at = struct.unpack_from(">H", frame, 2)[0], 4
    elif n == 127:
        n, at = struct.unpack_from(">Q", frame, 2)[0], 10
    mask = frame[at:at + 4]
    assert len(frame) == at + 4 + n
    return bool(frame[0] & 0x80), frame[0] & 0x0F, ws.mask_bytes(frame[at + 4:], mask)


def test_accept_key_of_rfc_6455():
    assert ws.accept_for("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize("n", [0, 1, 125, 126, 65535, 65536, 200_001])
def test_client_frames_are_masked_and_sized(n):
    payload = bytes(i % 251 for i in range(n))
    fin, opcode, got = unmask(ws.encode_frame(ws.OP_BINARY, payload))
    assert (fin, opcode, got) == (True, ws.OP_BINARY, payload)


def test_handshake_request_and_answers():
    req = ws.handshake_request("127.0.0.1", 8080, "/video/ws", "k")
    assert req.startswith(b"GET /video/ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n") and req.endswith(b"\r\n\r\n")
    key = ws.new_key()
    good = f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ws.accept_for(key)}".encode()
    ws.check_handshake_response(good, key, "ws://x/ws")
    for head, code in [
        (b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0", "FW_UNAUTHORIZED"),
        (b"HTTP/1.1 404 Not Found", "FW_CONNECTION_CLOSED"),
        (good.replace(ws.accept_for(key).encode(), b"wrong"), "FW_CONNECTION_CLOSED"),
        (good + b"\r\nSec-WebSocket-Extensions: permessage-deflate", "FW_CONNECTION_CLOSED"),
        (b"SSH-2.0-OpenSSH", "FW_CONNECTION_CLOSED"),
    ]:
        with pytest.raises(FramewireError) as e:
            ws.check_handshake_response(head, key, "ws://x/ws")
        assert e.value.code == code


def sample() -> bytes:
    return b"".join([
        server_frame(ws.OP_BINARY, b"one"),
        server_frame(ws.OP_BINARY, b"tw", fin=False),  # a fragmented message with a ping inside it
        server_frame(ws.OP_PING, b"p"),
        server_frame(ws.OP_CONT, b"o-" + b"x" * 300, fin=False),
        server_frame(ws.OP_CONT, b"!"),
        server_frame(ws.OP_BINARY, bytes(70_000)),
        server_frame(ws.OP_CLOSE, struct.pack(">H", 1000) + b"bye"),
    ])


def events(evs):
    return [(e.kind, e.data, e.close_code) for e in evs]


WANT = [("message", b"one", None), ("ping", b"p", None), ("message", b"two-" + b"x" * 300 + b"!", None),
        ("message", bytes(70_000), None), ("close", b"bye", 1000)]


def test_every_split_point():
    data = sample()
    assert events(ws.WsParser(1 << 20).feed(data)) == WANT
    for cut in range(0, len(data) + 1, 7 if len(data) > 5000 else 1):
        p = ws.WsParser(1 << 20)
        assert events(p.feed(data[:cut]) + p.feed(data[cut:])) == WANT, cut
    p = ws.WsParser(1 << 20)
    got = []
    for i in range(0, 400):  # the first few hundred bytes one at a time
        got += p.feed(data[i:i + 1])
    got += p.feed(data[400:])
    assert events(got) == WANT


def test_an_oversize_message_is_refused_from_its_length_alone():
    p = ws.WsParser(1000)
    with pytest.raises(ws.WsError) as e:
        p.feed(bytes([0x82, 127]) + struct.pack(">Q", 1 << 40))  # 10 bytes: no payload sent at all
    assert (e.value.code, e.value.close_code) == ("FW_FRAME_TOO_LARGE", 1009)
    # Fragments count together.
    p = ws.WsParser(1000)
    p.feed(server_frame(ws.OP_BINARY, bytes(600), fin=False))
    with pytest.raises(ws.WsError) as e:
        p.feed(server_frame(ws.OP_CONT, bytes(401))[:4])
    assert e.value.code == "FW_FRAME_TOO_LARGE"
    assert ws.WsParser(1000).feed(server_frame(ws.OP_BINARY, bytes(1000)))[0].data == bytes(1000)


@pytest.mark.parametrize("data, code, close", [
    (server_frame(ws.OP_TEXT, b"hi"), "FW_BAD_MESSAGE", 1003),
    (bytes([0x82, 0x81, 1, 2, 3, 4, 0]), "FW_BAD_HEADER", 1002),  # masked by the server
    (server_frame(ws.OP_BINARY, b"x", rsv=0x40), "FW_BAD_HEADER", 1002),
    (server_frame(0x3, b"x"), "FW_BAD_HEADER", 1002),
    (server_frame(0xB, b"x"), "FW_BAD_HEADER", 1002),
    (server_frame(ws.OP_PING, bytes(126)), "FW_BAD_HEADER", 1002),
    (server_frame(ws.OP_PING, b"x", fin=False), "FW_BAD_HEADER", 1002),
    (server_frame(ws.OP_CONT, b"x"), "FW_BAD_HEADER", 1002),
    (server_frame(ws.OP_BINARY, b"a", fin=False) + server_frame(ws.OP_BINARY, b"b"), "FW_BAD_HEADER", 1002),
])
def test_bad_server_frames(data, code, close):
    p = ws.WsParser(1 << 20)
    with pytest.raises(ws.WsError) as e:
        p.feed(data)
    assert (e.value.code, e.value.close_code) == (code, close)
    with pytest.raises(ws.WsError):
        p.feed(b"")


def test_close_frame_without_a_code_and_the_close_we_send():
    (ev,) = ws.WsParser(10).feed(server_frame(ws.OP_CLOSE, b""))
    assert (ev.kind, ev.close_code) == ("close", None)
    fin, opcode, payload = unmask(ws.encode_close(1008, "r" * 500))
    assert opcode == ws.OP_CLOSE and struct.unpack(">H", payload[:2])[0] == 1008 and len(payload) <= 125


def test_split_head():
    buf = bytearray(b"HTTP/1.1 101 OK\r\nA: b\r\n\r\n\x82\x01x")
    assert ws.split_head(buf) == (b"HTTP/1.1 101 OK\r\nA: b", b"\x82\x01x")
    assert ws.split_head(bytearray(b"HTTP/1.1 101")) is None
    with pytest.raises(FramewireError):
        ws.split_head(bytearray(b"x" * (ws.MAX_RESPONSE_HEAD + 1)))
