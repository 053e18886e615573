"""Request headers shared by the ZeroMQ ("Zapata") and MQTT envelopes.

They are built on every request and message, so both generated values are cheap:

- ``Date`` is the current UTC time in the ``Now.api_format()`` format
  (``YYYY-MM-DDTHH:MM:SS.mmm+0000``, milliseconds truncated), formatted at most
  once per millisecond.
- ``X-Cid`` is a fresh version 4 UUID: 122 bits from :func:`os.urandom` for every
  id, so one id says nothing about the next (a process prefix and a counter did,
  in 1.0), formatted without :class:`uuid.UUID` (half the cost of ``uuid4()``).

.. versionchanged:: 1.1
   ``X-Cid`` is random per id (was a per-process prefix and a counter).
"""

import os
import time

import orjson

from envoxy.constants import SERVER_NAME
from envoxy.utils.datetime import join_api

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
    date = _date if time.time() < _date[0] else _refresh_date()
    return _HEADERS_JSON % (date[2], correlation_id().encode())


def api_now() -> str:
    """Return the current UTC time as ``YYYY-MM-DDTHH:MM:SS.mmm+0000``."""
    date = _date if time.time() < _date[0] else _refresh_date()
    return date[1]


def correlation_id() -> str:
    """Return a new random version 4 UUID string for ``X-Cid``."""
    value = int.from_bytes(os.urandom(16)) & _UUID4_CLEAR | _UUID4_SET
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


#: the version (4) and variant (RFC 4122) bits of a UUID as an integer: cleared, then set
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)
#: ``generate_headers()`` as JSON, with ``%s`` for the date and for the id.
_HEADERS_JSON = (
    b'{"Accept":"application/json","Accept-Charset":"utf-8","Date":"%s","User-Agent":'
    + orjson.dumps(SERVER_NAME).replace(b"%", b"%%")
    + b',"X-Cid":"%s"}'
)
#: (end of its millisecond as a Unix time, formatted date, the same as bytes)
_date: tuple[float, str, bytes] = (0.0, "", b"")


def _refresh_date() -> tuple[float, str, bytes]:
    global _date
    milliseconds = int(time.time() * 1000)
    seconds, fraction = divmod(milliseconds, 1000)
    utc = time.gmtime(seconds)
    text = join_api(
        time.strftime("%Y-%m-%d", utc), time.strftime("%H:%M:%S", utc), f"{fraction:03d}"
    )
    _date = ((milliseconds + 1) / 1000, text, text.encode())
    return _date
