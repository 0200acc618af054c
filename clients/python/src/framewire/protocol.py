"""The framewire wire protocol, version 1 (docs/protocol.md): pure, no I/O.

Every message starts with a 12-byte header::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-------------------------------+---------------+---------------+
    |      magic 0x4657 ("FW")      |  version (1)  |     type      |  0
    +---------------+---------------+-------------------------------+
    |     flags     |  reserved (0) |     header length (bytes)     |  4
    +---------------+---------------+-------------------------------+
    |                    payload length (bytes)                     |  8
    +---------------------------------------------------------------+

A frame (type 0x10) continues with seq (u32), capture time in µs (u64 as two
u32 halves), width, height (u16), codec (u8) and reserved bytes up to its
header length (32 today; longer headers are read whole and the unknown tail
skipped). Control messages carry one UTF-8 JSON object, validated strictly.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

from .errors import (
    BAD_HEADER,
    BAD_MAGIC,
    BAD_MESSAGE,
    BAD_VERSION,
    CONTROL_TOO_LARGE,
    FRAME_TOO_LARGE,
    FramewireError,
)
from .jpeg import jpeg_size
from .messages import STREAM_NAME, validate_control

MAGIC = 0x4657
VERSION = 1
FIXED_HEADER_BYTES = 12
FRAME_HEADER_BYTES = 32

HELLO, WELCOME, ERROR, PING, PONG, STATS, BYE, ACK, FRAME = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x10
#: Message type numbers by name.
TYPES: Dict[str, int] = {
    "hello": HELLO, "welcome": WELCOME, "error": ERROR, "ping": PING, "pong": PONG,
    "stats": STATS, "bye": BYE, "ack": ACK, "frame": FRAME,
}
_NAMES: Dict[int, str] = {v: k for k, v in TYPES.items()}

FLAG_KEY = 0x01
CODEC_JPEG, CODEC_H264 = 1, 2
_CODECS = {CODEC_JPEG: "jpeg", CODEC_H264: "h264"}

DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_CONTROL_BYTES = 64 * 1024
DEFAULT_MAX_HEADER_BYTES = 256

_FIXED = struct.Struct(">HBBBxHI")  # magic, version, type, flags, (reserved), header length, payload length
_FRAME = struct.Struct(">IIIHHB")  # at offset 12: seq, capture high, capture low, width, height, codec
_U32 = 2**32
_MAX_SAFE = 2**53 - 1



@dataclass(frozen=True)
class Limits:
    """What a receiver accepts. Every limit has the relay's default."""

    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    max_control_bytes: int = DEFAULT_MAX_CONTROL_BYTES
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES


@dataclass
class FrameMessage:
    """A frame message as it came off the wire (capture time on the sender's clock)."""

    seq: int
    capture_us: int
    width: int
    height: int
    codec: str
    key: bool
    data: bytes
    type: str = field(default="frame", init=False)


@dataclass
class ControlMessage:
    """A control message: its type name (``"welcome"``, ``"ping"``, …) and validated JSON body."""

    type: str
    body: Dict[str, Any]


Message = Union[FrameMessage, ControlMessage]


def _bad(message: str) -> FramewireError:
    return FramewireError(BAD_MESSAGE, message)


# --- encoding ---------------------------------------------------------------------------------


def encode_control(type_name: str, body: Dict[str, Any]) -> bytes:
    """Encodes a control message: the 12-byte header and the compact UTF-8 JSON body."""
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    return _FIXED.pack(MAGIC, VERSION, TYPES[type_name], 0, FIXED_HEADER_BYTES, len(payload)) + payload


