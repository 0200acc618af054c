"""The seed tutorials' display side, with framewire: python3 viewer.py [URL] [FRAMES] [--show]"""
import sys
from framewire import Viewer

url = sys.argv[1] if len(sys.argv) > 1 else "tcp://127.0.0.1:7070/cam"
frames = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 0  # 0: forever
with Viewer(url) as viewer:
    for n, frame in enumerate(viewer, 1):
        print(frame.seq, f"{frame.width}x{frame.height}", f"{frame.latency_ms:.1f} ms", flush=True)
        if "--show" in sys.argv and frame.image is not None:  # needs OpenCV and a display
            import cv2; cv2.imshow(url, frame.image); cv2.waitKey(1)
        if n == frames:
            break
