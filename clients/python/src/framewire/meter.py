"""The stats meter (src/frame/meter.ts): frames, bytes, sequence gaps and latency over a window."""
from __future__ import annotations

import math
from collections import deque
from typing import Deque, List, Optional, Tuple

#: Arrivals kept: enough for a 1 s window up to 2048 fps; memory is fixed.
CAPACITY = 2048
_U32 = 2**32


def percentile(sorted_values: List[float], p: float) -> float:
    """Nearest-rank percentile of a sorted list."""
    i = min(len(sorted_values) - 1, max(0, math.ceil(p * len(sorted_values)) - 1))
    return sorted_values[i]


class Meter:
    """Counts frames and sequence gaps; keeps the last CAPACITY arrivals for windowed fps, kbps and latency.

    Loss follows docs/protocol.md section 8: ``lost = gaps - skipped``, where
    gaps are summed over consecutive received frames and ``skipped`` is what
    the relay said it skipped on purpose. :meth:`reset_sequence` forgets the
    previous seq (a publisher left or came back: section 8's reset rule), and a
    jump backwards (or of 2^31 or more) is a restart, not loss.
    """

    def __init__(self) -> None:
        self._arrivals: Deque[Tuple[int, int, float]] = deque(maxlen=CAPACITY)  # (arrival µs, bytes, latency µs)
        self._expected: Optional[int] = None
        self.gaps = 0
        self.skipped = 0
        self.dropped = 0
        self.received = 0
        self.width = 0
        self.height = 0

    def record(self, seq: int, size: int, width: int, height: int, arrival_us: int, latency_us: float) -> None:
        """Records a frame arriving at ``arrival_us`` with its end-to-end latency (NaN if unknown)."""
        self.received += 1
        self.width, self.height = width, height
        if self._expected is not None:
            gap = (seq - self._expected) % _U32
            if 0 < gap < 2**31:
                self.gaps += gap
        self._expected = (seq + 1) % _U32
        self._arrivals.append((arrival_us, size, latency_us))

    def reset_sequence(self) -> None:
        """The sender restarted its sequence: do not count the next jump as a gap."""
        self._expected = None

    @property
    def lost(self) -> int:
        """Frames that never arrived and nobody chose to skip."""
        return max(0, self.gaps - self.skipped)

    def window(self, now_us: int, window_us: int = 1_000_000) -> Tuple[float, float, Optional[float], Optional[float]]:
        """(fps, kbps, latency p50 ms, latency p95 ms) over the window ending at ``now_us``."""
        since = now_us - window_us
        frames, size, lat = 0, 0, []
        for at, n, latency in reversed(self._arrivals):
            if at <= since:
                break
            frames += 1
            size += n
            if latency == latency:  # not NaN
                lat.append(latency)
        lat.sort()
        seconds = window_us / 1e6
        p50 = round(percentile(lat, 0.5) / 1000, 2) if lat else None
        p95 = round(percentile(lat, 0.95) / 1000, 2) if lat else None
        return round(frames / seconds, 1), round(size * 8 / 1000 / seconds), p50, p95
