"""tls:// and wss:// against ``framewire serve --tls-self-signed`` (needs openssl, as serve does)."""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Iterator, Tuple

import pytest
from conftest import Relay, _need_relay

from framewire import FramewireError, Publisher, TlsOptions, Viewer
from framewire.tls import normalize_fingerprint

JPEG = (Path(__file__).parent / "data" / "64x48.jpg").read_bytes()
pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed (serve --tls-self-signed needs it)")


@pytest.fixture(scope="module")
def tls_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Relay, str, str]]:
    """A TLS relay with a fresh self-signed certificate: (relay, its fingerprint, its cert.pem path)."""
    _need_relay()
    r = Relay(["--tls-self-signed", "--tls-dir", str(tmp_path_factory.mktemp("tls"))])
    deadline = time.monotonic() + 20
    fp = cert = None
    while fp is None or cert is None:
        for line in list(r.proc.out if r.proc else []):
            m = re.search(r"sha256:\s+([0-9A-F:]{95})", line)
            fp = m.group(1) if m else fp
            m = re.search(r"certificate (\S+\.pem)", line)
            cert = m.group(1) if m else cert
        if time.monotonic() > deadline:
            pytest.fail("serve printed no fingerprint")
        time.sleep(0.02)
    yield r, fp, cert
    r.stop()


def tls_url(r: Relay, scheme: str, stream: str) -> str:
    return f"tls://127.0.0.1:{r.tcp}/{stream}" if scheme == "tls" else f"wss://127.0.0.1:{r.http}/{stream}"


def test_pinned_and_ca_and_insecure_all_carry_frames(tls_relay):
    r, fp, cert = tls_relay
    with Publisher(tls_url(r, "wss", "cam"), tls=TlsOptions(insecure=True)) as pub:
        with Viewer(tls_url(r, "tls", "cam"), tls=TlsOptions(fingerprint=fp.replace(":", "").lower())) as pinned, \
                Viewer(tls_url(r, "wss", "cam"), tls=TlsOptions(ca=cert)) as by_ca:
            deadline = time.monotonic() + 20
            while not (pinned.connected and by_ca.connected):
                assert time.monotonic() < deadline, (pinned.error, by_ca.error)
                time.sleep(0.02)
            pub.send(JPEG)
            for v in (pinned, by_ca):
                f = v.read(timeout=20)
                assert f is not None and f.data == JPEG
                assert v.stats().frames_lost == 0


@pytest.mark.parametrize("scheme", ["tls", "wss"])
def test_an_untrusted_or_wrong_certificate_is_fw_tls_and_fatal(tls_relay, scheme: str):
    r, fp, _ = tls_relay
    wrong = "AA:" + fp[3:] if not fp.startswith("AA") else "BB:" + fp[3:]
    for tls in (None, TlsOptions(fingerprint=wrong)):
        with pytest.raises(FramewireError) as e:
            Publisher(tls_url(r, scheme, "cam2"), tls=tls)
        assert e.value.code == "FW_TLS"
        v = Viewer(tls_url(r, scheme, "cam2"), tls=tls)
        with pytest.raises(FramewireError) as e:
            next(iter(v))  # FW_TLS stops the viewer: reconnecting cannot help
        assert e.value.code == "FW_TLS" and v.stats().connects == 0
        v.close()


def test_tls_to_a_plain_port_is_fw_tls(shared_relay: Relay):
    with pytest.raises(FramewireError) as e:
        Publisher(f"tls://127.0.0.1:{shared_relay.tcp}/cam", tls=TlsOptions(insecure=True), timeout=5)
    assert e.value.code in ("FW_TLS", "FW_CONNECTION_CLOSED")


def test_options_checks():
    with pytest.raises(FramewireError) as e:
        Viewer("tcp://127.0.0.1:1/cam", tls=TlsOptions(insecure=True))
    assert e.value.code == "FW_BAD_URL"
    assert normalize_fingerprint("sha256: " + "ab" * 32) == ":".join(["AB"] * 32)
    for bad in ("abc", "zz" * 32):
        with pytest.raises(FramewireError) as e:
            normalize_fingerprint(bad)
        assert e.value.code == "FW_BAD_OPTION"
