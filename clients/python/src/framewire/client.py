"""What a publisher and a viewer share: the hello, one connection kept up with backoff, closing."""
from __future__ import annotations

import threading
from typing import Any, Dict, FrozenSet, Iterable, Optional, TypeVar

from .connection import Connection, backoff_s
from .errors import BAD_URL, CONNECTION_CLOSED, FramewireError
from .protocol import FrameMessage, Limits
from .tls import TlsOptions
from .url import parse_url

_C = TypeVar("_C", bound="Client")


class Client:
    """Base of :class:`~framewire.Publisher` and :class:`~framewire.Viewer` (not used on its own).

    One thread runs :meth:`_keep_connected`: it serves the current
    connection, and when it ends, reconnects with backoff (250 ms doubling to
    5 s, jittered) unless the error's code is in ``fatal`` or reconnecting is
    off; then ``error`` holds why it stopped.
    """

    def __init__(self, url: str, role: str, params: Dict[str, Any], token: Optional[str], reconnect: bool,
                 timeout: float, limits: Limits, client: str, fatal: FrozenSet[str], tls: Optional[TlsOptions]) -> None:
        self.url = parse_url(url)
        if tls is not None and not self.url.tls:
            raise FramewireError(BAD_URL, f"TLS options (ca, fingerprint, insecure) need a tls:// or wss:// URL, not {url}")
        self._tls = tls
        self._hello: Dict[str, Any] = {"role": role, "stream": self.url.stream,
                                       "params": {k: v for k, v in params.items() if v is not None}, "client": client}
        tok = token if token is not None else self.url.token
        if tok is not None:
            self._hello["token"] = tok
        self._reconnect = reconnect
        self._timeout = timeout
        self._limits = limits
        self._fatal = fatal
        self._cond = threading.Condition()
        self._stopped = threading.Event()
        self._conn: Optional[Connection] = None
        self._connects = 0
        self._error: Optional[FramewireError] = None
        self._threads: Iterable[threading.Thread] = ()
        #: The relay's latest welcome (None before the first).
        self.welcome: Optional[Dict[str, Any]] = None

    # --- hooks for the subclasses (called with the lock held) ---------------------------------

    def _on_up(self, conn: Connection) -> None:
        """A connection was welcomed."""

    def _on_down(self) -> None:
        """The connection ended."""

    def _on_frame(self, msg: FrameMessage, arrival_us: int) -> None:  # pragma: no cover - viewers override
        raise NotImplementedError

    _receives_frames = False

    # --- the connection thread ----------------------------------------------------------------

    def _open(self) -> Connection:
        return Connection.open(self.url, self._hello, self._limits, self._timeout, self._tls)

    def _register(self, conn: Connection) -> bool:
        """Makes ``conn`` the current connection; False (and closes it) if this client is closing."""
        with self._cond:
            if self._stopped.is_set():
                conn.close(f"{self._hello['role']} closing")
                return False
            self._conn = conn
            self.welcome = conn.welcome
            self._connects += 1
            self._on_up(conn)
            return True

    def _keep_connected(self, conn: Optional[Connection] = None) -> None:
        """Serves ``conn`` (already registered) or a new connection, reconnecting until closed or a fatal error."""
        attempt = 0
        error: Optional[FramewireError] = None
        while not self._stopped.is_set():
            if conn is None:
                try:
                    conn = self._open()
                except FramewireError as err:
                    error = err
                else:
                    if not self._register(conn):
                        return
            if conn is not None:
                attempt = 0
                _, error = conn.serve(self._on_frame if self._receives_frames else None, self._on_stats)
                with self._cond:
                    self._conn = None
                    self._on_down()
                conn = None
            # A fatal error counts even if close() raced it; a close() of our own is no error.
            if error is not None and (error.code in self._fatal or not self._reconnect):
                return self._fail(error)
            if self._stopped.is_set():
                return
            if not self._reconnect:
                return self._fail(FramewireError(CONNECTION_CLOSED, "connection closed"))
            if self._stopped.wait(backoff_s(attempt)):
                return
            attempt += 1

    def _fail(self, error: FramewireError) -> None:
        with self._cond:
            self._error = error
            self._stopped.set()
            self._cond.notify_all()

    def _on_stats(self, body: Dict[str, Any]) -> None:
        """A stats message from the relay (viewers use it)."""

    # --- the caller's side --------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while a connection to the relay is up."""
        return self._conn is not None

    @property
    def error(self) -> Optional[FramewireError]:
        """The fatal error that stopped this client, if any."""
        return self._error

    def close(self) -> None:
        """Says bye and stops the background threads. Idempotent."""
        if self._stopped.is_set() and self._conn is None:
            return
        with self._cond:
            self._stopped.set()
            conn = self._conn
            self._cond.notify_all()
        if conn is not None:
            conn.close(f"{'publisher' if self._hello['role'] == 'publish' else 'viewer'} closing")
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=5)

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
