"""Acceptance: ``pip install ./clients/python`` in a fresh venv, then the examples work against ``framewire serve``."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, Proc, Relay, needs_cv2

PACKAGE = Path(__file__).resolve().parents[1]


def _venv_works() -> bool:
    try:
        import ensurepip  # noqa: F401
        import venv  # noqa: F401

        return True
    except ImportError:
        return False


@pytest.mark.skipif(not _venv_works(), reason="venv/ensurepip are not installed (apt install python3-venv)")
@needs_cv2
def test_fresh_venv_install_and_the_examples(tmp_path: Path, relay: Relay):
    env_dir = tmp_path / "venv"
    # --system-site-packages: the distribution's OpenCV and numpy (python3-opencv), as on a Debian desktop;
    # framewire itself comes only from the pip install below.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(env_dir)], check=True, timeout=120)
    py = env_dir / "bin" / "python"
    # Offline on purpose (CI reaches no Python package index): the build backend is the
    # distribution's setuptools + wheel (python3-setuptools, python3-wheel), seen through
    # --system-site-packages. With an index, a plain `pip install ./clients/python` does the same.
    done = subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-index", "--no-build-isolation", str(PACKAGE)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    where = subprocess.run([str(py), "-c", "import framewire; print(framewire.__file__)"],
                           capture_output=True, text=True, check=True, cwd=str(tmp_path))
    assert where.stdout.strip().startswith(str(env_dir)), where.stdout

    import cv2
    import numpy as np

    video = tmp_path / "clip.avi"
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30, (320, 240))
    for i in range(90):
        img = np.zeros((240, 320, 3), np.uint8)
        cv2.rectangle(img, (i * 3, 60), (i * 3 + 40, 180), (0, 200, 255), -1)
        out.write(img)
    out.release()

    url = relay.url("tcp", "cam")
    viewer = Proc([str(py), str(EXAMPLES / "viewer.py"), relay.url("ws", "cam"), "30"], cwd=tmp_path)
    publisher = Proc([str(py), str(EXAMPLES / "publisher.py"), url, str(video)], cwd=tmp_path)
    assert viewer.wait(60) == 0, viewer.err
    assert publisher.wait(60) == 0, publisher.err
    lines = [line.split() for line in viewer.out]
    assert len(lines) == 30, viewer.out
    assert {parts[1] for parts in lines} == {"320x240"}
    seqs = [int(parts[0]) for parts in lines]
    assert all(b > a for a, b in zip(seqs, seqs[1:]))
