"""One connection to a relay, after the handshake: the client side of the session.

It connects (TCP, or WebSocket over TCP), says hello and waits for the
welcome; then :meth:`Connection.serve` (run in a background thread) answers
every ping, pings the relay once a second for RTT and clock offset, and hands
frames and stats to its caller. Any thread may send: whole messages go out
under one lock, so a pong never lands inside a frame.
"""
from __future__ import annotations

import random
import select
import socket
import ssl
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from . import ws as wsproto
from .clock import ClockSync, now_us
from .errors import (
    BAD_URL,
    CONNECTION_CLOSED,
    TIMEOUT,
    UNEXPECTED_MESSAGE,
    FramewireError,
    closed,
)
from .protocol import ControlMessage, FrameMessage, Limits, Message, Parser, decode_message, encode_control
from .tls import TlsOptions, wrap
from .url import StreamUrl

PING_INTERVAL_S = 1.0
_READ = 256 * 1024

Bytes = Union[bytes, bytearray, memoryview]


def backoff_s(attempt: int) -> float:
    """Reconnect delay: 250 ms doubling to 5 s, jittered ±25 % (src/client/connection.ts)."""
    base = min(5.0, 0.25 * 2.0 ** min(attempt, 5))
    return base * (0.75 + random.random() * 0.5)


