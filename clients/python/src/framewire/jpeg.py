"""JPEG size from the SOF marker: the relay checks a frame's header against it (docs/protocol.md section 10)."""
from __future__ import annotations

from typing import Optional, Tuple, Union

_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def jpeg_size(data: Union[bytes, bytearray, memoryview]) -> Optional[Tuple[int, int]]:
    """(width, height) from a JPEG's SOF marker, or None if ``data`` is not a JPEG with one.

    The relay checks that a frame's header agrees with its SOF (section 10), so
    a publisher sending JPEG bytes takes the size from here.
    """
    n = len(data)
    if n < 4 or data[0] != 0xFF or data[1] != 0xD8:
        return None
    i = 2
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD8 or marker == 0x01 or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = (data[i + 2] << 8) | data[i + 3]
        if length < 2:
            return None
        if marker in _SOF:
            if i + 9 > n:
                return None
            height = (data[i + 5] << 8) | data[i + 6]
            width = (data[i + 7] << 8) | data[i + 8]
            return (width, height) if width and height else None
        if marker == 0xDA or marker == 0xD9:  # scan data or end before any SOF
            return None
        i += 2 + length
    return None
