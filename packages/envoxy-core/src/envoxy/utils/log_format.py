"""The two Envoxy log formats: ``json`` (one GELF-style object per line) and ``pretty``.

``json`` (the default) writes one valid JSON object per line, without ANSI codes::

    {"version":"1.1","host":"web-1","source":"web-1","timestamp":1761662730.123,"level":6,
     "pid":4242,"exec":"my-service","file":"my_service.views.py","line":42,
     "short_message":"> Request [HTTP] GET /items","_request_id":"6f1c…"}

``timestamp`` has millisecond precision. ``full_message`` is added when the record
carries a traceback, ``_request_id`` while a request context is bound
(:mod:`envoxy.utils.context`), and one ``_<name>`` field per ``extra={...}`` item
(GELF additional fields, see :func:`gelf_fields`). ``pretty`` writes
``<UTC time> <LEVEL> [file:line] message``, then `` | request_id=… name=…`` when there
are any, coloured only when the stream is a terminal. Both formats redact secrets
(:func:`envoxy.utils.redaction.redact`), in extra fields too.
"""

import functools
import logging
import math
import re
import sys
import time
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring
from typing import Any

from envoxy.utils.context import current_request_id
from envoxy.utils.log_levels import LEVEL_NAMES, envoxy_level
from envoxy.utils.log_style import LogStyle, strip_styles
from envoxy.utils.process import current_pid, forget_process
from envoxy.utils.redaction import MASK, is_sensitive, redact

__all__ = [
    "GELF_VERSION",
    "BoundRender",
    "JsonFormatter",
    "LineFormatter",
    "PrettyFormatter",
    "caller_file",
    "current_pid",
    "forget_process",
    "gelf_fields",
    "record_fields",
]

#: ``render(message, created, request_id=None)``: a formatter bound to one level and caller.
type BoundRender = Callable[..., str]

#: The ``version`` written in every JSON line.
GELF_VERSION = "1.1"


