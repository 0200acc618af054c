"""Fixtures: a real framewire relay (``node bin/framewire.js serve`` on free ports) and CLI helpers.

The relay is this checkout's build (``npm run build`` makes dist/); tests
that need it skip, saying so, only where node itself is absent.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import pytest

ROOT = Path(__file__).resolve().parents[3]
BIN = ROOT / "bin" / "framewire.js"
SRC = Path(__file__).resolve().parents[1] / "src"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NODE = shutil.which("node")

sys.path.insert(0, str(SRC))


def wait_until(cond: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """Polls ``cond`` until true; fails the test with ``what`` after ``timeout`` s (a guard, not a measurement)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


class Proc:
    """A child process whose stdout and stderr lines are collected by threads."""

    def __init__(self, args: List[str], env: Optional[Dict[str, str]] = None, cwd: Optional[Path] = None) -> None:
        self.args = args
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                  cwd=str(cwd) if cwd else None, start_new_session=True)
        self.out: List[str] = []
        self.err: List[str] = []
        for stream, sink in ((self.p.stdout, self.out), (self.p.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()

    @staticmethod
    def _pump(stream, sink: List[str]) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            sink.append(line.rstrip("\n"))

    def json_lines(self) -> List[dict]:
        """The stdout lines that are JSON objects."""
        out = []
        for line in list(self.out):
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def wait(self, timeout: float = 30.0) -> int:
        """Waits for exit (killing it after ``timeout`` s); returns the exit code."""
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"{self.args} did not exit: {self.err[-5:]}")
            raise

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(5)


class Relay:
    """``framewire serve`` on 127.0.0.1: TCP and HTTP ports (0 = free ones), restartable on the same ports."""

    LISTENING = re.compile(r"tcp=[^ ]*:(\d+) http=[^ ]*:(\d+)")

    def __init__(self, extra: List[str]) -> None:
        self.extra = extra
        self.tcp = 0
        self.http = 0
        self.proc: Optional[Proc] = None
        self.start()

    def start(self) -> None:
        self.proc = Proc([NODE or "node", str(BIN), "serve", "--tcp", str(self.tcp), "--http", str(self.http), *self.extra])
        deadline = time.monotonic() + 20
        while True:
            for line in self.proc.out:
                m = self.LISTENING.search(line)
                if m:
                    self.tcp, self.http = int(m.group(1)), int(m.group(2))
                    return
            if self.proc.p.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"framewire serve did not start: {self.proc.err[-10:]}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()

    def restart(self) -> None:
        """Stops the relay and starts a new one on the same ports."""
        self.stop()
        self.start()

    def url(self, transport: str, stream: str) -> str:
        return f"tcp://127.0.0.1:{self.tcp}/{stream}" if transport == "tcp" else f"ws://127.0.0.1:{self.http}/{stream}"


def _need_relay() -> None:
    if NODE is None:
        pytest.skip("node is not installed: skipping the tests against a real relay")
    if not (ROOT / "dist" / "src" / "cli" / "main.js").exists():
        pytest.fail("dist/ is missing: run `npm run build` in the repository first (npm test does)")


@pytest.fixture
def relay() -> Iterator[Relay]:
    """A fresh relay for one test."""
    _need_relay()
    r = Relay([])
    yield r
    r.stop()


@pytest.fixture(scope="module")
def shared_relay() -> Iterator[Relay]:
    """One relay for a test module (tests use distinct stream names)."""
    _need_relay()
    r = Relay([])
    yield r
    r.stop()


@pytest.fixture
def token_relay() -> Iterator[Relay]:
    """A relay that needs the token ``py-secret``."""
    _need_relay()
    r = Relay(["--token", "py-secret"])
    yield r
    r.stop()


@pytest.fixture
def cli() -> Iterator[Callable[..., Proc]]:
    """Runs ``framewire ARGS``; every process it started is stopped after the test."""
    procs: List[Proc] = []

    def run(*args: str) -> Proc:
        p = Proc([NODE or "node", str(BIN), *args])
        procs.append(p)
        return p

    yield run
    for p in procs:
        p.kill()


def has_cv2() -> bool:
    try:
        import cv2  # noqa: F401
        import numpy  # noqa: F401

        return True
    except ImportError:
        return False


needs_cv2 = pytest.mark.skipif(not has_cv2(), reason="numpy/OpenCV are not installed (apt install python3-opencv)")

__all__ = ["EXAMPLES", "ROOT", "SRC", "Proc", "Relay", "needs_cv2", "wait_until", "os"]
