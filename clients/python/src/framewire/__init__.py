"""framewire for Python: publish and view live video through a framewire relay.

Standard library only; numpy and OpenCV are used when present (``Frame.image``,
``Publisher.send(numpy_image)``)::

    from framewire import Publisher, Viewer

    with Publisher("tcp://127.0.0.1:7070/cam") as pub:
        pub.send(jpeg_bytes_or_bgr_image)

    for frame in Viewer("tcp://127.0.0.1:7070/cam", fps=15):
        print(frame.seq, frame.width, frame.height, frame.latency_ms)
"""
from .errors import FramewireError
from .protocol import Limits, Parser
from .publisher import Publisher, PublisherStats
from .tls import TlsOptions
from .url import StreamUrl, parse_url
from .viewer import Frame, Viewer, ViewerStats

__version__ = "0.1.0"
__all__ = [
    "Frame",
    "FramewireError",
    "Limits",
    "Parser",
    "Publisher",
    "PublisherStats",
    "StreamUrl",
    "TlsOptions",
    "Viewer",
    "ViewerStats",
    "parse_url",
]
