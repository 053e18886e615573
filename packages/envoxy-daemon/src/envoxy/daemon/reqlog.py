"""Request logging: one access line per request at INFO, the request line at DEBUG.

- INFO: ``< Response [HTTP] <METHOD> <path> - <status> (<ms> ms)``, once per request,
  rendered by :class:`AccessLines` from the request's record in the
  :class:`~envoxy.daemon.ledger.RequestLedger` (the one place the app reports a finished
  request);
- DEBUG: ``> Request [HTTP] <METHOD> <full_path>`` when the request arrives;
- VERBOSE adds the headers and JSON bodies to both (the access line is then written
  when the request ends, by :meth:`RequestLogger.access`); other bodies (and JSON bodies
  over 64 KiB or that do not parse) appear as ``<N bytes>``.

Secrets are masked with the shared list of sensitive names
(:mod:`envoxy.utils.redaction`): query values at every level, header values, JSON
fields at any depth and card numbers; then the log format redacts the whole line again.
Access lines are written in batches, at most 0.1 s after their request, before any other
line, one ``write`` for many requests (:mod:`envoxy.daemon.ledger`). The levels are read
once, when the logger is built, so a request below INFO costs nothing here.

.. versionchanged:: 1.1
   The ``> Request`` line is DEBUG (it was a second INFO line per request).
"""

import logging
import sys
import time
from collections.abc import Iterable
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

from envoxy.utils.context import RequestContext, bound
from envoxy.utils.encoders import envoxy_json_dumps, envoxy_json_loads
from envoxy.utils.log_format import JsonFormatter, current_pid
from envoxy.utils.log_setup import (
    LOGGER_NAME,
    EnvoxyStreamHandler,
    direct_handler,
    ensure_configured,
)
from envoxy.utils.logs import log
from envoxy.utils.redaction import redact, redact_headers, redact_json, redact_query

if TYPE_CHECKING:
    from envoxy.daemon.ledger import FinishedRequest

__all__ = [
    "DEBUG_LEVEL",
    "INFO_LEVEL",
    "VERBOSE_LEVEL",
    "AccessLines",
    "RequestLogger",
    "environ_method_and_path",
    "redact_headers",
]

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
        #: the access lines rendered from the request ledger (INFO and DEBUG); ``None``
        #: below INFO and at VERBOSE, where :meth:`access` writes each line
        self.lines = AccessLines() if self.enabled and not self.verbose else None

    def request(self, request: Any) -> None:
        """Log the arrival of ``request`` at DEBUG (with headers and body at VERBOSE)."""
        line = f"> Request [HTTP] {request.method} {_full_path(request)}"
        if self.verbose:
            line += f" | Headers {_headers(request.headers)}{_body(request)}"
        log.debug(line)

    def access(self, environ: dict[str, Any], request: Any, response: Any, started: int) -> None:
        """Write the VERBOSE access line of one request now, with the response's headers
        and body: ``request`` (``None`` when it was refused before one was built: method
        and path then come from ``environ``), answered by ``response``, begun at
        ``started`` (:func:`time.perf_counter_ns`)."""
        elapsed = (time.perf_counter_ns() - started) / 1e6
        if request is not None:
            method, path = request.method, request.path
        else:
            method, path = environ_method_and_path(environ)
        line = _access_message(method, path, response.status_code, elapsed)
        log.info(f"{line} | Headers {_headers(response.headers)}{_body(response)}")


