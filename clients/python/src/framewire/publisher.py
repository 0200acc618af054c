"""Publisher: send frames your own code makes (a numpy BGR image or JPEG bytes) to a relay."""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any, Dict, Optional, Tuple

from .clock import now_us
from .connection import Connection, backoff_s
from .errors import CONNECTION_CLOSED, PUBLISHER_FATAL, FramewireError
from .image import to_jpeg
from .meter import Meter
from .protocol import Limits, encode_frame_header
from .url import parse_url

_U32 = 2**32


@dataclass
class PublisherStats:
    """Publisher-side figures; fps and kbps are over the last second."""

    fps: float
    kbps: float
    frames_sent: int
    #: Frames replaced in the one-frame slot by a newer one before they could be sent (the link was slower).
    frames_dropped: int
    #: Frames given while no connection was up (reconnecting).
    frames_not_sent: int
    width: int
    height: int
    rtt_ms: Optional[float]
    connected: bool
    connects: int

    def as_dict(self) -> Dict[str, Any]:
        """The figures as a plain dict (for JSON)."""
        return asdict(self)


class Publisher:
    """Publishes one stream: ``pub = Publisher("tcp://127.0.0.1:7070/cam"); pub.send(image)``.

    The constructor connects and waits for the relay's welcome (raising
    :class:`FramewireError` — e.g. FW_UNAUTHORIZED, FW_STREAM_BUSY — if it
    cannot start). :meth:`send` never waits for the network: the frame goes
    into a one-frame slot that a sender thread empties as fast as the link
    allows, and a newer frame replaces one not yet sent (latest frame wins;
    counted in ``frames_dropped``). Background threads answer the relay's
    pings and reconnect with backoff when it goes away; frames meanwhile are
    not sent (``frames_not_sent``). Sequence numbers count frames actually
    sent, so nothing this publisher drops shows as loss downstream.
    """

    def __init__(self, url: str, token: Optional[str] = None, *, fps: Optional[float] = None,
                 width: Optional[int] = None, height: Optional[int] = None, quality: int = 80,
                 reconnect: bool = True, timeout: float = 10.0, limits: Limits = Limits(),
                 client: str = "framewire-python/0.1") -> None:
        self.url = parse_url(url)
        self.quality = quality
        params: Dict[str, Any] = {}
        for k, v in (("width", width), ("height", height), ("fps", fps)):
            if v is not None:
                params[k] = v
        self._hello: Dict[str, Any] = {"role": "publish", "stream": self.url.stream, "params": params, "client": client}
        tok = token if token is not None else self.url.token
        if tok is not None:
            self._hello["token"] = tok
        self._reconnect = reconnect
        self._timeout = timeout
        self._limits = limits
        self._cond = threading.Condition()
        self._slot: Optional[Tuple[bytes, int, int, int]] = None
        self._meter = Meter()
        self._seq = 0
        self._not_sent = 0
        self._connects = 1
        self._stopped = threading.Event()
        self._error: Optional[FramewireError] = None
        self._conn: Optional[Connection] = Connection.open(self.url, self._hello, limits, timeout)
        #: The relay's latest welcome.
        self.welcome: Dict[str, Any] = self._conn.welcome
        self._session = threading.Thread(target=self._run, name=f"framewire-publisher-{self.url.stream}", daemon=True)
        self._sender = threading.Thread(target=self._send_loop, name=f"framewire-sender-{self.url.stream}", daemon=True)
        self._session.start()
        self._sender.start()

    # --- the caller's side --------------------------------------------------------------------

    def send(self, frame: Any, capture_us: Optional[int] = None) -> None:
        """Sends a frame: a numpy BGR image (JPEG-encoded at ``quality`` with OpenCV) or JPEG bytes.

        ``capture_us`` is when the picture was taken, µs on this machine's wall
        clock (default: now). Returns at once; raises the fatal error that
        stopped this publisher, if one did.
        """
        if self._error is not None:
            raise self._error
        if self._stopped.is_set():
            raise FramewireError(CONNECTION_CLOSED, "the publisher is closed")
        data, width, height = to_jpeg(frame, self.quality)
        if len(data) > self._limits.max_frame_bytes:
            raise FramewireError("FW_FRAME_TOO_LARGE", f"a JPEG of {len(data)} bytes exceeds the limit of {self._limits.max_frame_bytes}")
        taken = now_us() if capture_us is None else int(capture_us)
        with self._cond:
            if self._conn is None:
                self._not_sent += 1
                return
            if self._slot is not None:
                self._meter.dropped += 1
            self._slot = (data, width, height, taken)
            self._cond.notify()

    def stats(self) -> PublisherStats:
        """Figures now."""
        with self._cond:
            m = self._meter
            fps, kbps, _, _ = m.window(now_us())
            conn = self._conn
            return PublisherStats(
                fps=fps, kbps=kbps, frames_sent=m.received, frames_dropped=m.dropped,
                frames_not_sent=self._not_sent, width=m.width, height=m.height,
                rtt_ms=round(conn.clock.rtt_us / 1000, 2) if conn is not None and conn.clock.synced else None,
                connected=conn is not None, connects=self._connects,
            )

    @property
    def connected(self) -> bool:
        """True while a connection to the relay is up."""
        return self._conn is not None

    @property
    def error(self) -> Optional[FramewireError]:
        """The fatal error that stopped this publisher, if any."""
        return self._error

    def close(self) -> None:
        """Says bye and stops the threads. Idempotent."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        with self._cond:
            conn = self._conn
            self._cond.notify_all()
        if conn is not None:
            conn.close("publisher closing")
        for t in (self._session, self._sender):
            if t is not threading.current_thread():
                t.join(timeout=5)

    def __enter__(self) -> "Publisher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- threads ------------------------------------------------------------------------------

    def _send_loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._slot is not None or self._stopped.is_set())
                if self._stopped.is_set():
                    return
                slot, self._slot = self._slot, None
                conn = self._conn
            if slot is None:
                continue
            data, width, height, taken = slot
            if conn is None:
                with self._cond:
                    self._not_sent += 1
                continue
            header = encode_frame_header(self._seq, taken, width, height, len(data))
            try:
                conn.send(header, data)
            except OSError:
                with self._cond:
                    self._not_sent += 1
                continue  # the session thread sees the connection end
            now = now_us()
            with self._cond:
                self._meter.record(self._seq, len(data), width, height, now, float(now - taken))
            self._seq = (self._seq + 1) % _U32

    def _run(self) -> None:
        attempt = 0
        error: Optional[FramewireError] = None
        while not self._stopped.is_set():
            conn = self._conn
            if conn is not None:
                _, error = conn.serve(None, None)
                with self._cond:
                    self._conn = None
                    self._slot = None
            if self._stopped.is_set():
                return
            if (error is not None and error.code in PUBLISHER_FATAL) or not self._reconnect:
                self._error = error or FramewireError(CONNECTION_CLOSED, "connection closed")
                self._stopped.set()
                with self._cond:
                    self._cond.notify_all()
                return
            if self._stopped.wait(backoff_s(attempt)):
                return
            attempt += 1
            try:
                fresh = Connection.open(self.url, self._hello, self._limits, self._timeout)
            except FramewireError as err:
                error = err
                continue
            with self._cond:
                if self._stopped.is_set():
                    fresh.close("publisher closing")
                    return
                self._conn = fresh
                self.welcome = fresh.welcome
                self._connects += 1
            attempt = 0
            error = None
