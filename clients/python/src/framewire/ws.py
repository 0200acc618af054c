"""A minimal RFC 6455 WebSocket client layer, pure (no I/O): handshake, framing, masking.

Base frame (section 5.2)::

      0                   1                   2                   3
      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
     +-+-+-+-+-------+-+-------------+-------------------------------+
     |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
     |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
     |N|V|V|V|       |S|             |   (if payload len==126/127)   |
     | |1|2|3|       |K|             |                               |
     +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
     |     Extended payload length continued, if payload len == 127  |
     + - - - - - - - - - - - - - - - +-------------------------------+
     |                               |Masking-key, if MASK set to 1  |
     +-------------------------------+-------------------------------+
     | Masking-key (continued)       |          Payload Data         |
     +-------------------------------- - - - - - - - - - - - - - - - +

A client masks every frame it sends; a server never masks. framewire sends
each protocol message as one binary message (possibly fragmented); no
extension is negotiated, so RSV bits must be zero.
"""
from __future__ import annotations

import base64
import hashlib
import os
import struct
from dataclasses import dataclass
from typing import List, Optional, Tuple, Union

from .errors import BAD_HEADER, BAD_MESSAGE, CONNECTION_CLOSED, FRAME_TOO_LARGE, UNAUTHORIZED, FramewireError

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
#: Close codes used here (RFC 6455 section 7.4.1).
CLOSE_NORMAL, CLOSE_PROTOCOL, CLOSE_UNSUPPORTED, CLOSE_TOO_BIG = 1000, 1002, 1003, 1009
#: The longest HTTP response head accepted for the upgrade.
MAX_RESPONSE_HEAD = 16 * 1024


class WsError(FramewireError):
    """A WebSocket-level error, with the close code to send before closing."""

    def __init__(self, code: str, message: str, close_code: int) -> None:
        super().__init__(code, message)
        self.close_code = close_code


def new_key() -> str:
    """A fresh Sec-WebSocket-Key (16 random bytes, base64)."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def accept_for(key: str) -> str:
    """The Sec-WebSocket-Accept a server must answer to ``key``."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")


