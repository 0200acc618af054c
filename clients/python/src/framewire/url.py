"""Stream URLs, as the Node client takes them (src/client/url.ts).

- ``tcp://HOST[:7070]/STREAM[?token=T]``: the native protocol over TCP;
- ``ws://HOST[:8080]/[PREFIX/]STREAM[?token=T]``: over WebSocket on the relay's
  HTTP port; the endpoint is the path's last segment replaced by ``ws``, so
  ``ws://example.com:8080/video/cam`` connects to ``/video/ws``.

``tls://``, ``wss://`` and ``udp://`` are valid framewire URLs that this
client does not speak (FW_BAD_URL says so).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import BAD_URL, FramewireError
from .protocol import STREAM_NAME

DEFAULT_TCP_PORT = 7070
DEFAULT_HTTP_PORT = 8080


@dataclass(frozen=True)
class StreamUrl:
    """A parsed stream URL."""

    transport: str  # "tcp" or "ws"
    host: str
    port: int
    stream: str
    token: Optional[str]
    #: ws only: the path of the WebSocket endpoint (``/ws`` or ``/PREFIX/ws``).
    ws_path: str = "/ws"

    def __str__(self) -> str:
        h = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport}://{h}:{self.port}/{self.stream}"


def parse_url(url: str) -> StreamUrl:
    """Parses and checks a stream URL; raises FramewireError(FW_BAD_URL) saying what is wrong."""
    try:
        u = urlsplit(url)
        port_text = u.port
    except ValueError as err:
        raise FramewireError(BAD_URL, f'"{url}" is not a URL ({err}); expected tcp://HOST:PORT/STREAM') from None
    scheme = u.scheme.lower()
    if scheme in ("tls", "wss", "udp"):
        raise FramewireError(BAD_URL, f"{scheme}:// is not supported by the Python client yet; use tcp:// or ws://")
    if scheme not in ("tcp", "ws"):
        raise FramewireError(BAD_URL, f'unsupported scheme "{u.scheme}:" in {url}; expected tcp://HOST:PORT/STREAM or ws://HOST:PORT/STREAM')
    path = u.path.lstrip("/")
    slash = path.rfind("/") if scheme == "ws" else -1
    try:
        stream = unquote(path[slash + 1:], errors="strict")
    except UnicodeDecodeError:
        raise FramewireError(BAD_URL, f"bad percent-encoding in {url}") from None
    if not STREAM_NAME.fullmatch(stream):
        raise FramewireError(BAD_URL, f'stream name "{stream}" in {url} must match {STREAM_NAME.pattern}')
    host = u.hostname or "127.0.0.1"
    port = port_text if port_text is not None else (DEFAULT_TCP_PORT if scheme == "tcp" else DEFAULT_HTTP_PORT)
    tokens = parse_qs(u.query).get("token")
    token = tokens[0] if tokens else None
    if scheme == "tcp":
        return StreamUrl("tcp", host, port, stream, token)
    prefix = f"/{path[:slash]}" if slash > 0 else ""
    return StreamUrl("ws", host, port, stream, token, f"{prefix}/ws")
