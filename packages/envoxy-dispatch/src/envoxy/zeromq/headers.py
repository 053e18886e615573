"""Request headers shared by the ZeroMQ ("Zapata") and MQTT envelopes.

They are built on every request and message, so both generated values are cheap:

- ``Date`` is the current UTC time in the ``Now.api_format()`` format
  (``YYYY-MM-DDTHH:MM:SS.mmm+0000``, milliseconds truncated), formatted at most
  once per millisecond.
- ``X-Cid`` is the request id while a request context is bound (an HTTP request or
  MQTT message that envoxyd handles, a Celery task, see :mod:`envoxy.utils.context`),
  so the peer can carry the same id on; outside a request it is a fresh version 4
  UUID (:func:`envoxy.utils.context.new_request_id`: 122 bits from :func:`os.urandom`,
  so one id says nothing about the next).
- Inside a request context, ``X-Request-ID`` (the same id) is added, and
  ``traceparent`` when the request has a W3C trace context.

.. versionchanged:: 1.1
   ``X-Cid`` is random per id (was a per-process prefix and a counter); inside a
   request context it is the request id, and ``X-Request-ID``/``traceparent`` are added.
"""

import time

import orjson

from envoxy.constants import SERVER_NAME
from envoxy.utils.context import current, new_request_id
from envoxy.utils.datetime import join_api

__all__ = ["api_now", "correlation_id", "generate_headers", "generated_headers_json"]


def generate_headers(client_id: str | None = None) -> dict[str, str]:
    """Return the headers Envoxy puts on every request and message it sends.

    :param client_id: the correlation id sent as ``X-Cid``; when falsy, the request id
        inside a request context, else a new UUID4.
    :returns: a new dict with ``Accept: application/json``, ``Accept-Charset: utf-8``,
        ``Date`` (as ``Now.api_format()``), ``User-Agent: Envoxy Server`` and ``X-Cid``;
        inside a request context also ``X-Request-ID`` and (when known) ``traceparent``.
    """
    context = current()
    headers = {
        "Accept": "application/json",
        "Accept-Charset": "utf-8",
        "Date": api_now(),
        "User-Agent": SERVER_NAME,
        "X-Cid": client_id or (context.request_id if context else new_request_id()),
    }
    if context is not None:
        headers["X-Request-ID"] = context.request_id
        if context.traceparent:
            headers["traceparent"] = context.traceparent
    return headers


def generated_headers_json() -> bytes:
    """Return ``generate_headers()`` already encoded as compact JSON (the hot paths
    splice it into a payload instead of encoding a dict)."""
    date = _date if time.time() < _date[0] else _refresh_date()
    context = current()
    if context is None:
        return _HEADERS_JSON % (date[2], new_request_id().encode())
    request_id = orjson.dumps(context.request_id)
    if context.traceparent:
        return _CONTEXT_TRACE_JSON % (
            date[2],
            request_id,
            request_id,
            orjson.dumps(context.traceparent),
        )
    return _CONTEXT_JSON % (date[2], request_id, request_id)


def api_now() -> str:
    """Return the current UTC time as ``YYYY-MM-DDTHH:MM:SS.mmm+0000``."""
    date = _date if time.time() < _date[0] else _refresh_date()
    return date[1]


def correlation_id() -> str:
    """Return a new random version 4 UUID string for ``X-Cid`` (outside a request)."""
    return new_request_id()


_HEAD_JSON = (
    b'{"Accept":"application/json","Accept-Charset":"utf-8","Date":"%s","User-Agent":'
    + orjson.dumps(SERVER_NAME).replace(b"%", b"%%")
)
#: ``generate_headers()`` as JSON, with ``%s`` for the date and for the id.
_HEADERS_JSON = _HEAD_JSON + b',"X-Cid":"%s"}'
#: the same inside a request context: ``%s`` for the date, then the JSON-encoded id twice
_CONTEXT_JSON = _HEAD_JSON + b',"X-Cid":%s,"X-Request-ID":%s}'
#: ... and the JSON-encoded ``traceparent``
_CONTEXT_TRACE_JSON = _HEAD_JSON + b',"X-Cid":%s,"X-Request-ID":%s,"traceparent":%s}'
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
