"""Control message bodies (docs/protocol.md section 5): strict validation, unknown fields ignored."""
from __future__ import annotations

from typing import Any, Dict

import re

from .errors import BAD_MESSAGE, FramewireError

#: Stream names: 1-128 of ``A-Z a-z 0-9 . _ -``, not starting with a dot.
STREAM_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}", re.ASCII)
_U32 = 2**32
_MAX_SAFE = 2**53 - 1  # "µs" fields: [0, 2^53-1]


def _bad(message: str) -> FramewireError:
    return FramewireError(BAD_MESSAGE, message)



def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and v not in (float("inf"), float("-inf"))


def _utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def _str(o: Dict[str, Any], key: str, most: int = 1024) -> str:
    v = o.get(key)
    if not isinstance(v, str) or _utf16_len(v) > most:
        raise _bad(f'"{key}" must be a string of at most {most} characters')
    return v


def _num(o: Dict[str, Any], key: str, least: float = 0, most: float = _MAX_SAFE) -> float:
    v = o.get(key)
    # NaN and the infinities fail the range test (json.loads is told to refuse them anyway).
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not least <= v <= most:
        raise _bad(f'"{key}" must be a number in [{least}, {most}]')
    return v


def _params(v: Any, key: str) -> Dict[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise _bad(f'"{key}" must be an object')
    out: Dict[str, Any] = {}
    for k, least, most, integer in (("width", 1, 0xFFFF, True), ("height", 1, 0xFFFF, True),
                                    ("fps", 0.1, 1000, False), ("quality", 1, 100, True)):
        if k in v:
            n = _num(v, k, least, most)
            # JavaScript's Math.round: halves go up.
            out[k] = int(n + 0.5) if integer else n
    return out


def _role(o: Dict[str, Any]) -> str:
    r = o.get("role")
    if r != "publish" and r != "view":
        raise _bad('"role" must be "publish" or "view"')
    return str(r)


def _stream(o: Dict[str, Any]) -> str:
    s = _str(o, "stream", 128)
    if not STREAM_NAME.fullmatch(s):
        raise _bad(f'"stream" must match {STREAM_NAME.pattern}')
    return s


def validate_control(name: str, body: Any) -> Dict[str, Any]:
    """Validates a parsed JSON body for message type ``name``; returns the known fields (unknown ones are ignored)."""
    if not isinstance(body, dict):
        raise _bad(f"{name} body must be a JSON object")
    if name == "hello":
        out: Dict[str, Any] = {"role": _role(body), "stream": _stream(body)}
        for k, most in (("token", 1024), ("client", 128)):
            if k in body:
                out[k] = _str(body, k, most)
        if "params" in body:
            out["params"] = _params(body["params"], "params")
        if "acks" in body:
            if not isinstance(body["acks"], bool):
                raise _bad('"acks" must be a boolean')
            out["acks"] = body["acks"]
        return out
    if name == "welcome":
        return {
            "session": _str(body, "session", 128),
            "role": _role(body),
            "stream": _stream(body),
            "granted": _params(body.get("granted"), "granted"),
            "serverTimeUs": _num(body, "serverTimeUs"),
            "maxFrameBytes": _num(body, "maxFrameBytes"),
            "live": body.get("live") is True,
        }
    if name == "error":
        # An unknown code is kept as it came: it is the relay's word, not ours.
        return {"code": _str(body, "code", 64), "message": _str(body, "message")}
    if name == "ping":
        return {"id": _num(body, "id"), "t0": _num(body, "t0")}
    if name == "pong":
        return {k: _num(body, k) for k in ("id", "t0", "t1", "t2")}
    if name == "stats":
        if len(body) > 64:
            raise _bad("stats has more than 64 keys")
        for k, v in body.items():
            if not (_is_number(v) or isinstance(v, bool) or (isinstance(v, str) and _utf16_len(v) <= 256)):
                raise _bad(f'stats "{k}" must be a finite number, boolean or short string')
        return dict(body)
    if name == "bye":
        return {"reason": _str(body, "reason")}
    if name == "ack":
        return {"seq": _num(body, "seq", 0, _U32 - 1)}
    raise _bad(f"{name} is not a control message")  # pragma: no cover - callers pass known names


