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
import sys
import time
from collections.abc import Callable
from json.encoder import encode_basestring

from envoxy.utils.log_levels import LEVEL_NAMES, envoxy_level
from envoxy.utils.log_style import LogStyle, strip_styles
from envoxy.utils.redaction import redact

__all__ = [
    "GELF_VERSION",
    "JsonFormatter",
    "LineFormatter",
    "PrettyFormatter",
    "caller_file",
    "current_pid",
    "forget_process",
]

#: The ``version`` written in every JSON line.
GELF_VERSION = "1.1"


class LineFormatter(logging.Formatter):
    """A formatter that can also render a line from plain values, without a record.

    Envoxy's handler uses :meth:`render` directly when no one else can observe the
    record (see :func:`envoxy.utils.log_setup.direct_handler`); :meth:`format` renders
    a :class:`logging.LogRecord` through the same code, so both give the same line.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Return ``record`` rendered by :meth:`render` (its traceback as details)."""
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
        )

    def bind(self, levelno: int, pathname: str, lineno: int) -> Callable[[str, float], str]:
        """Return ``render`` for one level and caller, as a function of the message and its
        time (seconds since the epoch).

        The fixed parts may be rendered once (see :meth:`JsonFormatter.bind`), so the
        function is valid in the process that bound it: bind again after a fork.

        :param levelno: the :mod:`logging` level; ``pathname``/``lineno`` the caller's.
        """
        render = self.render

        def line(message: str, created: float) -> str:
            msecs = int(created * 1000) % 1000
            return render(levelno, pathname, lineno, created, msecs, message)

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
    ) -> str:
        """Return the line for one message.

        :param levelno: the :mod:`logging` level number.
        :param pathname: the caller's file path; ``lineno`` its line.
        :param created: the time (seconds since the epoch); ``msecs`` its milliseconds.
        :param message: the message text (not yet redacted).
        :param details: a traceback (or ``""``), written after the message.
        :param pid: the process id, ``None`` for the current one.
        :param process_name: the process name, ``None`` for the current one.
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
    ) -> str:
        """Return one JSON object with no newline inside; parameters as the base class."""
        line = (
            f"{self._head}{int(created)}"
            f"{self._fields(levelno, pathname, lineno, pid, process_name)}"
            f"{encode_basestring(_clean(message))}"
        )
        if details:
            return f'{line},"full_message":{encode_basestring(_clean(details))}}}'
        return f"{line}}}"

    def bind(self, levelno: int, pathname: str, lineno: int) -> Callable[[str, float], str]:
        """Return :meth:`render` for one level and caller in this process, with every field
        but the time and the message rendered once (valid until a fork)."""
        head = self._head
        fields = self._fields(levelno, pathname, lineno, None, None)

        def line(message: str, created: float) -> str:
            return f"{head}{int(created)}{fields}{encode_basestring(_clean(message))}}}"

        return line

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
    ) -> str:
        """Return one human-readable line (plus any traceback lines); parameters as the base."""
        coloured = self.colour() if callable(self.colour) else self.colour
        number = envoxy_level(levelno)
        level = _PLAIN_LEVELS[number] if not coloured else _COLOURED_LEVELS[number]
        line = (
            f"{self._utc_second(int(created))}.{msecs:03d}Z {level} "
            f"[{caller_file(pathname)}:{lineno}] {redact(message)}"
        )
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


def current_pid() -> int:
    """Return :func:`os.getpid`, cached per process (a forked child reads its own)."""
    pid = _PROCESS.pid
    if pid is None:
        pid = _PROCESS.pid = os.getpid()
    return pid


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


class _Process:
    """Per-process values, forgotten in a forked child."""

    pid: int | None = None


_PROCESS = _Process()


def forget_process() -> None:
    """Forget the cached process id (in a forked child; see ``logs.after_fork``)."""
    _PROCESS.pid = None


os.register_at_fork(after_in_child=forget_process)


@functools.lru_cache(maxsize=512)
def _encoded_file(pathname: str) -> str:
    return encode_basestring(caller_file(pathname))


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
