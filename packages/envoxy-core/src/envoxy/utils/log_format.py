"""The two Envoxy log formats: ``json`` (one GELF-style object per line) and ``pretty``.

``json`` (the default) writes one valid JSON object per line, without ANSI codes::

    {"version":"1.1","host":"web-1","source":"web-1","timestamp":1761662730,"level":6,
     "pid":4242,"exec":"my-service","file":"my_service.views.py","line":42,
     "short_message":"> Request [HTTP] GET /items"}

``full_message`` is added when the record carries a traceback. ``pretty`` writes
``<UTC time> <LEVEL> [file:line] message``, coloured only when the stream is a
terminal. Both formats redact secrets (:func:`envoxy.utils.redaction.redact`).
"""

import functools
import logging
import os
import time
from collections.abc import Callable

from envoxy.utils.log_levels import LEVEL_NAMES, envoxy_level
from envoxy.utils.log_style import LogStyle, strip_styles
from envoxy.utils.redaction import redact

__all__ = ["GELF_VERSION", "JsonFormatter", "PrettyFormatter", "caller_file"]

#: The ``version`` written in every JSON line.
GELF_VERSION = "1.1"


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object on one line (keys in the module docstring).

    :param exec_name: the ``exec`` value (``boot[0].name``); ``None`` uses the record's
        process name.
    :param host: the ``host``/``source`` value; ``None`` uses :func:`socket.gethostname`.
    """

    def __init__(self, exec_name: str | None = None, host: str | None = None) -> None:
        super().__init__()
        import json

        if host is None:
            import socket

            host = socket.gethostname()
        self.host = host
        self.exec_name = exec_name
        self._encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)

    def format(self, record: logging.LogRecord) -> str:
        """Return ``record`` as a JSON object with no newline inside."""
        entry: dict[str, object] = {
            "version": GELF_VERSION,
            "host": self.host,
            "source": self.host,
            "timestamp": int(record.created),
            "level": envoxy_level(record.levelno),
            "pid": record.process if record.process is not None else os.getpid(),
            "exec": self.exec_name or record.processName,
            "file": caller_file(record.pathname),
            "line": record.lineno,
            "short_message": _clean(record.getMessage()),
        }
        details = _details(self, record)
        if details:
            entry["full_message"] = _clean(details)
        return self._encoder.encode(entry)


class PrettyFormatter(logging.Formatter):
    """Format a record as ``<UTC time> <LEVEL> [file:line] message`` for people.

    A traceback follows on the next lines.

    :param colour: ``True`` to colour the level, ``False`` for plain text, or a callable
        asked on each record (e.g. "is the stream a terminal right now?").
    """

    def __init__(self, colour: bool | Callable[[], bool] = False) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        """Return ``record`` as one human-readable line (plus any traceback lines)."""
        coloured = self.colour() if callable(self.colour) else self.colour
        number = envoxy_level(record.levelno)
        level = f"{LEVEL_NAMES[number]:<9}"
        if coloured:
            level = f"{LogStyle.generate(_LEVEL_STYLES[number])}{level}{_RESET}"
        created = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        message = redact(record.getMessage())
        line = (
            f"{created}.{int(record.msecs):03d}Z {level} "
            f"[{caller_file(record.pathname)}:{record.lineno}] {message}"
        )
        details = _details(self, record)
        if details:
            line = f"{line}\n{redact(details)}"
        return line if coloured else strip_styles(line)


@functools.lru_cache(maxsize=512)
def caller_file(pathname: str) -> str:
    """Return the ``file`` of a log line: the last three path parts joined with dots.

    ``/srv/app/my_service/views.py`` gives ``app.my_service.views.py`` (the original
    envoxy's convention).

    :param pathname: a ``LogRecord.pathname``.
    """
    return ".".join(pathname.replace("\\", "/").split("/")[-3:])


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


def _clean(text: str) -> str:
    return redact(strip_styles(text))


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
