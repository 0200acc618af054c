"""TLS for ``tls://`` and ``wss://`` (docs/protocol.md section 2), on the standard ssl module.

The relay's certificate is checked before the first byte of framewire (the
hello and its token) is written: against the system's CAs (or ``ca``) and the
host name, or by its SHA-256 ``fingerprint`` (a pin: the chain is then not
checked, but the fingerprint must match exactly), or not at all
(``insecure``). A failed check is FW_TLS, as in the Node client.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import ssl
from dataclasses import dataclass
from typing import Optional

from .errors import BAD_OPTION, CONNECTION_CLOSED, TLS, FramewireError

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class TlsOptions:
    """How a client checks the relay's certificate (default: the system's CAs and the host name)."""

    #: Trust this CA (or this very certificate, for a self-signed relay): a PEM file path or PEM text.
    ca: Optional[str] = None
    #: Pin the certificate by its SHA-256 fingerprint (colon-hex as ``framewire serve`` prints it, or plain hex).
    fingerprint: Optional[str] = None
    #: Check nothing (traffic is still encrypted, but anyone on the path can pose as the relay). Tests only.
    insecure: bool = False
    #: Name for SNI and the name check, when it differs from the URL's host.
    server_hostname: Optional[str] = None


def normalize_fingerprint(text: str) -> str:
    """``AB:CD:…`` (upper-case colon-hex) from colon-hex or plain hex, optionally prefixed ``sha256:``."""
    hexed = re.sub(r"^sha-?256\s*(fingerprint)?\s*[:=]\s*", "", text.strip(), flags=re.I)
    hexed = re.sub(r"[:\s]", "", hexed).lower()
    if not _HEX64.fullmatch(hexed):
        raise FramewireError(BAD_OPTION, f'"{text}" is not a SHA-256 fingerprint: expected 64 hex digits, colon-separated or not')
    return ":".join(hexed[i:i + 2] for i in range(0, 64, 2)).upper()


def _context(o: TlsOptions) -> ssl.SSLContext:
    if o.insecure and o.fingerprint is not None:
        raise FramewireError(BAD_OPTION, "give a fingerprint or insecure, not both: a pinned certificate is already checked")
    if o.fingerprint is not None or o.insecure:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif o.ca is not None:
        pem = o.ca if "-----BEGIN" in o.ca else None
        ctx = ssl.create_default_context(cafile=None if pem else o.ca, cadata=pem)
    else:
        ctx = ssl.create_default_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def wrap(sock: socket.socket, host: str, options: TlsOptions, timeout: float) -> ssl.SSLSocket:
    """Does the TLS handshake on a connected socket and checks the certificate; raises FW_TLS if it fails."""
    pin = normalize_fingerprint(options.fingerprint) if options.fingerprint is not None else None
    ctx = _context(options)
    name = options.server_hostname or host
    where = f"[{host}]" if ":" in host else host
    sock.settimeout(timeout)
    try:
        tls_sock = ctx.wrap_socket(sock, server_hostname=None if _is_ip(name) and not ctx.check_hostname else name)
    except ssl.SSLCertVerificationError as err:
        raise FramewireError(TLS, f"{where}: the relay's certificate is not trusted: {err.verify_message}") from None
    except ssl.SSLError as err:
        raise FramewireError(TLS, f"{where}: TLS handshake failed (does it serve TLS?): {err.reason or err}") from None
    except (socket.timeout, TimeoutError):
        raise FramewireError(TLS, f"{where}: TLS handshake timed out") from None
    except OSError as err:
        raise FramewireError(CONNECTION_CLOSED, f"{where} closed the connection during the TLS handshake: {err}") from None
    if pin is not None:
        der = tls_sock.getpeercert(binary_form=True) or b""
        got = normalize_fingerprint(hashlib.sha256(der).hexdigest())
        if got != pin:
            tls_sock.close()
            raise FramewireError(TLS, f"{where}: the relay's certificate has fingerprint {got}, not the pinned {pin}")
    return tls_sock
