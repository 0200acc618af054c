"""Against a real relay: Node publisher → Python viewer, Python publisher → Node viewer, TCP and WebSocket.

No assertion depends on timing: tests wait for counts and outcomes (with a
deadline that only guards against a hang).
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import List

import pytest
from conftest import Relay, has_cv2, needs_cv2, wait_until

from framewire import Frame, FramewireError, Publisher, Viewer
from framewire.protocol import encode_control, encode_frame_header

JPEG = (Path(__file__).parent / "data" / "64x48.jpg").read_bytes()
TRANSPORTS = ["tcp", "ws"]


def take(viewer: Viewer, n: int, timeout: float = 20.0) -> List[Frame]:
    """The next ``n`` frames (fails the test if they do not come within ``timeout``)."""
    out: List[Frame] = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        f = viewer.read(timeout=max(0.0, deadline - time.monotonic()))
        if f is None:
            pytest.fail(f"got {len(out)} of {n} frames; stats {viewer.stats()}")
        out.append(f)
    return out


def last_json(proc) -> dict:
    lines = proc.json_lines()
    return lines[-1] if lines else {}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_python_viewer_watches_a_node_publisher(shared_relay: Relay, cli, transport: str):
    stream = f"node-pub-{transport}"
    cli("publish", shared_relay.url("tcp", stream), "--size", "320x240", "--fps", "30")
    with Viewer(shared_relay.url(transport, stream)) as v:
        frames = take(v, 45)
        wait_until(lambda: v.stats().latency_p50_ms is not None, "a latency figure (needs the first pong)")
        st = v.stats()
        seqs = [f.seq for f in frames]
        assert all(b > a for a, b in zip(seqs, seqs[1:])), seqs
        assert {(f.width, f.height, f.codec, f.key) for f in frames} == {(320, 240, "jpeg", True)}
        assert all(f.data[:2] == b"\xff\xd8" and f.data[-2:] == b"\xff\xd9" for f in frames)
        assert st.frames_lost == 0
        assert st.connected and st.live and st.connects == 1
        assert st.rtt_ms is not None and st.offset_ms is not None
        assert (st.width, st.height) == (320, 240)
        if has_cv2():
            assert frames[-1].image.shape == (240, 320, 3)
        else:
            assert frames[-1].image is None
        print(f"\n# python viewer ({transport}) of a node publisher: {st.as_dict()}")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_node_viewer_watches_a_python_publisher(shared_relay: Relay, cli, transport: str):
    stream = f"py-pub-{transport}"
    url = shared_relay.url(transport, stream)
    view = cli("view", shared_relay.url("ws" if transport == "tcp" else "tcp", stream), "--json")
    wait_until(lambda: any("connected to" in line for line in view.err), "the node viewer's welcome")
    sent = 60
    with Publisher(url, fps=30) as pub:
        assert pub.welcome["role"] == "publish"
        for i in range(sent):
            if has_cv2():
                import numpy as np

                img = np.full((120, 160, 3), (i * 4) % 256, np.uint8)
                pub.send(img)
            else:
                pub.send(JPEG)
            time.sleep(1 / 30)  # a camera's pace
        wait_until(lambda: pub.stats().frames_sent + pub.stats().frames_dropped == sent, "the publisher's slot to empty")
        st = pub.stats()
        wait_until(lambda: last_json(view).get("framesReceived", 0) + last_json(view).get("framesSkipped", 0) >= st.frames_sent,
                   "the node viewer to count every frame sent")
    got = last_json(view)
    assert got["framesLost"] == 0
    assert (got["width"], got["height"]) == ((160, 120) if has_cv2() else (64, 48))
    assert got["framesReceived"] + got["framesSkipped"] == st.frames_sent
    print(f"\n# node viewer ({transport}) of a python publisher: {got}")


def test_tokens_and_fatal_codes(token_relay: Relay):
    for transport in TRANSPORTS:
        with pytest.raises(FramewireError) as e:
            Publisher(token_relay.url(transport, "cam"), token="wrong")
        assert e.value.code == "FW_UNAUTHORIZED" and e.value.remote
        v = Viewer(token_relay.url(transport, "cam") + "?token=wrong")
        with pytest.raises(FramewireError) as e:
            next(iter(v))  # a fatal code ends iteration with the error, no reconnect
        assert e.value.code == "FW_UNAUTHORIZED"
        assert v.stats().connects == 0
        v.close()
    with Publisher(token_relay.url("tcp", "cam") + "?token=py-secret") as pub, \
            Viewer(token_relay.url("ws", "cam"), token="py-secret") as v:
        wait_until(lambda: v.connected, "the viewer's welcome")
        pub.send(JPEG)
        assert take(v, 1)[0].data == JPEG
        with pytest.raises(FramewireError) as e:
            Publisher(token_relay.url("ws", "cam"), token="py-secret")
        assert e.value.code == "FW_STREAM_BUSY"


def test_fps_cap_skips_on_purpose_and_loses_nothing(shared_relay: Relay, cli):
    stream = "capped"
    cli("publish", shared_relay.url("tcp", stream), "--size", "160x120", "--fps", "30")
    with Viewer(shared_relay.url("tcp", stream), fps=5) as v:
        take(v, 8)
        assert v.welcome is not None and v.welcome["granted"]["fps"] == 5
        st = v.stats()
        assert st.frames_skipped > 0
        assert st.frames_lost == 0


def test_a_slow_consumer_drops_locally_not_on_the_wire(shared_relay: Relay, cli):
    stream = "slow-consumer"
    cli("publish", shared_relay.url("tcp", stream), "--size", "160x120", "--fps", "30")
    with Viewer(shared_relay.url("tcp", stream), queue_size=2) as v:
        for _ in range(8):
            take(v, 1)
            time.sleep(0.2)  # the consumer is slower than the stream: that is the case under test
        st = v.stats()
        assert st.frames_dropped > 0
        assert st.frames_lost == 0


def test_publisher_latest_frame_wins_when_the_caller_outruns_the_link(shared_relay: Relay):
    stream = "outrun"
    big = JPEG[:-2] + bytes(200_000) + b"\xff\xd9"  # a big frame (padding before EOI), so the link is the bottleneck
    with Viewer(shared_relay.url("tcp", stream)) as v:
        wait_until(lambda: v.connected, "the viewer's welcome")
        with Publisher(shared_relay.url("tcp", stream)) as pub:
            for _ in range(300):
                pub.send(big)  # no pause: faster than any socket
            wait_until(lambda: pub.stats().frames_sent + pub.stats().frames_dropped == 300, "the slot to empty")
            st = pub.stats()
            assert st.frames_dropped > 0, st
            wait_until(lambda: v.stats().frames_received + v.stats().frames_skipped >= st.frames_sent, "the viewer to see them")
        vs = v.stats()
        assert vs.frames_lost == 0
        assert vs.frames_received + vs.frames_skipped == st.frames_sent


def test_section_8_a_new_publisher_restarts_the_sequence(shared_relay: Relay):
    """A new publisher's seq starts anywhere; the viewer must not count the jump as loss."""
    import socket

    stream = "restart-seq"
    with Viewer(shared_relay.url("tcp", stream)) as v:
        wait_until(lambda: v.connected, "the viewer's welcome")
        with Publisher(shared_relay.url("tcp", stream)) as pub:
            for _ in range(5):
                pub.send(JPEG)
                take(v, 1)
        wait_until(lambda: not v.live, "the relay to say the publisher left")
        # A second publisher (raw bytes) whose seq starts at 1000.
        s = socket.create_connection(("127.0.0.1", shared_relay.tcp))
        s.sendall(encode_control("hello", {"role": "publish", "stream": stream}))
        frames = []
        for i in range(5):  # one at a time, so the relay has no cause to skip any
            s.sendall(encode_frame_header(1000 + i, time.time_ns() // 1000, 64, 48, len(JPEG)) + JPEG)
            frames += take(v, 1)
        s.sendall(encode_control("bye", {"reason": "done"}))
        s.close()
        assert [f.seq for f in frames] == [1000, 1001, 1002, 1003, 1004]
        assert v.stats().frames_lost == 0
        assert v.stats().frames_received == 10


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_reconnect_after_the_relay_restarts(relay: Relay, transport: str):
    stream = "phoenix"
    stop = threading.Event()
    with Viewer(relay.url(transport, stream)) as v, Publisher(relay.url(transport, stream)) as pub:
        def pump() -> None:
            while not stop.is_set():
                pub.send(JPEG)
                time.sleep(0.02)

        t = threading.Thread(target=pump, daemon=True)
        t.start()
        try:
            take(v, 10)
            relay.restart()
            wait_until(lambda: v.stats().connects >= 2 and pub.stats().connects >= 2, "both to reconnect", timeout=30)
            before = v.stats().frames_received
            wait_until(lambda: v.stats().frames_received >= before + 10, "frames through the new relay", timeout=30)
            take(v, 1)
        finally:
            stop.set()
            t.join()
        assert v.stats().frames_lost == 0
        assert pub.error is None


@needs_cv2
def test_send_encodes_numpy_images_at_the_quality_asked(shared_relay: Relay):
    import numpy as np

    stream = "numpy"
    with Viewer(shared_relay.url("tcp", stream)) as v:
        wait_until(lambda: v.connected, "the viewer's welcome")
        with Publisher(shared_relay.url("tcp", stream), quality=90) as pub:
            img = np.zeros((90, 120, 3), np.uint8)
            img[:, :, 2] = 255  # red, in BGR
            pub.send(img)
            f = take(v, 1)[0]
        assert (f.width, f.height) == (120, 90)
        b, g, r = (int(c) for c in f.image[45, 60])
        assert r > 200 and g < 50 and b < 50


def test_standard_library_only_without_numpy_or_opencv(shared_relay: Relay, cli):
    """``python -S`` (no site-packages: no numpy, no OpenCV): frames come with .image None, and JPEG bytes publish."""
    import subprocess
    import sys

    from conftest import SRC

    stream = "stdlib-only"
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from framewire import Publisher, Viewer, FramewireError\n"
        "try:\n"
        "    import numpy\n"
        "    print('numpy importable'); sys.exit(3)\n"
        "except ImportError: pass\n"
        "import time\n"
        "v = Viewer(sys.argv[2])\n"
        "while not v.connected: time.sleep(0.01)\n"
        "p = Publisher(sys.argv[3])\n"
        "p.send(open(sys.argv[4], 'rb').read())\n"
        "f = v.read(timeout=20)\n"
        "try:\n"
        "    p.send([[0, 0, 0]])\n"
        "except FramewireError as e:\n"
        "    print(e.code)\n"
        "print(f.image is None, f.width, f.height, f.data[:2].hex())\n"
        "p.close(); v.close()\n"
    )
    done = subprocess.run([sys.executable, "-S", "-c", script, str(SRC), shared_relay.url("ws", stream),
                           shared_relay.url("tcp", stream), str(Path(__file__).parent / "data" / "64x48.jpg")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.split("\n")[:2] == ["FW_BAD_OPTION", "True 64 48 ffd8"]
