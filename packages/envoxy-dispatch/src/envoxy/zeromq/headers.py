"""Request headers shared by the ZeroMQ ("Zapata") and MQTT envelopes.

They are built on every request and message, so both generated values are cheap:

- ``Date`` is the current UTC time in the ``Now.api_format()`` format
  (``YYYY-MM-DDTHH:MM:SS.mmm+0000``, milliseconds truncated), formatted at most
  once per millisecond.
- ``X-Cid`` is a version 4 UUID made of 74 random bits drawn once per process
  (again after ``os.fork()``) and a 48-bit counter starting at a random value:
  unique like ``uuid4()`` without a system call per id. It is a correlation id,
  not a secret.
"""

import itertools
import os
import secrets
import time
from collections.abc import Iterator

import orjson

from envoxy.constants import SERVER_NAME

__all__ = ["api_now", "correlation_id", "generate_headers", "generated_headers_json"]


def generate_headers(client_id: str | None = None) -> dict[str, str]:
    """Return the headers Envoxy puts on every request and message it sends.

    :param client_id: the correlation id sent as ``X-Cid``; a new UUID4 when falsy.
    :returns: a new dict with ``Accept: application/json``, ``Accept-Charset: utf-8``,
        ``Date`` (as ``Now.api_format()``), ``User-Agent: Envoxy Server`` and ``X-Cid``.
    """
    return {
        "Accept": "application/json",
        "Accept-Charset": "utf-8",
        "Date": api_now(),
        "User-Agent": SERVER_NAME,
        "X-Cid": client_id or correlation_id(),
    }


def generated_headers_json() -> bytes:
    """Return ``generate_headers()`` already encoded as compact JSON (the hot paths
    splice it into a payload instead of encoding a dict)."""
    _, prefix, counter = _cid_state or _draw_cid_state()
    date = _date if time.time() < _date[0] else _refresh_date()
    return _HEADERS_JSON % (date[2], prefix, next(counter))


def api_now() -> str:
    """Return the current UTC time as ``YYYY-MM-DDTHH:MM:SS.mmm+0000``."""
    date = _date if time.time() < _date[0] else _refresh_date()
    return date[1]


def correlation_id() -> str:
    """Return a new version 4 UUID string for ``X-Cid``."""
    prefix, _, counter = _cid_state or _draw_cid_state()
    return f"{prefix}{next(counter):012x}"


#: ``generate_headers()`` as JSON, with ``%s`` for the date, ``%s%012x`` for the id.
_HEADERS_JSON = (
    b'{"Accept":"application/json","Accept-Charset":"utf-8","Date":"%s","User-Agent":'
    + orjson.dumps(SERVER_NAME).replace(b"%", b"%%")
    + b',"X-Cid":"%s%012x"}'
)
#: (end of its millisecond as a Unix time, formatted date, the same as bytes)
_date: tuple[float, str, bytes] = (0.0, "", b"")
#: (id prefix, the same as bytes, counter); drawn on first use and after a fork.
_cid_state: tuple[str, bytes, Iterator[int]] | None = None


def _refresh_date() -> tuple[float, str, bytes]:
    global _date
    milliseconds = int(time.time() * 1000)
    seconds, fraction = divmod(milliseconds, 1000)
    text = f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{fraction:03d}+0000"
    _date = ((milliseconds + 1) / 1000, text, text.encode())
    return _date


def _draw_cid_state() -> tuple[str, bytes, Iterator[int]]:
    global _cid_state
    # 8-4-4-4 hex digits: 32 random bits, 16, "4" + 12, variant "8..b" + 14.
    bits = secrets.randbits(74)
    time_low, time_mid = bits >> 42, (bits >> 26) & 0xFFFF
    time_high = 0x4000 | ((bits >> 14) & 0x0FFF)
    clock_seq = 0x8000 | (bits & 0x3FFF)
    prefix = f"{time_low:08x}-{time_mid:04x}-{time_high:04x}-{clock_seq:04x}-"
    # The counter starts below 2**47, so it keeps 12 hex digits for 2**47 ids.
    _cid_state = (prefix, prefix.encode(), itertools.count(secrets.randbits(47)))
    return _cid_state


def _forget_cid_state() -> None:
    global _cid_state
    _cid_state = None


os.register_at_fork(after_in_child=_forget_cid_state)
