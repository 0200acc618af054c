"""A Python publisher of a moving test pattern, for the Node-side interop tests (test/browser/python-publisher.test.ts).

Usage: pattern_publisher.py URL [FPS] [WIDTHxHEIGHT]   (runs until SIGTERM/SIGINT; needs numpy and OpenCV)
Prints one JSON line with the publisher's stats when it stops.
"""
import json
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from framewire import Publisher  # noqa: E402

url = sys.argv[1]
fps = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
width, height = (int(x) for x in (sys.argv[3] if len(sys.argv) > 3 else "320x240").split("x"))
stop = False


def on_signal(*_: object) -> None:
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)
with Publisher(url, fps=fps, width=width, height=height) as pub:
    print(json.dumps({"ready": True, "welcome": pub.welcome}), flush=True)
    i = 0
    next_at = time.monotonic()
    while not stop:
        img = np.zeros((height, width, 3), np.uint8)
        img[:, :, 0] = np.linspace(0, 255, width, dtype=np.uint8)  # a blue ramp
        x = (i * 4) % width
        cv2.rectangle(img, (x, height // 4), (x + width // 8, 3 * height // 4), (0, 220, 255), -1)
        cv2.putText(img, str(i), (8, height - 12), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
        pub.send(img)
        i += 1
        next_at += 1 / fps
        time.sleep(max(0.0, next_at - time.monotonic()))
    print(json.dumps(pub.stats().as_dict()), flush=True)
