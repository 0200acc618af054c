"""Viewer: iterate a stream's frames, with end-to-end latency and loss figures."""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any, Deque, Dict, Iterator, Optional

from .clock import now_us
from .client import Client
from .connection import Connection
from .errors import VIEWER_FATAL
from .image import decode_jpeg
from .meter import Meter
from .protocol import FrameMessage, Limits
from .tls import TlsOptions

_UNSET = object()


class Frame:
    """One received picture.

    ``capture_us`` is converted to **this machine's** clock (with the offset
    measured by ping/pong, docs/protocol.md section 7.3), so
    ``arrival_us - capture_us`` is the true end-to-end latency, capture to
    arrival, across machines.
    """

    __slots__ = ("seq", "capture_us", "arrival_us", "width", "height", "codec", "key", "data", "_image")

    def __init__(self, seq: int, capture_us: int, arrival_us: int, width: int, height: int,
                 codec: str, key: bool, data: bytes) -> None:
        self.seq = seq
        self.capture_us = capture_us
        self.arrival_us = arrival_us
        self.width = width
        self.height = height
        self.codec = codec
        self.key = key
        #: The JPEG bytes, as the publisher sent them.
        self.data = data
        self._image: Any = _UNSET

    @property
    def image(self) -> Any:
        """The picture as a numpy BGR array (decoded on first use), or None where numpy/OpenCV are absent."""
        if self._image is _UNSET:
            self._image = decode_jpeg(self.data) if self.codec == "jpeg" else None
        return self._image

    @property
    def latency_ms(self) -> float:
        """Capture to arrival, ms."""
        return (self.arrival_us - self.capture_us) / 1000

    def __repr__(self) -> str:
        return f"Frame(seq={self.seq}, {self.width}x{self.height}, {len(self.data)} bytes, latency {self.latency_ms:.1f} ms)"


@dataclass
class ViewerStats:
    """Viewer-side figures; fps, kbps and latency are over the last second."""

    fps: float
    kbps: float
    latency_p50_ms: Optional[float]
    latency_p95_ms: Optional[float]
    frames_received: int
    #: Sequence gaps less what the relay skipped on purpose: frames lost on the way.
    frames_lost: int
    #: Frames the relay skipped for this viewer (latest-frame-wins, fps cap).
    frames_skipped: int
    #: Frames dropped here because the consumer was slower than the stream.
    frames_dropped: int
    width: int
    height: int
    rtt_ms: Optional[float]
    #: Relay clock minus this machine's, ms (None before the first pong).
    offset_ms: Optional[float]
    connected: bool
    live: bool
    connects: int

    def as_dict(self) -> Dict[str, Any]:
        """The figures as a plain dict (for JSON)."""
        return asdict(self)


