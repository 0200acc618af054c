"""Clocks and clock sync (docs/protocol.md section 7), as src/protocol/clock-sync.ts does it."""
from __future__ import annotations

import time
from collections import deque
from typing import Deque, Dict, Optional, Tuple


def now_us() -> int:
    """Wall clock in µs since the Unix epoch: the clock frames are stamped with."""
    return time.time_ns() // 1000


class ClockSync:
    """Round-trip time and clock offset from ping/pong, NTP style.

    With t0 (ping sent, local), t1 (ping received, remote), t2 (pong sent,
    remote) and t3 (pong received, local)::

        rtt    = (t3 - t0) - (t2 - t1)          (clamped at 0)
        offset = ((t1 - t0) + (t2 - t3)) / 2    (remote clock minus local clock)

    The offset in use is that of the sample with the smallest RTT among the
    last ``window`` (64, about a minute, as the reference: NTP's clock
    filter): the direction a video stream fills queues far more than the
    other, and a short window would end up holding only queued samples.
    """

    def __init__(self, window: int = 64) -> None:
        self._samples: Deque[Tuple[float, float]] = deque(maxlen=window)  # (rtt, offset)
        self._next_id = 1
        self._sent: Dict[int, int] = {}

    def next_ping(self) -> Dict[str, int]:
        """The body of a ping to send now (remembers its id, at most 8 outstanding)."""
        ping_id = self._next_id
        self._next_id += 1
        t0 = now_us()
        self._sent[ping_id] = t0
        if len(self._sent) > 8:
            del self._sent[min(self._sent)]
        return {"id": ping_id, "t0": t0}

    def on_pong(self, body: Dict[str, float], t3: int) -> Optional[Tuple[float, float]]:
        """Records a pong received at local time ``t3``; returns (rtt, offset) or None for a pong we did not ask for."""
        if self._sent.pop(int(body["id"]), None) != body["t0"]:
            return None
        t0, t1, t2 = body["t0"], body["t1"], body["t2"]
        sample = (max(0.0, (t3 - t0) - (t2 - t1)), ((t1 - t0) + (t2 - t3)) / 2)
        self._samples.append(sample)
        return sample

    @property
    def synced(self) -> bool:
        """True once a pong has been measured."""
        return bool(self._samples)

    @property
    def offset_us(self) -> float:
        """Remote clock minus local clock, µs (0 before the first sample)."""
        return min(self._samples)[1] if self._samples else 0.0

    @property
    def rtt_us(self) -> float:
        """Latest round-trip time, µs (0 before the first sample)."""
        return self._samples[-1][0] if self._samples else 0.0

    @property
    def min_rtt_us(self) -> float:
        """Smallest recent round-trip time, µs (0 before the first sample)."""
        return min(self._samples)[0] if self._samples else 0.0