class AccessLines:
    """The access lines of finished requests (:data:`~envoxy.daemon.ledger.FinishedRequest`
    records), rendered many at a time.

    With Envoxy's handler alone on the logger (:meth:`handler`) and the ``json`` format, a
    line is assembled from text rendered once per process, per method, path and status
    and per second, and tables of numbers: several times cheaper than rendering it field
    by field, and the same line. Otherwise each line goes through the formatter (``pretty``)
    or, with other handlers or filters on the logger, as a record through the logger.
    """

    def __init__(self) -> None:
        # the access lines' "file" and "line": here
        frame = sys._getframe()
        self.pathname = frame.f_code.co_filename
        self.lineno = frame.f_lineno
        #: (formatter, pid) the fixed texts below were rendered for
        self._binding: tuple[object, int] | None = None
        self._before = ""
        self._after = ""
        #: (method, path, status) -> the line's text from the level to the "(" before the
        #: duration (bounded: a client choosing paths cannot grow it without limit)
        self._middles: dict[tuple[str, str, int], str] = {}
        self._second = -1
        self._second_text = ""

    def handler(self) -> EnvoxyStreamHandler | None:
        """Envoxy's handler when it alone writes the envoxy logger's INFO lines (the
        access lines then go in its batch), else ``None``."""
        ensure_configured()
        return direct_handler(_LOGGER, logging.INFO)

    def render(
        self, records: Iterable["FinishedRequest"], handler: EnvoxyStreamHandler
    ) -> list[str]:
        """The lines of ``records`` in ``handler``'s format (no newlines)."""
        formatter = handler.formatter
        if type(formatter) is not JsonFormatter:
            offset = time.time() - time.perf_counter_ns() / 1e9  # -> seconds since the epoch
            render = formatter.bind(logging.INFO, self.pathname, self.lineno)  # type: ignore[union-attr]
            return [
                render(_access_message(method, path, status, (ended - started) / 1e6),
                       ended / 1e9 + offset, request_id)
                for started, ended, method, path, status, _route, request_id in records
            ]  # fmt: skip
        pid = current_pid()
        if self._binding != (formatter, pid):
            self._before, self._after = formatter.json_parts(
                logging.INFO, self.pathname, self.lineno
            )
            self._middles.clear()
            self._second = -1
            self._binding = (formatter, pid)
        middles = self._middles
        # perf_counter_ns + offset: nanoseconds since the epoch
        offset = time.time_ns() - time.perf_counter_ns()
        # second_text is the line up to the millisecond of the second that starts at
        # since_second (perf_counter_ns + since_second: nanoseconds into that second)
        second_text = self._second_text
        since_second = offset - self._second * 1_000_000_000
        hundredths_of = _HUNDREDTHS
        millis_of = _MILLIS
        lines: list[str] = []
        append = lines.append
        # consecutive records mostly share their method, path and status: comparing them
        # with the previous record's is cheaper than looking their text up
        last_method = last_path = middle = ""
        last_status = -1
        for started, ended, method, path, status, _route, request_id in records:
            if path != last_path or method != last_method or status != last_status:
                middle = middles.get((method, path, status)) or self._middle(method, path, status)
                last_method, last_path, last_status = method, path, status
            millis = (ended + since_second) // 1_000_000
            if not 0 <= millis < 1000:  # another second (the first line's, usually)
                total = (ended + offset) // 1_000_000  # milliseconds since the epoch
                millis = total % 1000
                second = total // 1000
                second_text = f"{self._before}{second}."
                since_second = offset - second * 1_000_000_000
            hundredths = (ended - started + 5_000) // 10_000  # of a millisecond, rounded
            # the request id needs no escaping: only safe characters are ever bound
            append(
                f"{second_text}{millis_of[millis]}{middle}"
                f"{hundredths_of[hundredths] if hundredths < 1000 else _elapsed(started, ended)}"
                f' ms)","_request_id":"{request_id}"}}'
            )
        self._second = (offset - since_second) // 1_000_000_000
        self._second_text = second_text
        return lines

    def log(self, records: Iterable["FinishedRequest"]) -> None:
        """Log ``records`` one by one through the logger (other handlers or filters on
        it), each as a record of its own time and request id."""
        offset = time.time() - time.perf_counter_ns() / 1e9
        for started, ended, method, path, status, _route, request_id in records:
            if not _LOGGER.isEnabledFor(logging.INFO):
                return
            message = _access_message(method, path, status, (ended - started) / 1e6)
            record = _LOGGER.makeRecord(
                _LOGGER.name, logging.INFO, self.pathname, self.lineno, message, (), None,
                func="access",
            )  # fmt: skip
            record.created = ended / 1e9 + offset
            record.msecs = int((record.created - int(record.created)) * 1000)
            try:
                with bound(RequestContext(request_id, None)):
                    _LOGGER.handle(record)
            except RecursionError:
                raise
            except Exception:  # the application's filter or handler failed on this line:
                _report_failure(record)  # said on stderr; the other lines and the request go on

    def render_each(
        self, records: Iterable["FinishedRequest"], handler: EnvoxyStreamHandler
    ) -> list[str]:
        """The lines of ``records`` rendered one at a time, after :meth:`render` failed
        on them: a record that cannot be rendered is reported through ``handler`` and
        costs only its own line."""
        lines = []
        for record in records:
            try:
                lines += self.render((record,), handler)
            except RecursionError:
                raise
            except Exception:
                handler.handleError(_failed_record(self, record))
        return lines

    def _middle(self, method: str, path: str, status: int) -> str:
        text = f"< Response [HTTP] {_escaped(method)} {_escaped(path)} - {status} ("
        # the JSON string without its closing quote: the duration and ' ms)"' follow
        middle = self._after + encode_basestring(redact(text))[:-1]
        if len(path) + len(method) <= _MAX_CACHED_TEXT:  # a client's long paths stay out
            middles = self._middles
            if len(middles) >= _MAX_MIDDLES:
                middles.clear()
            middles[(method, path, status)] = middle
        return middle


