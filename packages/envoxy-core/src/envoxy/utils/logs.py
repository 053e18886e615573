"""Envoxy's logging API: ``log.info(text)`` and friends, on the standard :mod:`logging`.

::

    from envoxy.utils.logs import log

    log.info("> Request [HTTP] GET /items")
    if log.is_gte_log_level(log.VERBOSE):
        log.verbose(expensive_dump())
    log.error("could not reach the broker", exc_info=True)
    log.info("order stored", extra={"order": 42})   # JSON: "_order":42

Records go to the ``envoxy`` logger (``system`` to ``envoxy.system``). Levels, format
and handler are set up on the first call (see :mod:`envoxy.utils.log_setup`); a call
below the configured level returns before formatting anything.
"""

import logging
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, Final, cast

from envoxy.utils.context import current_request_id
from envoxy.utils.log_batch import LineBatch, forget_batches
from envoxy.utils.log_format import BoundRender, LineFormatter, current_pid, forget_process
from envoxy.utils.log_levels import LOGGING_LEVELS, LogLevel
from envoxy.utils.log_setup import (
    LOGGER_NAME,
    EnvoxyStreamHandler,
    current_settings,
    direct_handler,
    ensure_configured,
)
from envoxy.utils.log_style import LogStyle

__all__ = [
    "TRUNCATION_MARKER",
    "ExcInfo",
    "LineEmitter",
    "Log",
    "LogLevel",
    "LogStyle",
    "after_fork",
    "log",
    "truncate_text",
]

#: The line that replaces the middle of a truncated message.
TRUNCATION_MARKER = "--- truncated ---"

#: What the ``exc_info`` keyword of the logging methods accepts.
type ExcInfo = bool | BaseException | tuple[Any, ...] | None


