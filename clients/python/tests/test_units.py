"""URLs, clock sync, the meter's loss accounting (section 8) and the reconnect backoff."""
from __future__ import annotations

import pytest

from framewire import FramewireError, parse_url
from framewire.clock import ClockSync
from framewire.connection import backoff_s
from framewire.meter import Meter


@pytest.mark.parametrize("url, want", [
    ("tcp://127.0.0.1:7070/cam", ("tcp", "127.0.0.1", 7070, "cam", None, "/ws")),
    ("tcp://example.com/cam?token=T", ("tcp", "example.com", 7070, "cam", "T", "/ws")),
    ("ws://127.0.0.1:8080/cam", ("ws", "127.0.0.1", 8080, "cam", None, "/ws")),
    ("ws://h/video/cam?token=a%20b", ("ws", "h", 8080, "cam", "a b", "/video/ws")),
    ("ws://[::1]:9/a/b/c-1.x", ("ws", "::1", 9, "c-1.x", None, "/a/b/ws")),
    ("tcp://h:1/a%2Db", ("tcp", "h", 1, "a-b", None, "/ws")),
])
def test_urls(url, want):
    u = parse_url(url)
    assert (u.transport, u.host, u.port, u.stream, u.token, u.ws_path) == want
    assert not u.tls


def test_tls_urls():
    t, w = parse_url("tls://h/cam"), parse_url("wss://h/v/cam")
    assert (t.transport, t.tls, t.port, str(t)) == ("tcp", True, 7070, "tls://h:7070/cam")
    assert (w.transport, w.tls, w.port, w.ws_path, str(w)) == ("ws", True, 443, "/v/ws", "wss://h:443/cam")


@pytest.mark.parametrize("url", [
    "http://h/cam", "udp://h/cam", "tcp://h/", "tcp://h/.dot", "tcp://h/a/b",
    "tcp://h:99999/cam", "cam", "tcp://h/" + "x" * 129,
])
def test_bad_urls_are_fw_bad_url(url):
    with pytest.raises(FramewireError) as e:
        parse_url(url)
    assert e.value.code == "FW_BAD_URL"


def test_clock_sync_uses_the_sample_with_the_least_rtt():
    c = ClockSync()
    assert (c.synced, c.offset_us) == (False, 0.0)
    p1 = c.next_ping()
    # Remote clock 1000 µs ahead; 100 µs each way, 10 µs spent answering.
    t0 = p1["t0"]
    assert c.on_pong({"id": p1["id"], "t0": t0, "t1": t0 + 1100, "t2": t0 + 1110}, t0 + 210) == (200, 1000)
    p2 = c.next_ping()
    t0 = p2["t0"]
    # A queued sample (rtt 2000, skewed offset) does not replace the better one.
    c.on_pong({"id": p2["id"], "t0": t0, "t1": t0 + 2900, "t2": t0 + 2900}, t0 + 2000)
    assert (c.offset_us, c.min_rtt_us, c.rtt_us) == (1000, 200, 2000)
    # A pong we never asked for (or with another t0) is ignored.
    assert c.on_pong({"id": 99, "t0": 1, "t1": 1, "t2": 1}, 5) is None


def test_meter_counts_gaps_less_skips_and_resets_on_restart():
    m = Meter()
    for seq in (0, 1, 2, 5, 6):  # two gaps
        m.record(seq, 100, 64, 48, 1_000_000 + seq, 1000.0)
    assert (m.gaps, m.lost) == (2, 2)
    m.skipped = 2  # the relay said it skipped two on purpose
    assert m.lost == 0
    m.reset_sequence()  # a new publisher: its seq restarts
    m.record(0, 100, 64, 48, 1_000_100, 1000.0)
    m.record(1, 100, 64, 48, 1_000_101, 1000.0)
    assert m.gaps == 2
    m.record(0, 100, 64, 48, 1_000_102, 1000.0)  # a jump backwards is a restart, not 2^32-2 lost
    assert m.gaps == 2
    m.record(2**32 - 1, 100, 64, 48, 1_000_103, 1000.0)
    m.record(0, 100, 64, 48, 1_000_104, 1000.0)  # wraps
    assert m.gaps == 2
    fps, kbps, p50, p95 = m.window(1_000_200)
    assert (fps, p50, p95) == (10.0, 1.0, 1.0)


def test_backoff_doubles_to_five_seconds_with_jitter():
    for attempt, base in [(0, 0.25), (1, 0.5), (3, 2.0), (5, 5.0), (50, 5.0)]:
        for _ in range(20):
            assert base * 0.75 <= backoff_s(attempt) <= base * 1.25
