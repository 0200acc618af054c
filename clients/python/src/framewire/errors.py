"""One error family with stable codes, as in the Node library (src/errors.ts).

Tests and callers look at ``err.code``, never at the message.
"""
from __future__ import annotations

from typing import Optional

BAD_MAGIC = "FW_BAD_MAGIC"
BAD_VERSION = "FW_BAD_VERSION"
BAD_HEADER = "FW_BAD_HEADER"
FRAME_TOO_LARGE = "FW_FRAME_TOO_LARGE"
CONTROL_TOO_LARGE = "FW_CONTROL_TOO_LARGE"
BAD_MESSAGE = "FW_BAD_MESSAGE"
UNEXPECTED_MESSAGE = "FW_UNEXPECTED_MESSAGE"
HANDSHAKE_TIMEOUT = "FW_HANDSHAKE_TIMEOUT"
UNAUTHORIZED = "FW_UNAUTHORIZED"
STREAM_BUSY = "FW_STREAM_BUSY"
TOO_MANY_CLIENTS = "FW_TOO_MANY_CLIENTS"
TIMEOUT = "FW_TIMEOUT"
BAD_FRAME = "FW_BAD_FRAME"
OVERLOADED = "FW_OVERLOADED"
TLS = "FW_TLS"
BAD_URL = "FW_BAD_URL"
BAD_OPTION = "FW_BAD_OPTION"
CONNECTION_CLOSED = "FW_CONNECTION_CLOSED"
ABORTED = "FW_ABORTED"

#: Codes after which a viewer does not reconnect (src/client/subscribe.ts).
VIEWER_FATAL = frozenset({UNAUTHORIZED, TLS, BAD_URL, BAD_MESSAGE, BAD_VERSION})
#: Codes after which a publisher does not reconnect (src/client/publish.ts).
PUBLISHER_FATAL = frozenset({UNAUTHORIZED, TLS, STREAM_BUSY, BAD_URL, BAD_VERSION, BAD_MESSAGE, BAD_FRAME})


class FramewireError(Exception):
    """An error with a stable machine-readable ``code`` (e.g. ``FW_UNAUTHORIZED``).

    ``code`` is kept exactly as a relay sent it, even when this client does
    not know it; ``message`` is for humans and may change between releases.
    """

    def __init__(self, code: str, message: str, *, remote: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.code: str = code
        self.message: str = message
        #: True when the relay sent this error (an ``error`` message), False when this side found it.
        self.remote: bool = remote

    @property
    def fatal_for_viewer(self) -> bool:
        """Reconnecting cannot help a viewer after this error."""
        return self.code in VIEWER_FATAL

    @property
    def fatal_for_publisher(self) -> bool:
        """Reconnecting cannot help a publisher after this error."""
        return self.code in PUBLISHER_FATAL


def closed(message: str, cause: Optional[BaseException] = None) -> FramewireError:
    """An ``FW_CONNECTION_CLOSED`` error, chained to ``cause`` when given."""
    err = FramewireError(CONNECTION_CLOSED, message)
    if cause is not None:
        err.__cause__ = cause
    return err
