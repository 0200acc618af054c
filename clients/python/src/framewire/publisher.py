"""Publisher: send frames your own code makes (a numpy BGR image or JPEG bytes) to a relay."""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any, Dict, Optional, Tuple

from .clock import now_us
from .client import Client
from .errors import CONNECTION_CLOSED, FRAME_TOO_LARGE, PUBLISHER_FATAL, FramewireError
from .image import to_jpeg
from .meter import Meter
from .protocol import Limits, encode_frame_header
from .tls import TlsOptions

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


class Publisher(Client):
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
                 client: str = "framewire-python/0.1", tls: Optional[TlsOptions] = None) -> None:
        super().__init__(url, "publish", {"width": width, "height": height, "fps": fps},
                         token, reconnect, timeout, limits, client, PUBLISHER_FATAL, tls)
        self.quality = quality
        self._slot: Optional[Tuple[bytes, int, int, int]] = None
        self._meter = Meter()
        self._seq = 0
        self._not_sent = 0
        first = self._open()  # raises if the relay cannot be reached or refuses
        self._register(first)
        session = threading.Thread(target=self._keep_connected, args=(first,), name=f"framewire-publisher-{self.url.stream}", daemon=True)
        sender = threading.Thread(target=self._send_loop, name=f"framewire-sender-{self.url.stream}", daemon=True)
        self._threads = (session, sender)
        session.start()
        sender.start()

    def _on_down(self) -> None:
        if self._slot is not None:  # the link went away under it
            self._slot = None
            self._not_sent += 1

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
        taken = now_us() if capture_us is None else int(capture_us)  # before encoding: latency includes it
        data, width, height = to_jpeg(frame, self.quality)
        if len(data) > self._limits.max_frame_bytes:
            raise FramewireError(FRAME_TOO_LARGE, f"a JPEG of {len(data)} bytes exceeds the limit of {self._limits.max_frame_bytes}")
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
