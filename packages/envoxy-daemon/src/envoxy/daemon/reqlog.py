"""Request and response log lines.

- INFO: ``> Request [HTTP] <METHOD> <full_path>`` and
  ``< Response [HTTP] <METHOD> <path> - <status> (<ms> ms)``;
- VERBOSE adds the headers and JSON bodies; other bodies (and JSON bodies over 64 KiB
  or that do not parse) appear as ``<N bytes>``.

Secrets are masked with the shared list of sensitive names
(:mod:`envoxy.utils.redaction`): query values at every level, header values, JSON
fields at any depth and card numbers; then the log format redacts the whole line again.
The level is read once, when the logger is built, so a request below INFO costs nothing.
"""

import time
from typing import Any

from envoxy.utils.encoders import envoxy_json_dumps, envoxy_json_loads
from envoxy.utils.logs import log
from envoxy.utils.redaction import redact_headers, redact_json, redact_query

__all__ = ["INFO_LEVEL", "VERBOSE_LEVEL", "RequestLogger", "redact_headers"]

INFO_LEVEL = 6
VERBOSE_LEVEL = 9
_MAX_LOGGED_BODY = 64 * 1024


class RequestLogger:
    """Write the request/response lines at the levels configured when it is built."""

    def __init__(self) -> None:
        self.enabled = bool(log.is_gte_log_level(INFO_LEVEL))
        self.verbose = bool(log.is_gte_log_level(VERBOSE_LEVEL))

    def request(self, request: Any) -> float:
        """Log ``request`` and return the start time for :meth:`response`."""
        line = f"> Request [HTTP] {request.method} {_full_path(request)}"
        if self.verbose:
            line += f" | Headers {_headers(request.headers)}{_body(request)}"
        log.info(line)
        return time.perf_counter()

    def response(self, request: Any, response: Any, started: float) -> None:
        """Log the response to ``request`` with the time since ``started``."""
        elapsed = (time.perf_counter() - started) * 1000
        line = (
            f"< Response [HTTP] {request.method} {request.path} - "
            f"{response.status_code} ({elapsed:.2f} ms)"
        )
        if self.verbose:
            line += f" | Headers {_headers(response.headers)}{_body(response)}"
        log.info(line)


def _headers(headers: Any) -> str:
    return envoxy_json_dumps(redact_headers(headers)).decode()


def _full_path(request: Any) -> str:
    query = request.query_string
    return f"{request.path}?{redact_query(query.decode('latin-1'))}" if query else request.path


def _body(message: Any) -> str:
    try:
        data = message.get_data()
    except Exception:  # a body too large or unreadable is not worth a failure
        return ""
    if not data:
        return ""
    if getattr(message, "is_json", False) and len(data) <= _MAX_LOGGED_BODY:
        try:
            return f" | Payload {envoxy_json_dumps(redact_json(envoxy_json_loads(data))).decode()}"
        except (ValueError, TypeError, RecursionError):  # not JSON after all, or too deep
            pass
    return f" | Payload <{len(data)} bytes>"
