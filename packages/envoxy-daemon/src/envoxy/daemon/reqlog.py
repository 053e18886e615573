"""Request logging: one access line per request at INFO, the request line at DEBUG.

- INFO: ``< Response [HTTP] <METHOD> <path> - <status> (<ms> ms)``, once per request,
  written by :meth:`RequestLogger.access` (the one place the app reports a finished
  request);
- DEBUG: ``> Request [HTTP] <METHOD> <full_path>`` when the request arrives;
- VERBOSE adds the headers and JSON bodies to both; other bodies (and JSON bodies over
  64 KiB or that do not parse) appear as ``<N bytes>``.

Secrets are masked with the shared list of sensitive names
(:mod:`envoxy.utils.redaction`): query values at every level, header values, JSON
fields at any depth and card numbers; then the log format redacts the whole line again.
The access line is a batched :class:`~envoxy.utils.logs.LineEmitter`: its parts are queued,
and the lines are built and written together at most 0.1 s later (before any other log
line), one ``write`` for many requests. The levels are
read once, when the logger is built, so a request below INFO costs nothing here.

.. versionchanged:: 1.1
   The ``> Request`` line is DEBUG (it was a second INFO line per request).
"""

import time
from typing import Any

from envoxy.utils.encoders import envoxy_json_dumps, envoxy_json_loads
from envoxy.utils.logs import LineEmitter, log
from envoxy.utils.redaction import redact_headers, redact_json, redact_query

__all__ = ["DEBUG_LEVEL", "INFO_LEVEL", "VERBOSE_LEVEL", "RequestLogger", "redact_headers"]

INFO_LEVEL = 6
DEBUG_LEVEL = 7
VERBOSE_LEVEL = 9
_MAX_LOGGED_BODY = 64 * 1024


class RequestLogger:
    """Write the request and access lines at the levels configured when it is built.

    :attr:`enabled` (INFO) says whether :meth:`access` writes; :attr:`debug` whether
    :meth:`request` does.
    """

    def __init__(self) -> None:
        self.enabled = bool(log.is_gte_log_level(INFO_LEVEL))
        self.debug = bool(log.is_gte_log_level(DEBUG_LEVEL))
        self.verbose = bool(log.is_gte_log_level(VERBOSE_LEVEL))
        self._access_line = LineEmitter(INFO_LEVEL, batched=True)

    def request(self, request: Any) -> None:
        """Log the arrival of ``request`` at DEBUG (with headers and body at VERBOSE)."""
        line = f"> Request [HTTP] {request.method} {_full_path(request)}"
        if self.verbose:
            line += f" | Headers {_headers(request.headers)}{_body(request)}"
        log.debug(line)

    def access(self, environ: dict[str, Any], request: Any, response: Any, started: float) -> None:
        """Write the access line of one request, answered by ``response``, begun at
        ``started`` (:func:`time.perf_counter`).

        :param request: the request, or ``None`` when it was refused before one was built
            (method and path then come from ``environ``).
        """
        elapsed = (time.perf_counter() - started) * 1000
        if request is not None:
            method, path = request.method, request.path
        else:
            method, path = _environ_method_and_path(environ)
        if self.verbose:
            line = _access_message(method, path, response.status_code, elapsed)
            log.info(f"{line} | Headers {_headers(response.headers)}{_body(response)}")
        else:
            # the line is built and written with others, at most 0.1 s later
            self._access_line.later(_access_message, method, path, response.status_code, elapsed)


def _access_message(method: str, path: str, status: int, elapsed: float) -> str:
    """The access line's text (a path with control characters escaped)."""
    if not path.isprintable():
        path = _escaped(path)
    return f"< Response [HTTP] {method} {path} - {status} ({elapsed:.2f} ms)"


def _headers(headers: Any) -> str:
    return envoxy_json_dumps(redact_headers(headers)).decode()


def _full_path(request: Any) -> str:
    query = request.query_string
    path = request.path if request.path.isprintable() else _escaped(request.path)
    return f"{path}?{_escaped(redact_query(query.decode('latin-1')))}" if query else path


def _escaped(text: str) -> str:
    """``text`` with control and other unprintable characters as ``\\xNN``/``\\uNNNN``
    escapes: a path or query never starts a new log line (``%0A``) nor hides one."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _environ_method_and_path(environ: dict[str, Any]) -> tuple[str, str]:
    """The method and path of a request refused before werkzeug read it, as werkzeug
    would give them (the path decoded from WSGI's latin-1 as UTF-8)."""
    method = str(environ.get("REQUEST_METHOD") or "-")
    raw = str(environ.get("PATH_INFO") or "")
    path = "/" + raw.encode("latin-1", "replace").decode("utf-8", "replace").lstrip("/")
    return (method if method.isprintable() else _escaped(method)), path


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