class Viewer(Client):
    """Watches one stream: ``for frame in Viewer("tcp://127.0.0.1:7070/cam", fps=15): ...``.

    A background thread keeps the connection: it answers pings, pings the
    relay for the clock offset, acks every frame on arrival (so the relay keeps
    only about a round trip of frames in flight), and reconnects with backoff
    (250 ms doubling to 5 s, jittered) when the relay goes away. Frames wait
    for the consumer in a queue of ``queue_size`` (the oldest is dropped and
    counted). A fatal error (FW_UNAUTHORIZED, FW_BAD_MESSAGE, FW_BAD_VERSION…)
    ends iteration by raising :class:`FramewireError` with its ``code``.
    """

    _receives_frames = True

    def __init__(self, url: str, fps: Optional[float] = None, width: Optional[int] = None,
                 height: Optional[int] = None, quality: Optional[int] = None, *, token: Optional[str] = None,
                 reconnect: bool = True, queue_size: int = 2, timeout: float = 10.0,
                 limits: Limits = Limits(), client: str = "framewire-python/0.1",
                 tls: Optional[TlsOptions] = None) -> None:
        super().__init__(url, "view", {"fps": fps, "width": width, "height": height, "quality": quality},
                         token, reconnect, timeout, limits, client, VIEWER_FATAL, tls)
        self._hello["acks"] = True
        self._queue: Deque[Frame] = deque()
        self._queue_size = max(1, queue_size)
        self._meter = Meter()
        self._live = False
        self._skipped_base = 0
        self._skipped_conn = 0
        thread = threading.Thread(target=self._keep_connected, name=f"framewire-viewer-{self.url.stream}", daemon=True)
        self._threads = (thread,)
        thread.start()

    # --- the connection thread (hooks of Client) ----------------------------------------------

    def _on_up(self, conn: Connection) -> None:
        self._skipped_conn = 0
        self._meter.reset_sequence()
        self._live = conn.welcome["live"]

    def _on_down(self) -> None:
        self._skipped_base += self._skipped_conn
        self._skipped_conn = 0
        self._live = False

    def _on_frame(self, msg: FrameMessage, arrival_us: int) -> None:
        conn = self._conn
        if conn is None:
            return
        # Ack on arrival, not on consumption: a slow consumer is handled by the local queue.
        conn.send_control("ack", {"seq": msg.seq})
        capture = round(msg.capture_us - conn.clock.offset_us)
        latency = float(arrival_us - capture) if conn.clock.synced else float("nan")
        frame = Frame(msg.seq, capture, arrival_us, msg.width, msg.height, msg.codec, msg.key, msg.data)
        with self._cond:
            self._meter.record(msg.seq, len(msg.data), msg.width, msg.height, arrival_us, latency)
            if len(self._queue) >= self._queue_size:
                self._queue.popleft()
                self._meter.dropped += 1
            self._queue.append(frame)
            self._cond.notify()

    def _on_stats(self, body: Dict[str, Any]) -> None:
        with self._cond:
            if "framesSkipped" in body or "framesDecimated" in body:
                self._skipped_conn = _count(body.get("framesSkipped")) + _count(body.get("framesDecimated"))
                self._meter.skipped = self._skipped_base + self._skipped_conn
            live = body.get("live")
            if isinstance(live, bool) and live != self._live:
                # Section 8: the publisher left or a new one came: its seq restarts.
                self._meter.reset_sequence()
                self._live = live

    # --- the consumer's side ------------------------------------------------------------------

    def read(self, timeout: Optional[float] = None) -> Optional[Frame]:
        """The next frame; None if ``timeout`` (s) passes first or the viewer was closed. Raises a fatal error."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._queue or self._stopped.is_set(), timeout):
                return None
            if self._queue:
                return self._queue.popleft()
            if self._error is not None:
                raise self._error
            return None

    def __iter__(self) -> Iterator[Frame]:
        return self

    def __next__(self) -> Frame:
        frame = self.read()
        if frame is None:
            raise StopIteration
        return frame

    def stats(self) -> ViewerStats:
        """Figures now: fps, kbps and latency over the last second; counts since the start."""
        with self._cond:
            m = self._meter
            fps, kbps, p50, p95 = m.window(now_us())
            conn = self._conn
            synced = conn is not None and conn.clock.synced
            return ViewerStats(
                fps=fps, kbps=kbps, latency_p50_ms=p50, latency_p95_ms=p95,
                frames_received=m.received, frames_lost=m.lost, frames_skipped=m.skipped,
                frames_dropped=m.dropped, width=m.width, height=m.height,
                rtt_ms=round(conn.clock.rtt_us / 1000, 2) if synced and conn else None,
                offset_ms=round(conn.clock.offset_us / 1000, 3) if synced and conn else None,
                connected=conn is not None, live=self._live, connects=self._connects,
            )

    @property
    def live(self) -> bool:
        """True while the stream has a publisher (as the relay last said)."""
        return self._live


def _count(v: Any) -> int:
    """A stats count, or 0 for anything that is not a number."""
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0