def encode_frame_header(seq: int, capture_us: int, width: int, height: int, payload_length: int,
                        codec: int = CODEC_JPEG, key: bool = True) -> bytes:
    """Encodes the 32-byte header of a frame message; the picture's bytes follow it unchanged."""
    if not (1 <= width <= 0xFFFF and 1 <= height <= 0xFFFF):
        raise FramewireError(BAD_HEADER, f"frame size {width}x{height} is outside 1-65535")
    capture_us = max(0, min(int(capture_us), _MAX_SAFE))
    fixed = _FIXED.pack(MAGIC, VERSION, FRAME, FLAG_KEY if key else 0, FRAME_HEADER_BYTES, payload_length)
    return fixed + _FRAME.pack(seq % _U32, capture_us // _U32, capture_us % _U32, width, height, codec) + b"\0\0\0"


# --- decoding ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    type: int
    flags: int
    header_length: int
    payload_length: int


def _check_header(buf: Union[bytes, bytearray, memoryview], limits: Limits) -> _Header:
    """Validates a fixed header against the limits before anything is allocated from its lengths."""
    magic, version, mtype, flags, hlen, plen = _FIXED.unpack_from(buf, 0)
    if magic != MAGIC:
        raise FramewireError(BAD_MAGIC, f"bad magic 0x{magic:04x}, expected 0x4657")
    if version != VERSION:
        raise FramewireError(BAD_VERSION, f"protocol version {version} is not supported (this side speaks {VERSION})")
    name = _NAMES.get(mtype)
    if name is None:
        raise FramewireError(BAD_HEADER, f"unknown message type 0x{mtype:x}")
    least = FRAME_HEADER_BYTES if mtype == FRAME else FIXED_HEADER_BYTES
    if hlen < least or hlen > limits.max_header_bytes:
        raise FramewireError(BAD_HEADER, f"header length {hlen} out of range [{least}, {limits.max_header_bytes}] for {name}")
    if mtype == FRAME:
        if plen > limits.max_frame_bytes:
            raise FramewireError(FRAME_TOO_LARGE, f"frame of {plen} bytes exceeds the limit of {limits.max_frame_bytes}")
    elif plen > limits.max_control_bytes:
        raise FramewireError(CONTROL_TOO_LARGE, f"{name} body of {plen} bytes exceeds the limit of {limits.max_control_bytes}")
    return _Header(mtype, flags, hlen, plen)


def _build(h: _Header, header: bytes, payload: bytes) -> Message:
    if h.type == FRAME:
        seq, hi, lo, width, height, codec_id = _FRAME.unpack_from(header, 12)
        codec = _CODECS.get(codec_id)
        if codec is None:
            raise FramewireError(BAD_HEADER, f"unknown codec {codec_id}")
        if width == 0 or height == 0:
            raise FramewireError(BAD_HEADER, "frame width and height must be non-zero")
        return FrameMessage(seq, hi * _U32 + lo, width, height, codec, bool(h.flags & FLAG_KEY), payload)
    name = _NAMES[h.type]
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad(f"{name} body is not valid UTF-8") from None
    try:
        body = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise _bad(f"{name} body is not valid JSON") from None
    return ControlMessage(name, validate_control(name, body))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def decode_message(buf: Union[bytes, bytearray, memoryview], limits: Limits = Limits()) -> Message:
    """Decodes exactly one whole message (as a WebSocket message carries it)."""
    if len(buf) < FIXED_HEADER_BYTES:
        raise FramewireError(BAD_HEADER, f"message of {len(buf)} bytes is shorter than a header")
    h = _check_header(buf, limits)
    if len(buf) != h.header_length + h.payload_length:
        raise FramewireError(BAD_HEADER, f"message is {len(buf)} bytes but its header says {h.header_length + h.payload_length}")
    data = bytes(buf)
    return _build(h, data[: h.header_length], data[h.header_length:])


class Parser:
    """Incremental parser for a byte stream (TCP): feed chunks of any size, get whole messages.

    Every length is checked against the limits as soon as the 12-byte header
    is in, before anything is waited for or held. After an error the parser is
    dead: every later :meth:`feed` raises the same error (close the connection).
    """

    def __init__(self, limits: Limits = Limits()) -> None:
        self.limits = limits
        self._buf = bytearray()
        self._pending: Optional[_Header] = None
        #: The error that killed this parser, if any.
        self.failed: Optional[FramewireError] = None

    @property
    def buffered_bytes(self) -> int:
        """Bytes held waiting for the rest of a message (bounded by the limits)."""
        return len(self._buf)

    def feed(self, chunk: Union[bytes, bytearray, memoryview]) -> List[Message]:
        """Feeds a chunk; returns every message it completes, in order. Raises FramewireError on bad input."""
        if self.failed is not None:
            raise self.failed
        self._buf += chunk
        out: List[Message] = []
        try:
            while True:
                if self._pending is None:
                    if len(self._buf) < FIXED_HEADER_BYTES:
                        break
                    self._pending = _check_header(self._buf, self.limits)
                h = self._pending
                total = h.header_length + h.payload_length
                if len(self._buf) < total:
                    break
                with memoryview(self._buf) as view:  # one copy of each part, not two
                    header = bytes(view[: h.header_length])
                    payload = bytes(view[h.header_length: total])
                del self._buf[:total]
                self._pending = None
                out.append(_build(h, header, payload))
        except FramewireError as err:
            self.failed = err
            self._buf = bytearray()
            raise
        return out


__all__ = [
    "ACK", "BYE", "ERROR", "FRAME", "HELLO", "PING", "PONG", "STATS", "WELCOME", "STREAM_NAME", "ControlMessage",
    "FrameMessage", "Limits", "Message", "Parser", "decode_message", "encode_control", "encode_frame_header",
    "jpeg_size", "validate_control",
]
