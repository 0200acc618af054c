"""A relay that breaks the protocol (a fake one, on loopback): the client answers with the coded error and stops."""
from __future__ import annotations

import socket
import threading
from typing import Callable, List

import pytest

from framewire import FramewireError, Publisher, Viewer
from framewire.protocol import ControlMessage, Parser, encode_control, encode_frame_header

WELCOME = {"session": "fake", "role": "view", "stream": "cam", "serverTimeUs": 1, "maxFrameBytes": 1 << 24, "live": True}


class FakeRelay:
    """Accepts one connection, reads the hello, then runs ``script(sock)``; records what the client sent."""

    def __init__(self, script: Callable[[socket.socket], None]) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received: List[ControlMessage] = []
        self.script = script
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        conn.settimeout(10)
        parser = Parser()
        while not self.received:
            self.received += parser.feed(conn.recv(65536))
        self.script(conn)
        try:
            while True:  # everything the client says until it closes
                data = conn.recv(65536)
                if not data:
                    break
                self.received += parser.feed(data)
        except (OSError, FramewireError):
            pass
        conn.close()
        self.server.close()

    def sent(self, type_name: str) -> List[dict]:
        return [m.body for m in self.received if m.type == type_name]


def welcome_then(data: bytes, role: str = "view") -> Callable[[socket.socket], None]:
    return lambda s: s.sendall(encode_control("welcome", {**WELCOME, "role": role}) + data)


@pytest.mark.parametrize("garbage, code", [
    (b"XX" + bytes(10), "FW_BAD_MAGIC"),
    (b"FW\x07" + bytes(9), "FW_BAD_VERSION"),
    (encode_frame_header(1, 0, 64, 48, 100 << 20)[:12], "FW_FRAME_TOO_LARGE"),  # 12 bytes are enough to refuse it
    (encode_control("stats", {"deep": 1})[:8] + (1 << 20).to_bytes(4, "big"), "FW_CONTROL_TOO_LARGE"),
    (encode_control("welcome", WELCOME), "FW_UNEXPECTED_MESSAGE"),
])
def test_viewer_answers_a_broken_relay_with_the_code(garbage: bytes, code: str):
    fake = FakeRelay(welcome_then(garbage))
    v = Viewer(f"tcp://127.0.0.1:{fake.port}/cam", reconnect=False)
    with pytest.raises(FramewireError) as e:
        next(iter(v))
    assert e.value.code == code and not e.value.remote
    fake.thread.join(10)
    assert [b["code"] for b in fake.sent("error")] == [code]
    assert fake.sent("hello")[0]["acks"] is True
    v.close()


def test_an_unknown_error_code_from_the_relay_is_kept_as_it_came():
    fake = FakeRelay(welcome_then(encode_control("error", {"code": "FW_FROM_THE_FUTURE", "message": "later"})))
    v = Viewer(f"tcp://127.0.0.1:{fake.port}/cam", reconnect=False)
    with pytest.raises(FramewireError) as e:
        next(iter(v))
    assert (e.value.code, e.value.message, e.value.remote) == ("FW_FROM_THE_FUTURE", "later", True)
    v.close()


def test_an_early_ping_is_answered_after_the_welcome():
    def script(s: socket.socket) -> None:
        s.sendall(encode_control("ping", {"id": 7, "t0": 5}) + encode_control("welcome", WELCOME)
                  + encode_control("bye", {"reason": "test over"}))

    fake = FakeRelay(script)
    v = Viewer(f"tcp://127.0.0.1:{fake.port}/cam", reconnect=False)
    with pytest.raises(FramewireError) as e:
        next(iter(v))
    assert e.value.code == "FW_CONNECTION_CLOSED"
    fake.thread.join(10)
    assert [(p["id"], p["t0"]) for p in fake.sent("pong")] == [(7, 5)]
    v.close()


def test_a_publisher_that_receives_a_frame_says_fw_unexpected_message():
    jpeg = b"\xff\xd8\xff\xd9"
    fake = FakeRelay(welcome_then(encode_frame_header(1, 0, 64, 48, len(jpeg)) + jpeg, role="publish"))
    pub = Publisher(f"tcp://127.0.0.1:{fake.port}/cam", reconnect=False)
    fake.thread.join(10)
    assert [b["code"] for b in fake.sent("error")] == ["FW_UNEXPECTED_MESSAGE"]
    pub.close()
    assert pub.error is not None and pub.error.code == "FW_UNEXPECTED_MESSAGE"


def test_a_refused_hello_raises_the_relays_code():
    fake = FakeRelay(lambda s: s.sendall(encode_control("error", {"code": "FW_TOO_MANY_CLIENTS", "message": "full"})))
    with pytest.raises(FramewireError) as e:
        Publisher(f"tcp://127.0.0.1:{fake.port}/cam")
    assert e.value.code == "FW_TOO_MANY_CLIENTS" and e.value.remote


def test_nothing_listening_is_fw_connection_closed():
    s = socket.create_server(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(FramewireError) as e:
        Publisher(f"tcp://127.0.0.1:{port}/cam")
    assert e.value.code == "FW_CONNECTION_CLOSED"


def test_ws_an_error_and_the_close_in_one_read_still_give_the_relays_code():
    """Over WebSocket the relay's error and its close frame often arrive together: the code must survive."""
    import re

    from framewire import ws

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        conn.settimeout(10)
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(4096)
        key = re.search(rb"Sec-WebSocket-Key: (\S+)", head).group(1).decode()  # type: ignore[union-attr]
        conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {ws.accept_for(key)}\r\n\r\n").encode())
        conn.recv(65536)  # the hello
        error = encode_control("error", {"code": "FW_UNAUTHORIZED", "message": "wrong token"})
        conn.sendall(bytes([0x82, len(error)]) + error + bytes([0x88, 2, 0x03, 0xE8]))  # one write: error, close 1000
        try:
            conn.recv(65536)
        except OSError:
            pass
        conn.close()
        server.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    v = Viewer(f"ws://127.0.0.1:{port}/cam")  # reconnect on: only a fatal code stops it
    with pytest.raises(FramewireError) as e:
        v.read(timeout=15)  # a lost code would mean retrying (and no frame): None, DID NOT RAISE
    assert e.value.code == "FW_UNAUTHORIZED" and e.value.remote
    v.close()
    t.join(10)
