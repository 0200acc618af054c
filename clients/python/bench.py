"""Figures for the Python client against a real relay (loopback), printed as a table.

Usage (from the repository root, after ``npm run build``)::

    /usr/bin/python3 clients/python/bench.py [SECONDS]

Rows: the Python viewer of a Node publisher (``framewire publish``, test
pattern) at 30 fps and unthrottled, over TCP and WebSocket; and a Python
publisher sending as fast as it can to a Python viewer. Latency is capture →
arrival, clock-offset corrected (docs/protocol.md section 7).
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "src"))
sys.path.insert(0, str(HERE / "tests"))

from conftest import BIN, NODE, Relay  # noqa: E402

from framewire import Publisher, Viewer  # noqa: E402


def watch(url: str, seconds: float) -> Dict[str, float]:
    """Views ``url`` for ``seconds`` after the first frame; returns fps, latency percentiles and counts."""
    lat: List[float] = []
    with Viewer(url, queue_size=64) as v:
        first = v.read(timeout=30)
        assert first is not None, "no frame"
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < seconds:
            f = v.read(timeout=5)
            if f is None:
                break
            n += 1
            if v.stats().offset_ms is not None:
                lat.append(f.latency_ms)
        elapsed = time.monotonic() - start
        st = v.stats()
    lat.sort()
    return {
        "fps": n / elapsed,
        "p50": statistics.median(lat) if lat else float("nan"),
        "p95": lat[int(len(lat) * 0.95) - 1] if lat else float("nan"),
        "lost": st.frames_lost, "skipped": st.frames_skipped, "dropped": st.frames_dropped,
    }


def node_publisher_rows(relay: Relay, seconds: float) -> List[List[str]]:
    rows = []
    for size, fps in (("640x360", "30"), ("1280x720", "30"), ("640x360", "max")):
        for transport in ("tcp", "ws"):
            stream = f"b-{size}-{fps}-{transport}"
            args = [NODE or "node", str(BIN), "publish", relay.url("tcp", stream), "--size", size]
            args += ["--as-fast-as-possible"] if fps == "max" else ["--fps", fps]
            pub = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                r = watch(relay.url(transport, stream), seconds)
            finally:
                pub.terminate()
                pub.wait(10)
            rows.append([f"node publish {size} @{fps} → python viewer", transport, f"{r['fps']:.1f}",
                         f"{r['p50']:.2f}", f"{r['p95']:.2f}", str(r["lost"]), str(r["skipped"]), str(r["dropped"])])
    return rows


def python_publisher_rows(relay: Relay, seconds: float) -> List[List[str]]:
    import cv2
    import numpy as np

    img = np.random.default_rng(1).integers(0, 255, (360, 640, 3), dtype=np.uint8)
    img = cv2.GaussianBlur(img, (9, 9), 0)  # camera-like: about 60 KB at quality 80
    rows = []
    for transport in ("tcp", "ws"):
        stream = f"b-pypub-{transport}"
        with Publisher(relay.url(transport, stream)) as pub:
            stop = threading.Event()

            def pump() -> None:
                while not stop.is_set():
                    pub.send(img)  # encoded each time, as a camera frame would be

            t = threading.Thread(target=pump)
            t.start()
            try:
                result = watch(relay.url(transport, stream), seconds)
            finally:
                stop.set()
                t.join()
            ps = pub.stats()
        rows.append(["python publish 640x360 @max (cv2 encode) → python viewer", transport, f"{result['fps']:.1f}",
                     f"{result['p50']:.2f}", f"{result['p95']:.2f}", str(result["lost"]), str(result["skipped"]),
                     f"{result['dropped']} (pub dropped {ps.frames_dropped})"])
    return rows


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    relay = Relay([])
    try:
        rows = node_publisher_rows(relay, seconds) + python_publisher_rows(relay, seconds)
    finally:
        relay.stop()
    head = ["case", "transport", "fps", "latency p50 ms", "p95 ms", "lost", "relay skipped", "viewer dropped"]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    for r in [head, ["-" * w for w in widths]] + rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