def handshake_request(host: str, port: int, path: str, key: str) -> bytes:
    """The HTTP/1.1 upgrade request for ``ws://host:port/path``."""
    h = f"[{host}]" if ":" in host else host
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {h}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        "User-Agent: framewire-python/0.1",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def check_handshake_response(head: bytes, key: str, url: str) -> None:
    """Checks the server's answer to the upgrade; raises FramewireError if it is not a valid 101."""
    try:
        text = head.decode("iso-8859-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        raise FramewireError(CONNECTION_CLOSED, f"{url}: unreadable HTTP answer") from None
    status_line, _, rest = text.partition("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise FramewireError(CONNECTION_CLOSED, f"{url} did not answer HTTP: {status_line[:80]!r}")
    status = parts[1]
    if status != "101":
        code = UNAUTHORIZED if status == "401" else CONNECTION_CLOSED
        raise FramewireError(code, f"{url} answered HTTP {' '.join(parts[1:])}")
    headers = {}
    for line in rest.split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if headers.get("upgrade", "").lower() != "websocket" or "upgrade" not in headers.get("connection", "").lower():
        raise FramewireError(CONNECTION_CLOSED, f"{url}: the 101 answer does not upgrade to websocket")
    if headers.get("sec-websocket-accept") != accept_for(key):
        raise FramewireError(CONNECTION_CLOSED, f"{url}: wrong Sec-WebSocket-Accept")
    if headers.get("sec-websocket-extensions"):
        raise FramewireError(CONNECTION_CLOSED, f"{url}: the server chose an extension this client did not offer")


def mask_bytes(data: Union[bytes, bytearray, memoryview], mask: bytes) -> bytes:
    """XORs ``data`` with the 4-byte ``mask`` repeated (done on big integers: C speed, no per-byte loop)."""
    n = len(data)
    if n == 0:
        return b""
    repeated = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def encode_frame(opcode: int, payload: Union[bytes, bytearray, memoryview] = b"", fin: bool = True,
                 mask: Optional[bytes] = None) -> bytes:
    """One client frame: masked (with ``mask`` or 4 random bytes)."""
    mask = os.urandom(4) if mask is None else mask
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        head = struct.pack(">BB", first, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack(">BBH", first, 0x80 | 126, n)
    else:
        head = struct.pack(">BBQ", first, 0x80 | 127, n)
    return head + mask + mask_bytes(payload, mask)


def encode_close(code: int = CLOSE_NORMAL, reason: str = "") -> bytes:
    """A client close frame with ``code`` and a reason cut to fit a control frame."""
    return encode_frame(OP_CLOSE, struct.pack(">H", code) + reason.encode("utf-8")[:123])


@dataclass
class WsEvent:
    """What the parser found: a whole binary ``message``, a ``ping``, a ``pong`` or a ``close``."""

    kind: str
    data: bytes = b""
    close_code: Optional[int] = None


class WsParser:
    """Incremental parser for server frames: feed bytes, get events.

    A message larger than ``max_message`` is refused as soon as a frame's
    length says so (close 1009), before its payload is held; fragments are
    reassembled and counted against the same limit. Text messages are not
    part of framewire (FW_BAD_MESSAGE, close 1003).
    """

    def __init__(self, max_message: int) -> None:
        self.max_message = max_message
        self._buf = bytearray()
        self._parts: List[bytes] = []
        self._size = 0
        self._in_message = False
        self.failed: Optional[WsError] = None

    def feed(self, chunk: Union[bytes, bytearray, memoryview]) -> List[WsEvent]:
        """Feeds bytes; returns the events they complete. Raises WsError on bad input."""
        if self.failed is not None:
            raise self.failed
        self._buf += chunk
        out: List[WsEvent] = []
        try:
            while True:
                got = self._one()
                if got is None:
                    break
                if got.kind:
                    out.append(got)
        except WsError as err:
            self.failed = err
            self._buf = bytearray()
            self._parts = []
            raise
        return out

    def _one(self) -> Optional[WsEvent]:
        b = self._buf
        if len(b) < 2:
            return None
        fin, opcode, masked, n = b[0] & 0x80, b[0] & 0x0F, b[1] & 0x80, b[1] & 0x7F
        if b[0] & 0x70:
            raise WsError(BAD_HEADER, "WebSocket frame with RSV bits set (no extension was negotiated)", CLOSE_PROTOCOL)
        if masked:
            raise WsError(BAD_HEADER, "a server must not mask its WebSocket frames", CLOSE_PROTOCOL)
        at = 2
        if n == 126:
            if len(b) < 4:
                return None
            n, at = struct.unpack_from(">H", b, 2)[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, at = struct.unpack_from(">Q", b, 2)[0], 10
        control = opcode >= 0x8
        if control:
            if opcode not in (OP_CLOSE, OP_PING, OP_PONG):
                raise WsError(BAD_HEADER, f"unknown WebSocket opcode 0x{opcode:x}", CLOSE_PROTOCOL)
            if n > 125 or not fin:
                raise WsError(BAD_HEADER, "a WebSocket control frame must be whole and at most 125 bytes", CLOSE_PROTOCOL)
        else:
            if opcode not in (OP_CONT, OP_TEXT, OP_BINARY):
                raise WsError(BAD_HEADER, f"unknown WebSocket opcode 0x{opcode:x}", CLOSE_PROTOCOL)
            if opcode == OP_TEXT:
                raise WsError(BAD_MESSAGE, "text WebSocket messages are not part of the protocol", CLOSE_UNSUPPORTED)
            if opcode == OP_CONT and not self._in_message:
                raise WsError(BAD_HEADER, "WebSocket continuation frame without a message to continue", CLOSE_PROTOCOL)
            if opcode == OP_BINARY and self._in_message:
                raise WsError(BAD_HEADER, "new WebSocket message before the last one ended", CLOSE_PROTOCOL)
            if self._size + n > self.max_message:
                raise WsError(FRAME_TOO_LARGE, f"WebSocket message of more than {self.max_message} bytes", CLOSE_TOO_BIG)
        if len(b) < at + n:
            return None
        with memoryview(b) as view:
            payload = bytes(view[at: at + n])
        del b[: at + n]
        if control:
            if opcode == OP_CLOSE:
                code = struct.unpack_from(">H", payload, 0)[0] if len(payload) >= 2 else None
                return WsEvent("close", payload[2:], code)
            return WsEvent("ping" if opcode == OP_PING else "pong", payload)
        self._in_message = not fin
        self._parts.append(payload)
        self._size += n
        if not fin:
            return WsEvent("")  # a fragment: nothing to report yet, keep parsing
        data = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
        self._parts = []
        self._size = 0
        return WsEvent("message", data)


def split_head(buf: bytearray) -> Optional[Tuple[bytes, bytes]]:
    """If ``buf`` holds a whole HTTP response head, returns (head, the bytes after it)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > MAX_RESPONSE_HEAD:
            raise FramewireError(CONNECTION_CLOSED, "HTTP answer head too large")
        return None
    return bytes(buf[:end]), bytes(buf[end + 4:])