class LineFormatter(logging.Formatter):
    """A formatter that can also render a line from plain values, without a record.

    Envoxy's handler uses :meth:`render` directly when no one else can observe the
    record (see :func:`envoxy.utils.log_setup.direct_handler`); :meth:`format` renders
    a :class:`logging.LogRecord` through the same code, so both give the same line.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Return ``record`` rendered by :meth:`render` (its traceback as details).

        The request id is the record's ``request_id`` attribute when it has one, else
        the one bound where the record is formatted; the extra fields are the record's
        attributes that :class:`logging.LogRecord` does not define (``extra={...}``).
        """
        attributes = record.__dict__
        request_id = attributes.get("request_id") or current_request_id()
        return self.render(
            record.levelno,
            record.pathname,
            record.lineno,
            record.created,
            int(record.msecs),
            record.getMessage(),
            _details(self, record),
            record.process,
            record.processName,
            request_id,
            record_fields(record),
        )

    def bind(self, levelno: int, pathname: str, lineno: int) -> BoundRender:
        """Return ``render`` for one level and caller, as a function of the message, its
        time (seconds since the epoch) and its request id (``None``: none).

        The fixed parts may be rendered once (see :meth:`JsonFormatter.bind`), so the
        function is valid in the process that bound it: bind again after a fork.

        :param levelno: the :mod:`logging` level; ``pathname``/``lineno`` the caller's.
        """
        render = self.render

        def line(message: str, created: float, request_id: str | None = None) -> str:
            msecs = int((created - int(created)) * 1000)  # as LogRecord computes it
            return render(
                levelno, pathname, lineno, created, msecs, message, "", None, None, request_id
            )

        return line

    def render(
        self,
        levelno: int,
        pathname: str,
        lineno: int,
        created: float,
        msecs: int,
        message: str,
        details: str = "",
        pid: int | None = None,
        process_name: str | None = None,
        request_id: str | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> str:
        """Return the line for one message.

        :param levelno: the :mod:`logging` level number.
        :param pathname: the caller's file path; ``lineno`` its line.
        :param created: the time (seconds since the epoch); ``msecs`` its milliseconds.
        :param message: the message text (not yet redacted).
        :param details: a traceback (or ``""``), written after the message.
        :param pid: the process id, ``None`` for the current one.
        :param process_name: the process name, ``None`` for the current one.
        :param request_id: the request id written (``_request_id``), or ``None``.
        :param fields: extra fields (``extra={...}``), written as ``_<name>``.
        """
        raise NotImplementedError


class JsonFormatter(LineFormatter):
    """Format a record as one JSON object on one line (keys in the module docstring).

    :param exec_name: the ``exec`` value (``boot[0].name``); ``None`` uses the record's
        process name.
    :param host: the ``host``/``source`` value; ``None`` uses :func:`socket.gethostname`.
    """

    def __init__(self, exec_name: str | None = None, host: str | None = None) -> None:
        super().__init__()
        if host is None:
            import socket

            host = socket.gethostname()
        self.host = host
        self.exec_name = exec_name
        encoded_host = encode_basestring(host)
        self._head = (
            f'{{"version":"{GELF_VERSION}","host":{encoded_host},"source":{encoded_host},'
            '"timestamp":'
        )
        self._exec = encode_basestring(exec_name) if exec_name else None

    def render(
        self,
        levelno: int,
        pathname: str,
        lineno: int,
        created: float,
        msecs: int,
        message: str,
        details: str = "",
        pid: int | None = None,
        process_name: str | None = None,
        request_id: str | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> str:
        """Return one JSON object with no newline inside; parameters as the base class."""
        line = (
            f"{self._head}{int(created)}.{msecs:03d}"
            f"{self._fields(levelno, pathname, lineno, pid, process_name)}"
            f"{encode_basestring(_clean(message))}"
        )
        if details:
            line = f'{line},"full_message":{encode_basestring(_clean(details))}'
        if request_id:
            line = f'{line},"_request_id":{encode_basestring(request_id)}'
        if fields:
            line += "".join(
                f",{_encoded_name(name)}:{_json_value(value)}"
                for name, value in gelf_fields(fields)
            )
        return f"{line}}}"

    def bind(self, levelno: int, pathname: str, lineno: int) -> BoundRender:
        """Return :meth:`render` for one level and caller in this process, with every field
        but the time, the message and the request id rendered once (valid until a fork)."""
        head, fields = self.json_parts(levelno, pathname, lineno)

        def line(message: str, created: float, request_id: str | None = None) -> str:
            second = int(created)
            text = (
                f"{head}{second}.{int((created - second) * 1000):03d}"
                f"{fields}{encode_basestring(_clean(message))}"
            )
            if request_id:
                return f'{text},"_request_id":{encode_basestring(request_id)}}}'
            return f"{text}}}"

        return line

    def json_parts(self, levelno: int, pathname: str, lineno: int) -> tuple[str, str]:
        """The fixed text of a line for one level and caller in this process, as
        ``(before, after)``: a line is ``before`` + its timestamp (``1761662730.123``) +
        ``after`` + its JSON-encoded, redacted message + its optional fields + ``}``.

        For a caller that renders many lines at once faster than :meth:`bind`'s function
        (envoxyd's access lines); valid until a fork, like :meth:`bind`.
        """
        return self._head, self._fields(levelno, pathname, lineno, None, None)

    def _fields(
        self,
        levelno: int,
        pathname: str,
        lineno: int,
        pid: int | None,
        process_name: str | None,
    ) -> str:
        """The fields between the timestamp and the message's text, up to its key."""
        encoded_exec = self._exec
        if encoded_exec is None:
            name = process_name if process_name is not None else _process_name()
            encoded_exec = "null" if name is None else encode_basestring(name)
        return (
            f',"level":{envoxy_level(levelno)},'
            f'"pid":{current_pid() if pid is None else pid},"exec":{encoded_exec},'
            f'"file":{_encoded_file(pathname)},"line":{lineno},"short_message":'
        )


class PrettyFormatter(LineFormatter):
    """Format a record as ``<UTC time> <LEVEL> [file:line] message`` for people.

    A traceback follows on the next lines.

    :param colour: ``True`` to colour the level, ``False`` for plain text, or a callable
        asked on each record (e.g. "is the stream a terminal right now?").
    """

    def __init__(self, colour: bool | Callable[[], bool] = False) -> None:
        super().__init__()
        self.colour = colour
        self._second = -1
        self._second_text = ""

    def render(
        self,
        levelno: int,
        pathname: str,
        lineno: int,
        created: float,
        msecs: int,
        message: str,
        details: str = "",
        pid: int | None = None,
        process_name: str | None = None,
        request_id: str | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> str:
        """Return one human-readable line (plus any traceback lines); parameters as the base."""
        coloured = self.colour() if callable(self.colour) else self.colour
        number = envoxy_level(levelno)
        level = _PLAIN_LEVELS[number] if not coloured else _COLOURED_LEVELS[number]
        line = (
            f"{self._utc_second(int(created))}.{msecs:03d}Z {level} "
            f"[{caller_file(pathname)}:{lineno}] {redact(message)}"
        )
        if request_id or fields:
            pairs = [f"request_id={request_id}"] if request_id else []
            pairs.extend(
                f"{name[1:]}={_pretty_value(value)}" for name, value in gelf_fields(fields or {})
            )
            line = f"{line} | {' '.join(pairs)}"
        if details:
            line = f"{line}\n{redact(details)}"
        return line if coloured else strip_styles(line)

    def _utc_second(self, second: int) -> str:
        """Return ``second`` as ``YYYY-MM-DDTHH:MM:SS`` (UTC), formatted once per second."""
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return self._second_text


@functools.lru_cache(maxsize=512)
def caller_file(pathname: str) -> str:
    """Return the ``file`` of a log line: the last three path parts joined with dots.

    ``/srv/app/my_service/views.py`` gives ``app.my_service.views.py`` (the original
    envoxy's convention).

    :param pathname: a ``LogRecord.pathname``.
    """
    return ".".join(pathname.replace("\\", "/").split("/")[-3:])


def gelf_fields(fields: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Return the GELF additional fields of ``fields``: ``[("_<name>", value), ...]``.

    - A name keeps its letters, digits, ``_``, ``.`` and ``-`` (others become ``_``) and
      its first 64 characters; ``id`` becomes ``_id_`` (GELF reserves ``_id``);
      ``request_id`` is left out (written as ``_request_id`` already).
    - Values: numbers and strings as they are (strings redacted), ``True``/``False`` as
      ``"true"``/``"false"``, ``None`` left out, anything else as its compact JSON text
      (or ``str()``). The value of a sensitive name (``password``, ``token``...) is ``***``.
    """
    result: list[tuple[str, Any]] = []
    for name, value in fields.items():
        if value is None or name == "request_id":
            continue
        field = _field_name(name if type(name) is str else str(name))
        if _sensitive_field(field):
            result.append((field, MASK))
        else:
            result.append((field, value))
    return result


def record_fields(record: logging.LogRecord) -> dict[str, Any] | None:
    """Return the ``extra={...}`` items of ``record``: the attributes a plain
    :class:`logging.LogRecord` does not have, in the order they were set; ``None``
    when there are none."""
    attributes = record.__dict__
    if len(attributes) <= _RECORD_ATTRIBUTE_COUNT and "envoxy_fields" not in attributes:
        return None
    names = attributes.keys() - _RECORD_ATTRIBUTES
    if not names:
        return None
    found: dict[str, Any] = {}
    for name in attributes:
        if name in names:
            if name == "envoxy_fields":
                value = attributes[name]
                if isinstance(value, Mapping):
                    found.update(value)
            else:
                found[name] = attributes[name]
    return found or None


_RESET = LogStyle.generate(LogStyle.RESET)

_LEVEL_STYLES: tuple[str | list[str], ...] = (
    [LogStyle.RED_BG, LogStyle.WHITE_FG],
    LogStyle.ALERT,
    LogStyle.CRITICAL,
    LogStyle.ERROR,
    LogStyle.WARNING,
    LogStyle.NOTICE,
    LogStyle.INFO,
    LogStyle.DEBUG,
    LogStyle.TRACE,
    LogStyle.VERBOSE,
)


_PLAIN_LEVELS = tuple(f"{name:<9}" for name in LEVEL_NAMES)
_COLOURED_LEVELS = tuple(
    f"{LogStyle.generate(style)}{name:<9}{_RESET}"
    for name, style in zip(LEVEL_NAMES, _LEVEL_STYLES, strict=True)
)


@functools.lru_cache(maxsize=512)
def _encoded_file(pathname: str) -> str:
    return encode_basestring(caller_file(pathname))


#: the attributes of a plain LogRecord (and what formatters add); the others are extras
_RECORD_ATTRIBUTES = frozenset(
    {*logging.makeLogRecord({}).__dict__, "message", "asctime", "taskName", "request_id"}
)
_RECORD_ATTRIBUTE_COUNT = len(logging.makeLogRecord({}).__dict__)
_FIELD_NAME_BAD = re.compile(r"[^A-Za-z0-9_.\-]")
_MAX_FIELD_NAME = 64


@functools.lru_cache(maxsize=1024)
def _field_name(name: str) -> str:
    cleaned = _FIELD_NAME_BAD.sub("_", name[:_MAX_FIELD_NAME]) or "_"
    return "_id_" if cleaned == "id" else f"_{cleaned}"


@functools.lru_cache(maxsize=1024)
def _sensitive_field(field: str) -> bool:
    return is_sensitive(field[1:])


@functools.lru_cache(maxsize=1024)
def _encoded_name(field: str) -> str:
    return encode_basestring(field)


def _json_value(value: Any) -> str:
    """Return ``value`` as a GELF field value in JSON: a number or a string."""
    kind = type(value)
    if kind is str:
        return encode_basestring(_clean(value))
    if kind is int:
        return str(value)
    if kind is float:
        return repr(value) if math.isfinite(value) else encode_basestring(repr(value))
    return encode_basestring(_clean(_text(value)))


def _pretty_value(value: Any) -> str:
    text = value if type(value) is str else _text(value)
    return redact(text)


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return repr(value)
    try:
        from envoxy.utils.encoders import envoxy_json_dumps

        return envoxy_json_dumps(value).decode()
    except Exception:  # not JSON-encodable: its text
        return str(value)


def _process_name() -> str | None:
    """Return the process name as :class:`logging.LogRecord` would."""
    if not logging.logMultiprocessing:
        return None
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is None:
        return "MainProcess"
    try:
        return str(multiprocessing.current_process().name)
    except Exception:  # as logging does: a broken multiprocessing state keeps the default
        return "MainProcess"


def _clean(text: str) -> str:
    return redact(strip_styles(text) if "\033" in text else text)


def _details(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    """Return the traceback and stack of ``record``, or ``""``."""
    parts = []
    if record.exc_info:
        if not record.exc_text:
            record.exc_text = formatter.formatException(record.exc_info)
        parts.append(record.exc_text)
    elif record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(formatter.formatStack(record.stack_info))
    return "\n".join(parts)
