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

from envoxy.constants import SERVER_NAME

__all__ = ["api_now", "correlation_id", "generate_headers"]


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


def api_now() -> str:
    """Return the current UTC time as ``YYYY-MM-DDTHH:MM:SS.mmm+0000``."""
    global _last_date
    milliseconds = int(time.time() * 1000)
    cached_milliseconds, text = _last_date
    if milliseconds != cached_milliseconds:
        seconds, fraction = divmod(milliseconds, 1000)
        text = f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{fraction:03d}+0000"
        _last_date = (milliseconds, text)
    return text


def correlation_id() -> str:
    """Return a new version 4 UUID string for ``X-Cid``."""
    prefix, counter = _cid_state or _draw_cid_state()
    return f"{prefix}{next(counter):012x}"


_last_date: tuple[int, str] = (-1, "")
_cid_state: tuple[str, Iterator[int]] | None = None


def _draw_cid_state() -> tuple[str, Iterator[int]]:
    global _cid_state
    # 8-4-4-4 hex digits: 32 random bits, 16, "4" + 12, variant "8..b" + 14.
    bits = secrets.randbits(74)
    time_low, time_mid = bits >> 42, (bits >> 26) & 0xFFFF
    time_high = 0x4000 | ((bits >> 14) & 0x0FFF)
    clock_seq = 0x8000 | (bits & 0x3FFF)
    prefix = f"{time_low:08x}-{time_mid:04x}-{time_high:04x}-{clock_seq:04x}-"
    # The counter starts below 2**47, so it keeps 12 hex digits for 2**47 ids.
    _cid_state = (prefix, itertools.count(secrets.randbits(47)))
    return _cid_state


def _forget_cid_state() -> None:
    global _cid_state
    _cid_state = None


os.register_at_fork(after_in_child=_forget_cid_state)
