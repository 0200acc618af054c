"""Optional numpy/OpenCV glue, imported lazily: the client itself needs neither."""
from __future__ import annotations

from typing import Any, Optional, Tuple

from .errors import BAD_OPTION, FramewireError
from .protocol import jpeg_size

_cv2: Any = None
_tried = False


def cv2_module() -> Any:
    """OpenCV (``cv2``) if it can be imported, else None. Tried once."""
    global _cv2, _tried
    if not _tried:
        _tried = True
        try:
            import cv2

            _cv2 = cv2
        except ImportError:
            _cv2 = None
    return _cv2


def decode_jpeg(data: bytes) -> Any:
    """A numpy BGR array from JPEG bytes, or None where numpy/OpenCV are absent or the bytes do not decode."""
    cv2 = cv2_module()
    if cv2 is None:
        return None
    import numpy as np

    return cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)


def to_jpeg(frame: Any, quality: int) -> Tuple[bytes, int, int]:
    """(JPEG bytes, width, height) from JPEG bytes or a numpy BGR (or gray) image."""
    if isinstance(frame, (bytes, bytearray, memoryview)):
        data = bytes(frame)
        size = jpeg_size(data)
        if size is None:
            raise FramewireError(BAD_OPTION, "send() takes a JPEG (bytes starting FF D8 with a SOF marker) or a numpy image")
        return data, size[0], size[1]
    shape: Optional[Tuple[int, ...]] = getattr(frame, "shape", None)
    if shape is None or len(shape) not in (2, 3):
        raise FramewireError(BAD_OPTION, f"send() takes JPEG bytes or a numpy BGR image, not {type(frame).__name__}")
    cv2 = cv2_module()
    if cv2 is None:
        raise FramewireError(BAD_OPTION, "sending numpy images needs OpenCV (pip install opencv-python-headless, or apt install python3-opencv); or send JPEG bytes")
    ok, buf = cv2.imencode(".jpg", frame, [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
    if not ok:
        raise FramewireError(BAD_OPTION, "cv2.imencode could not encode the image")
    return buf.tobytes(), int(shape[1]), int(shape[0])