class Connection:
    """A welcomed connection to a relay. Create with :meth:`open`."""

    def __init__(self, sock: socket.socket, url: StreamUrl, limits: Limits) -> None:
        self.sock = sock
        self.url = url
        self.limits = limits
        self.clock = ClockSync()
        self.welcome: Dict[str, Any] = {}
        self._lock = threading.Lock()
        self._ws = url.transport == "ws"
        self._parser = Parser(limits)
        self._ws_parser = wsproto.WsParser(limits.max_frame_bytes + limits.max_header_bytes)
        self._inbox: List[Message] = []
        self._closing = False
        self.closed_reason: Optional[str] = None
        #: Set when the relay's WebSocket close frame arrived (what came before it is still handled).
        self._peer_closed: Optional[str] = None

    # --- opening ------------------------------------------------------------------------------

    @classmethod
    def open(cls, url: StreamUrl, hello: Dict[str, Any], limits: Limits = Limits(), timeout: float = 10.0,
             tls: Optional[TlsOptions] = None) -> "Connection":
        """Connects (TLS for tls:// and wss://, checked before anything is sent), says hello and waits
        for the welcome; raises FramewireError (the relay's code on a refusal, FW_TLS for a bad certificate)."""
        deadline = time.monotonic() + timeout
        try:
            sock = socket.create_connection((url.host, url.port), timeout=timeout)
        except socket.timeout:
            raise FramewireError(TIMEOUT, f"connecting to {url} timed out") from None
        except OSError as err:
            raise closed(f"cannot connect to {url}: {err.strerror or err}", err) from None
        if url.tls:
            try:
                sock = wrap(sock, url.host, tls or TlsOptions(), max(0.1, deadline - time.monotonic()))
            except BaseException:
                sock.close()
                raise
        elif tls is not None:
            sock.close()
            raise FramewireError(BAD_URL, f"TLS options (ca, fingerprint, insecure) need a tls:// or wss:// URL, not {url}")
        conn = cls(sock, url, limits)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if conn._ws:
                conn._upgrade(deadline)
            conn.send_control("hello", hello)
            conn._await_welcome(deadline)
            sock.settimeout(None)
        except FramewireError as err:
            if not err.remote and err.code not in (CONNECTION_CLOSED, TIMEOUT):
                conn._refuse(err)  # the relay broke the protocol: say why (section 11)
            conn.abort()
            raise
        except BaseException:
            conn.abort()
            raise
        return conn

    def _recv_until(self, deadline: float) -> bytes:
        left = deadline - time.monotonic()
        if left <= 0:
            raise FramewireError(TIMEOUT, f"no welcome from {self.url} in time")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(_READ)
        except socket.timeout:
            raise FramewireError(TIMEOUT, f"no welcome from {self.url} in time") from None
        except OSError as err:
            raise closed(f"{self.url}: {err}", err) from None
        if not data:
            raise closed(f"{self.url} closed the connection during the handshake")
        return data

    def _upgrade(self, deadline: float) -> None:
        key = wsproto.new_key()
        self.sock.sendall(wsproto.handshake_request(self.url.host, self.url.port, self.url.ws_path, key))
        buf = bytearray()
        while True:
            buf += self._recv_until(deadline)
            got = wsproto.split_head(buf)
            if got is not None:
                break
        head, rest = got
        wsproto.check_handshake_response(head, key, f"ws://{self.url.host}:{self.url.port}{self.url.ws_path}")
        if rest:
            self._inbox.extend(self._decode(rest))

    def _await_welcome(self, deadline: float) -> None:
        early: List[Message] = []
        while True:
            while self._inbox:
                msg = self._inbox.pop(0)
                if isinstance(msg, ControlMessage) and msg.type == "welcome":
                    self.welcome = msg.body
                    # What came with the welcome (an early ping, a frame) is handled by serve().
                    self._inbox = early + self._inbox
                    return
                if isinstance(msg, ControlMessage) and msg.type == "error":
                    raise FramewireError(msg.body["code"], msg.body["message"], remote=True)
                if isinstance(msg, ControlMessage) and msg.type == "bye":
                    raise closed(f"relay said bye during the handshake: {msg.body['reason']}")
                if isinstance(msg, ControlMessage) and msg.type == "ping":
                    early.append(msg)  # answered after the welcome (section 6.1)
                    continue
                raise FramewireError(UNEXPECTED_MESSAGE, f"expected welcome, got {msg.type}")
            if self._peer_closed is not None:
                raise closed(f"{self._peer_closed} during the handshake")
            self._inbox.extend(self._decode(self._recv_until(deadline)))

    # --- bytes in -----------------------------------------------------------------------------

    def _decode(self, data: Bytes) -> List[Message]:
        """Parses bytes from the socket into protocol messages (through the WebSocket layer on ws://)."""
        if not self._ws:
            return self._parser.feed(data)
        out: List[Message] = []
        for ev in self._ws_parser.feed(data):
            if ev.kind == "message":
                out.append(decode_message(ev.data, self.limits))
            elif ev.kind == "ping":
                self._send_raw(wsproto.encode_frame(wsproto.OP_PONG, ev.data))
            elif ev.kind == "close":
                # Answer, and stop reading; an error message just before the close is still handled.
                self._try_raw(wsproto.encode_close(wsproto.CLOSE_NORMAL))
                self._peer_closed = f"relay closed the WebSocket (code {ev.close_code})"
                break
        return out

    # --- bytes out ----------------------------------------------------------------------------

    def _send_raw(self, *parts: Bytes) -> None:
        with self._lock:
            for p in parts:
                self.sock.sendall(p)

    def send(self, *parts: Bytes) -> None:
        """Sends one protocol message given in parts (e.g. frame header, JPEG). Raises OSError if the socket is gone."""
        if self._ws:
            self._send_raw(wsproto.encode_frame(wsproto.OP_BINARY, b"".join(parts)))
        else:
            self._send_raw(*parts)

    def send_control(self, type_name: str, body: Dict[str, Any]) -> None:
        """Sends a control message."""
        self.send(encode_control(type_name, body))

    def try_send_control(self, type_name: str, body: Dict[str, Any]) -> bool:
        """Sends a control message if the socket still takes it; False if not."""
        try:
            self.send_control(type_name, body)
            return True
        except OSError:
            return False

    # --- the session --------------------------------------------------------------------------

    def serve(self, on_frame: Optional[Callable[[FrameMessage, int], None]] = None,
              on_stats: Optional[Callable[[Dict[str, Any]], None]] = None,
              idle_timeout: float = 20.0) -> Tuple[str, Optional[FramewireError]]:
        """Runs the session until it ends; returns (reason, error or None). Never raises for what the relay sends.

        ``on_frame(frame, arrival_us)`` gets every frame (a publisher passes
        None: a frame to it is FW_UNEXPECTED_MESSAGE). ``on_stats(body)`` gets
        every stats message.
        """
        next_ping = time.monotonic()
        last_heard = time.monotonic()
        arrival = now_us()
        try:
            while True:
                for msg in self._inbox:
                    end = self._handle(msg, arrival, on_frame, on_stats)
                    if end is not None:
                        return end
                self._inbox = []
                if self._peer_closed is not None:
                    return self._peer_closed, closed(self._peer_closed)
                now = time.monotonic()
                if now >= next_ping:
                    self.send_control("ping", self.clock.next_ping())
                    next_ping = now + PING_INTERVAL_S
                if now - last_heard > idle_timeout:
                    err = FramewireError(TIMEOUT, f"nothing from {self.url} for {idle_timeout:g} s")
                    self.try_send_control("error", {"code": err.code, "message": err.message})
                    return err.message, err
                if self._closing:
                    return self.closed_reason or "closed", None
                # An SSL socket may hold decrypted bytes that select() cannot see.
                buffered = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0
                if not buffered and not select.select([self.sock], [], [], max(0.0, min(next_ping - now, 0.5)))[0]:
                    continue
                data = self.sock.recv(_READ)
                arrival = now_us()  # one stamp per read: every message in it arrived then
                if not data:
                    if self._closing:
                        return self.closed_reason or "closed", None
                    return "the relay closed the connection", closed(f"{self.url} closed the connection")
                last_heard = time.monotonic()
                self._inbox = self._decode(data)
        except FramewireError as err:
            if self._closing:
                return self.closed_reason or "closed", None
            if err.code == CONNECTION_CLOSED:
                return err.message, err
            self._refuse(err)
            return err.message, err
        except (OSError, ValueError) as err:
            if self._closing:
                return self.closed_reason or "closed", None
            return f"connection error: {err}", closed(f"{self.url}: {err}", err)
        finally:
            self.abort()

    def _handle(self, msg: Message, arrival: int, on_frame: Optional[Callable[[FrameMessage, int], None]],
                on_stats: Optional[Callable[[Dict[str, Any]], None]]) -> Optional[Tuple[str, Optional[FramewireError]]]:
        if isinstance(msg, FrameMessage):
            if on_frame is None:
                raise FramewireError(UNEXPECTED_MESSAGE, "a publisher does not receive frames")
            on_frame(msg, arrival)
            return None
        t, body = msg.type, msg.body
        if t == "ping":
            self.send_control("pong", {"id": body["id"], "t0": body["t0"], "t1": arrival, "t2": now_us()})
        elif t == "pong":
            self.clock.on_pong(body, arrival)
        elif t == "stats":
            if on_stats is not None:
                on_stats(body)
        elif t == "bye":
            return f"relay said bye: {body['reason']}", None
        elif t == "error":
            return f"relay error {body['code']}: {body['message']}", FramewireError(body["code"], body["message"], remote=True)
        else:
            raise FramewireError(UNEXPECTED_MESSAGE, f"unexpected {t} after the handshake")
        return None

    # --- closing ------------------------------------------------------------------------------

    def _refuse(self, err: FramewireError) -> None:
        """The relay broke the protocol: tell it why (section 11) before closing."""
        self.try_send_control("error", {"code": err.code, "message": err.message[:1024]})
        if self._ws:
            self._try_raw(wsproto.encode_close(err.close_code if isinstance(err, wsproto.WsError) else 1008))

    def _try_raw(self, data: bytes) -> None:
        try:
            self._send_raw(data)
        except OSError:
            pass

    def close(self, reason: str = "client closing") -> None:
        """Says bye and closes (the thread in :meth:`serve` sees the end and returns). Idempotent."""
        if self._closing:
            return
        self._closing = True
        self.closed_reason = reason
        # The bye is best-effort: not while another thread's frame write holds the lock for
        # long, and not into a socket the relay stopped reading (that would block for good).
        if self._lock.acquire(timeout=1.0):
            try:
                _, writable, _ = select.select([], [self.sock], [], 1.0)
                if writable:
                    bye = encode_control("bye", {"reason": reason[:1024]})
                    self.sock.sendall(wsproto.encode_frame(wsproto.OP_BINARY, bye) + wsproto.encode_close() if self._ws else bye)
            except (OSError, ValueError):
                pass
            finally:
                self._lock.release()
        try:
            # The plain socket's shutdown: SSLSocket.shutdown would drop the TLS state under a reader thread.
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
        except OSError:
            pass

    def abort(self) -> None:
        """Closes the socket at once, without a bye."""
        self._closing = True
        try:
            # The plain socket's shutdown: SSLSocket.shutdown would drop the TLS state under a reader thread.
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
