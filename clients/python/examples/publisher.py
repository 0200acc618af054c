"""The seed tutorials' camera side, with framewire: python3 publisher.py [URL] [CAMERA_NUMBER|VIDEO_FILE]"""
import sys, time
import cv2
from framewire import Publisher

url = sys.argv[1] if len(sys.argv) > 1 else "tcp://127.0.0.1:7070/cam"
source = sys.argv[2] if len(sys.argv) > 2 else "0"
cap = cv2.VideoCapture(int(source) if source.isdigit() else source)
fps = cap.get(cv2.CAP_PROP_FPS) or 30
with Publisher(url, fps=fps) as pub:
    ok, image = cap.read()
    while ok:
        pub.send(image)  # a BGR image, JPEG-encoded; if the link is slower, the newest frame wins
        time.sleep(0 if source.isdigit() else 1 / fps)  # a camera paces itself, a file is paced here
        ok, image = cap.read()