def _elapsed(started: int, ended: int) -> str:
    """The duration in milliseconds, two decimals (10 ms and more: past the table)."""
    return f"{(ended - started) / 1e6:.2f}"


def environ_method_and_path(environ: dict[str, Any]) -> tuple[str, str]:
    """The method and path of a request refused before werkzeug read it, as werkzeug
    would give them (the path decoded from WSGI's latin-1 as UTF-8)."""
    method = str(environ.get("REQUEST_METHOD") or "-")
    raw = str(environ.get("PATH_INFO") or "")
    path = "/" + raw.encode("latin-1", "replace").decode("utf-8", "replace").lstrip("/")
    return (method if method.isprintable() else _escaped(method)), path


_LOGGER = logging.getLogger(LOGGER_NAME)
#: the most texts cached, and the longest method and path cached: at most about 0.5 MiB
#: whatever paths clients choose
_MAX_MIDDLES = 1024
_MAX_CACHED_TEXT = 256
#: durations below 10 ms are written from this table ("0.00" to "9.99")
_HUNDREDTHS = [f"{number // 100}.{number % 100:02d}" for number in range(1000)]
_MILLIS = [f"{number:03d}" for number in range(1000)]


def _report_failure(record: logging.LogRecord) -> None:
    """Report a line the logger's filters or handlers failed on (inside ``except``), as
    :mod:`logging` reports a handler's failure: on stderr, when ``raiseExceptions``."""
    reporter = logging.lastResort
    if reporter is not None:
        reporter.handleError(record)


def _failed_record(lines: AccessLines, record: "FinishedRequest") -> logging.LogRecord:
    """A log record naming an access line that could not be rendered (by its request
    id: the path may hold a secret the line would have redacted)."""
    return _LOGGER.makeRecord(
        _LOGGER.name, logging.INFO, lines.pathname, lines.lineno,
        "the access line of request %s", (record[6],), None, func="access",
    )  # fmt: skip


def _access_message(method: str, path: str, status: int, elapsed: float) -> str:
    """The access line's text (a method or path with control characters escaped)."""
    return f"< Response [HTTP] {_escaped(method)} {_escaped(path)} - {status} ({elapsed:.2f} ms)"


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
