"""Stream URLs, as the Node client takes them (src/client/url.ts).

- ``tcp://HOST[:7070]/STREAM[?token=T]``: the native protocol over TCP;
- ``tls://HOST[:7070]/STREAM``: the same inside TLS (a relay serving TLS on its TCP port);
- ``ws://HOST[:8080]/[PREFIX/]STREAM[?token=T]``: over WebSocket on the relay's
  HTTP port; the endpoint is the path's last segment replaced by ``ws``, so
  ``ws://example.com:8080/video/cam`` connects to ``/video/ws``;
- ``wss://HOST[:443]/[PREFIX/]STREAM``: WebSocket inside TLS.

``udp://`` is a valid framewire URL that this client does not speak (FW_BAD_URL says so).
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

    transport: str  # "tcp" (tcp://, tls://) or "ws" (ws://, wss://)
    host: str
    port: int
    stream: str
    token: Optional[str]
    #: ws only: the path of the WebSocket endpoint (``/ws`` or ``/PREFIX/ws``).
    ws_path: str = "/ws"
    #: tls:// and wss://: the connection is TLS.
    tls: bool = False

    def __str__(self) -> str:
        h = f"[{self.host}]" if ":" in self.host else self.host
        scheme = {"tcp": "tls", "ws": "wss"}[self.transport] if self.tls else self.transport
        return f"{scheme}://{h}:{self.port}/{self.stream}"


def parse_url(url: str) -> StreamUrl:
    """Parses and checks a stream URL; raises FramewireError(FW_BAD_URL) saying what is wrong."""
    try:
        u = urlsplit(url)
        port_text = u.port
    except ValueError as err:
        raise FramewireError(BAD_URL, f'"{url}" is not a URL ({err}); expected tcp://HOST:PORT/STREAM') from None
    scheme = u.scheme.lower()
    if scheme == "udp":
        raise FramewireError(BAD_URL, "udp:// is not supported by the Python client; use tcp://, tls://, ws:// or wss://")
    if scheme not in ("tcp", "tls", "ws", "wss"):
        raise FramewireError(BAD_URL, f'unsupported scheme "{u.scheme}:" in {url}; expected tcp://HOST:PORT/STREAM, tls://…, or ws(s)://HOST:PORT/STREAM')
    tls = scheme in ("tls", "wss")
    transport = "tcp" if scheme in ("tcp", "tls") else "ws"
    path = u.path.lstrip("/")
    slash = path.rfind("/") if transport == "ws" else -1
    try:
        stream = unquote(path[slash + 1:], errors="strict")
    except UnicodeDecodeError:
        raise FramewireError(BAD_URL, f"bad percent-encoding in {url}") from None
    if not STREAM_NAME.fullmatch(stream):
        raise FramewireError(BAD_URL, f'stream name "{stream}" in {url} must match {STREAM_NAME.pattern}')
    host = u.hostname or "127.0.0.1"
    default = DEFAULT_TCP_PORT if transport == "tcp" else 443 if tls else DEFAULT_HTTP_PORT
    port = port_text if port_text is not None else default
    tokens = parse_qs(u.query).get("token")
    token = tokens[0] if tokens else None
    if transport == "tcp":
        return StreamUrl("tcp", host, port, stream, token, tls=tls)
    prefix = f"/{path[:slash]}" if slash > 0 else ""
    return StreamUrl("ws", host, port, stream, token, f"{prefix}/ws", tls=tls)