def truncate_text(text: Any, max_lines: int | None = None) -> Any:
    """Keep the first and last ``max_lines // 2`` lines of ``text`` around a marker line.

    :param text: a string, or a list of lines (joined with newlines when truncated).
        Anything else is returned unchanged.
    :param max_lines: the most lines to keep; ``None`` keeps everything.
    """
    if max_lines is None:
        return text
    if isinstance(text, str):
        if text.count("\n") < max_lines:
            return text
        lines = text.split("\n")
    elif isinstance(text, list):
        lines = text
    else:
        return text
    if len(lines) <= max_lines:
        return text
    half = max(max_lines // 2, 0)
    kept_tail = lines[len(lines) - half :] if half else []
    return "\n".join([*map(str, lines[:half]), TRUNCATION_MARKER, *map(str, kept_tail)])


class Log:
    """Envoxy's level-named logging methods (``log`` is this class; no instance needed).

    The level constants are one byte each, as in the original envoxy
    (``Log.INFO == b"\\x06"``); :meth:`is_gte_log_level` takes them or plain ints.
    """

    EMERGENCY: Final = b"\x00"
    ALERT: Final = b"\x01"
    CRITICAL: Final = b"\x02"
    ERROR: Final = b"\x03"
    WARNING: Final = b"\x04"
    NOTICE: Final = b"\x05"
    INFO: Final = b"\x06"
    DEBUG: Final = b"\x07"
    TRACE: Final = b"\x08"
    VERBOSE: Final = b"\x09"

    #: The level used when nothing configures one.
    DEFAULT: Final = INFO
    #: The format used when nothing configures one.
    FORMAT: Final = "json"

    style = LogStyle
    truncate_text = staticmethod(truncate_text)

    @staticmethod
    def log_level() -> int:
        """Return the configured level, 0 (EMERGENCY) to 9 (VERBOSE); -1 when all is off."""
        ensure_configured()
        effective = _LOGGER.getEffectiveLevel()
        enabled = [number for number, value in enumerate(LOGGING_LEVELS) if value >= effective]
        return enabled[-1] if enabled else -1

    @staticmethod
    def is_gte_log_level(level: int | bytes) -> bool:
        """Return whether messages at ``level`` are emitted (configured level ≥ ``level``).

        :param level: 0-9 or one byte such as ``Log.DEBUG`` / ``b"\\x07"``.
        :raises ValueError: when ``level`` is outside 0-9.
        """
        levelno = _logging_level(level)
        ensure_configured()
        return _LOGGER.isEnabledFor(levelno)

    @staticmethod
    def is_format_log_pretty() -> bool:
        """Return whether the configured format is ``pretty``."""
        ensure_configured()
        settings = current_settings()
        return settings is not None and settings.format == "pretty"

    @staticmethod
    def emergency(
        text: Any,
        max_lines: int | None = None,
        *,
        exc_info: ExcInfo = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Log ``text`` at EMERGENCY (0), truncated to ``max_lines`` lines.

        :param exc_info: ``True`` (the exception being handled), an exception, or an
            ``exc_info`` tuple: its traceback becomes ``full_message``.
        :param extra: fields written with the line (``_<name>`` in JSON, see
            :func:`envoxy.utils.log_format.gelf_fields`).
        """
        _emit(_EMERGENCY, text, max_lines, exc_info, extra)

    @staticmethod
    def alert(
        text: Any,
        max_lines: int | None = None,
        *,
        exc_info: ExcInfo = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Log ``text`` at ALERT (1); parameters as :meth:`emergency`."""
        _emit(_ALERT, text, max_lines, exc_info, extra)

    @staticmethod
    def critical(
        text: Any,
        max_lines: int | None = None,
        *,
        exc_info: ExcInfo = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Log ``text`` at CRITICAL (2); parameters as :meth:`emergency`."""
        _emit(_CRITICAL, text, max_lines, exc_info, extra)

    @staticmethod
    def error(
        text: Any,
        max_lines: int | None = None,
        *,
        exc_info: ExcInfo = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Log ``text`` at ERROR (3); parameters as :meth:`emergency`."""
        _emit(_ERROR, text, max_lines, exc_info, extra)

    @staticmethod
    def warning(
        text: Any,
        max_lines: int | None = None,
        *,
        exc_info: ExcInfo = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Log ``text`` at WARNING (4); parameters as :meth:`emergency`."""
        _emit(_WARNING, text, max_lines, exc_info, extra)

    @staticmethod
    def notice(
        text: Any,
        max_lines: int | None = 100,
        *,
        exc_info: ExcInfo = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Log ``text`` at NOTICE (5), by default truncated to 100 lines."""
        _emit(_NOTICE, text, max_lines, exc_info, extra)

    @staticmethod
    def info(
        text: Any,
        max_lines: int | None = 100,
        *,
        exc_info: ExcInfo = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Log ``text`` at INFO (6), by default truncated to 100 lines."""
        _emit(_INFO, text, max_lines, exc_info, extra)

    @staticmethod
    def debug(
        text: Any,
        max_lines: int | None = 100,
        *,
        exc_info: ExcInfo = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Log ``text`` at DEBUG (7), by default truncated to 100 lines."""
        _emit(_DEBUG, text, max_lines, exc_info, extra)

    @staticmethod
    def trace(
        text: Any,
        max_lines: int | None = 100,
        *,
        exc_info: ExcInfo = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Log ``text`` at TRACE (8), by default truncated to 100 lines."""
        _emit(_TRACE, text, max_lines, exc_info, extra)

    @staticmethod
    def verbose(
        text: Any,
        prefix: bool = True,
        max_lines: int | None = None,
        *,
        exc_info: ExcInfo = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Log ``text`` at VERBOSE (9).

        :param prefix: kept for compatibility; every format already prefixes each line.
        """
        _emit(_VERBOSE, text, max_lines, exc_info, extra)

    @staticmethod
    def system(text: Any, max_lines: int | None = None) -> None:
        """Log ``text`` whatever the configured level (on ``envoxy.system``, as INFO)."""
        ensure_configured()
        if _SYSTEM_LOGGER.disabled:
            return
        path, line, function = _caller()
        message = truncate_text(text, max_lines)
        record = _SYSTEM_LOGGER.makeRecord(
            _SYSTEM_LOGGER.name, _INFO, path, line, message, (), None, func=function
        )
        _SYSTEM_LOGGER.handle(record)


#: The original lower-case name of :class:`Log`.
log = Log


class LineEmitter:
    """Log one-line messages at one level from one place, at a fraction of ``log.<level>``'s
    cost: for a line written on every request (envoxyd's access line).

    ``LineEmitter(Log.INFO)("text")`` writes the line ``log.info("text")`` would write from
    the line that made the emitter (same format, fields and redaction; that line is the
    ``file``/``line`` of every message). With Envoxy's handler alone on the logger, the
    fixed fields (level, host, pid, file, line) are rendered once per process and
    formatter; otherwise a record goes through the logger as usual. Messages are not
    truncated.

    A *batched* emitter queues each message by its parts (:meth:`later`) with its time in
    the handler's batch, and the lines are built, rendered and written together, at most
    0.1 s later and before any other line (:mod:`envoxy.utils.log_batch`). The level and
    the handler are then checked once per batch rather than once per line.

    :param level: 0-9 or one byte such as ``Log.INFO``.
    :param batched: queue the lines to be written together.
    :raises ValueError: when ``level`` is outside 0-9.
    """

    __slots__ = ("_binding", "_queue", "batched", "function", "levelno", "lineno", "pathname")

    def __init__(self, level: int | bytes, *, batched: bool = False) -> None:
        self.levelno: int = _logging_level(level)
        frame = sys._getframe(1)
        self.pathname: str = frame.f_code.co_filename
        self.lineno: int = frame.f_lineno
        self.function: str = frame.f_code.co_name
        self.batched = batched
        #: (formatter, pid, bound render) of the last direct write
        self._binding: tuple[object, int, BoundRender] | None = None
        #: (batch, its generation, bound render) while queuing needs no check
        self._queue: tuple[LineBatch, int, BoundRender] | None = None

    def __call__(self, message: str) -> None:
        """Log ``message`` (a str) if the level is enabled."""
        if self.batched:
            self.later(str, message)
        else:
            self._emit(message, time.time())

    def later(self, build: Callable[..., str], *args: Any) -> None:
        """Log the message ``build(*args)``, with the time of this call.

        Batched, the message is built when its batch is written (so ``args`` must not
        change meanwhile); otherwise now.
        """
        queue = self._queue
        if queue is not None and queue[0].generation == queue[1]:
            # the request id now: the line is rendered later, maybe in another thread
            queue[0].queue(queue[2], time.time(), build, args, current_request_id())
        else:
            self._queue_checked(build, args)

    def _queue_checked(self, build: Callable[..., str], args: tuple[Any, ...]) -> None:
        """Check the level and the handler, then queue (or log now, off the direct path)."""
        self._queue = None
        ensure_configured()
        if not _LOGGER.isEnabledFor(self.levelno):
            return
        handler = direct_handler(_LOGGER, self.levelno) if self.batched else None
        if handler is None:
            self._emit(build(*args), time.time())
            return
        render = self._render(handler)
        batch = handler.batch
        batch.queue(render, time.time(), build, args, current_request_id())
        self._queue = (batch, batch.generation, render)

    def _emit(self, message: str, created: float) -> None:
        """Write ``message`` now (unbatched)."""
        ensure_configured()
        levelno = self.levelno
        if not _LOGGER.isEnabledFor(levelno):
            return
        handler = direct_handler(_LOGGER, levelno)
        if handler is None:
            record = _LOGGER.makeRecord(
                _LOGGER.name,
                levelno,
                self.pathname,
                self.lineno,
                message,
                (),
                None,
                func=self.function,
            )
            record.created = created
            _LOGGER.handle(record)
            return
        try:
            line = self._render(handler)(message, created, current_request_id())
        except RecursionError:
            raise
        except Exception:
            handler.emit_message(levelno, self.pathname, self.lineno, message)
            return
        handler.write_line(line, levelno, self.pathname, self.lineno)

    def _render(self, handler: EnvoxyStreamHandler) -> BoundRender:
        """The render function bound to ``handler``'s formatter in this process."""
        formatter = handler.formatter
        pid = current_pid()
        binding = self._binding
        if binding is None or binding[0] is not formatter or binding[1] != pid:
            render = cast(LineFormatter, formatter).bind(self.levelno, self.pathname, self.lineno)
            binding = self._binding = (formatter, pid, render)
        return binding[2]


def after_fork() -> None:
    """Forget the parent's per-process logging state in a forked child: its process id
    (the ``pid`` of JSON lines, and the owner of the request ids made ahead) and its
    queued lines.

    :func:`os.fork` does this by itself (:func:`os.register_at_fork`); a server that
    forks from C without running Python's at-fork hooks (uWSGI, unless
    ``--py-call-osafterfork``) calls this first thing in each child: envoxyd does, in its
    post-fork hook.
    """
    forget_process()
    forget_batches()


_LOGGER = logging.getLogger(LOGGER_NAME)
_SYSTEM_LOGGER = logging.getLogger(f"{LOGGER_NAME}.system")

(
    _EMERGENCY,
    _ALERT,
    _CRITICAL,
    _ERROR,
    _WARNING,
    _NOTICE,
    _INFO,
    _DEBUG,
    _TRACE,
    _VERBOSE,
) = LOGGING_LEVELS


def _emit(
    levelno: int,
    text: Any,
    max_lines: int | None,
    exc_info: ExcInfo,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Log ``text`` for the caller of the ``Log`` method that called this (two frames up).

    Without a traceback, and when Envoxy's handler alone would see the record, the line
    is written directly (no :class:`logging.LogRecord`); otherwise the record goes
    through the logger as usual. Both give the same line, with the same caller.
    """
    ensure_configured()
    if not _LOGGER.isEnabledFor(levelno):
        return
    frame = sys._getframe(2)
    code = frame.f_code
    message = truncate_text(text, max_lines)
    if not exc_info:
        handler = direct_handler(_LOGGER, levelno)
        if handler is not None:
            handler.emit_message(levelno, code.co_filename, frame.f_lineno, message, extra)
            return
    record = _LOGGER.makeRecord(
        _LOGGER.name,
        levelno,
        code.co_filename,
        frame.f_lineno,
        message,
        (),
        _exc_info_tuple(exc_info),
        func=code.co_name,
    )
    if extra:
        record.__dict__["envoxy_fields"] = extra
    _LOGGER.handle(record)


def _logging_level(level: int | bytes) -> int:
    """The :mod:`logging` level of an Envoxy level (0-9 or one byte).

    :raises ValueError: when ``level`` is outside 0-9.
    """
    number = level[0] if isinstance(level, bytes) and len(level) == 1 else level
    if not isinstance(number, int) or not 0 <= number <= 9:
        raise ValueError(f"log level must be 0-9 or one byte b'\\x00'-b'\\x09', got {level!r}")
    return LOGGING_LEVELS[number]


def _exc_info_tuple(exc_info: ExcInfo) -> Any:
    """Normalise ``exc_info`` as :meth:`logging.Logger._log` does."""
    if not exc_info:
        return None
    if isinstance(exc_info, BaseException):
        return (type(exc_info), exc_info, exc_info.__traceback__)
    if not isinstance(exc_info, tuple):
        return sys.exc_info()
    return exc_info


def _caller() -> tuple[str, int, str]:
    """Return the file, line and function of the code that called ``Log.system``."""
    frame = sys._getframe(2)
    return frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name
