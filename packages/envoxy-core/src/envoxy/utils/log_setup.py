"""Set up the ``envoxy`` logger: level, format and the stderr handler.

Nothing happens at import. The first message logged through :data:`envoxy.utils.logs.log`
calls :func:`ensure_configured`; envoxyd calls :func:`configure_logging` at startup.

- The level comes from ``log.level`` (alias section ``$log``; 0-9 or a name; when absent,
  7 if the top-level ``debug`` is true, else 6) and the format from ``log.format``
  (``json`` or ``pretty``). ``ENVOXY_LOG_LEVEL`` and ``ENVOXY_LOG_FORMAT`` override them.
- One :class:`EnvoxyStreamHandler` (stderr) is added to the ``envoxy`` logger, with
  ``propagate`` False, unless the application already attached a handler to that logger;
  then the application's handlers and formatters are used. Other loggers are untouched.
"""

import logging
import os
import stat
import sys
import threading
import time
from collections.abc import Mapping
from typing import IO, Any, NamedTuple, cast

from envoxy.exceptions import ConfigError
from envoxy.utils.config import Config
from envoxy.utils.context import current_request_id
from envoxy.utils.conversions import as_bool
from envoxy.utils.log_batch import BATCH_BYTES, LineBatch
from envoxy.utils.log_format import JsonFormatter, LineFormatter, PrettyFormatter, current_pid
from envoxy.utils.log_levels import DEFAULT_LEVEL, LOGGING_LEVELS, LogLevel, parse_level

__all__ = [
    "DEFAULT_FORMAT",
    "FORMATS",
    "FORMAT_ENV_VAR",
    "LEVEL_ENV_VAR",
    "LOGGER_NAME",
    "LOG_KEYS",
    "EnvoxyStreamHandler",
    "LogSettings",
    "configure_logging",
    "current_settings",
    "direct_handler",
    "ensure_configured",
    "reset_logging",
    "resolve_settings",
]

#: The root of Envoxy's logger tree.
LOGGER_NAME = "envoxy"
#: Overrides ``log.level``.
LEVEL_ENV_VAR = "ENVOXY_LOG_LEVEL"
#: Overrides ``log.format``.
FORMAT_ENV_VAR = "ENVOXY_LOG_FORMAT"
#: The accepted formats.
FORMATS = ("json", "pretty")
#: The format used when nothing sets one.
DEFAULT_FORMAT = "json"
#: The keys of the ``log`` section (alias ``$log``).
LOG_KEYS = frozenset({"level", "format"})


class LogSettings(NamedTuple):
    """The resolved logging settings.

    :param level: the Envoxy level (messages at or below it are emitted).
    :param format: ``"json"`` or ``"pretty"``.
    :param exec_name: the ``exec`` field of JSON lines (``boot[0].name``), if configured.
    """

    level: LogLevel = DEFAULT_LEVEL
    format: str = DEFAULT_FORMAT
    exec_name: str | None = None


class EnvoxyStreamHandler(logging.StreamHandler[IO[str]]):
    """The handler Envoxy adds: writes to ``stream``, or to the current ``sys.stderr``.

    Following ``sys.stderr`` at each record keeps output visible when a test runner or a
    CLI runner swaps it. Each line (with its newline) is handed to the stream in one
    ``write`` call, so lines of processes sharing a stderr pipe do not interleave; the
    stream is flushed after each line unless it is line-buffered (then the write flushed).
    Lines queued in :attr:`batch` (by a batched :class:`~envoxy.utils.logs.LineEmitter`
    or a :class:`~envoxy.utils.log_batch.LineSource` such as envoxyd's request ledger)
    are written together, at most 0.1 s later and before any other line.

    :param stream: a text stream, or ``None`` for ``sys.stderr``.
    """

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__(stream if stream is not None else sys.stderr)
        self.follows_stderr = stream is None
        # the lock made by Handler.createLock (re-initialised in place after a fork)
        self._line_lock = cast(threading.RLock, self.lock)
        self._tty_stream: object = None
        self._tty = False
        #: (stream, pid, the largest write of queued lines) last found by _piece_bytes
        self._pieces: tuple[object, int, int | None] = (None, 0, BATCH_BYTES)
        #: lines queued by their parts (:mod:`envoxy.utils.log_batch`)
        self.batch = LineBatch(
            self._write_text, self._line_lock, self._batch_failed, self._piece_bytes
        )

    def emit(self, record: logging.LogRecord) -> None:
        """Write ``record`` formatted, plus a newline, to the stream."""
        try:
            self._write(self.format(record))
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def emit_message(
        self,
        levelno: int,
        pathname: str,
        lineno: int,
        message: object,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        """Write one message without building a :class:`logging.LogRecord`.

        Only for when :func:`direct_handler` returned this handler: then no filter or
        other handler could see the record, and the line is the one :meth:`emit` writes
        (the request id bound now, ``fields`` as the record's extra fields).

        :param levelno: the :mod:`logging` level; ``pathname``/``lineno`` the caller's.
        :param message: the message (``str()`` is applied, as ``getMessage`` does).
        :param fields: extra fields (``extra={...}``), or ``None``.
        """
        formatter = cast(LineFormatter, self.formatter)
        created = time.time()
        try:
            line = formatter.render(
                levelno,
                pathname,
                lineno,
                created,
                # as LogRecord computes it, so both paths agree on the second
                int((created - int(created)) * 1000),
                message if type(message) is str else str(message),
                "",
                None,
                None,
                current_request_id(),
                fields,
            )
        except RecursionError:
            raise
        except Exception:
            self._line_failed(levelno, pathname, lineno, message)
            return
        self.write_line(line, levelno, pathname, lineno)

    def write_line(self, line: str, levelno: int, pathname: str, lineno: int) -> None:
        """Write one rendered line (plus the newline), as :meth:`emit` does for a record.

        Only for when :func:`direct_handler` returned this handler. ``levelno``,
        ``pathname`` and ``lineno`` describe the line if writing it fails.
        """
        try:
            with self._line_lock:
                self._write(line)
        except RecursionError:
            raise
        except Exception:
            self._line_failed(levelno, pathname, lineno, line)

    def _piece_bytes(self) -> int | None:
        """The largest write of queued lines: ``PIPE_BUF`` (atomic) to a pipe, a socket or
        a stream of unknown kind, shared with other processes maybe; no limit to a
        regular file or a terminal. Found once per stream and process."""
        stream = sys.stderr if self.follows_stderr else self.stream
        known, pid, limit = self._pieces
        if known is stream and pid == current_pid():
            return limit
        try:
            mode = os.fstat(stream.fileno()).st_mode
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation included
            limit = BATCH_BYTES
        else:
            limit = None if stat.S_ISREG(mode) or stat.S_ISCHR(mode) else BATCH_BYTES
        self._pieces = (stream, current_pid(), limit)
        return limit

    def _batch_failed(self) -> None:
        self.handleError(logging.makeLogRecord({"msg": "a batched log line"}))

    def _line_failed(self, levelno: int, pathname: str, lineno: int, message: object) -> None:
        record = logging.makeLogRecord(
            {"levelno": levelno, "pathname": pathname, "lineno": lineno, "msg": message}
        )
        self.handleError(record)

    def is_terminal(self) -> bool:
        """Return whether the stream is a terminal (``pretty`` is coloured only then).

        The answer is kept for as long as the stream is the same object.
        """
        stream = sys.stderr if self.follows_stderr else self.stream
        if stream is self._tty_stream:
            return self._tty
        try:
            tty = bool(stream.isatty())
        except (AttributeError, ValueError):
            tty = False
        self._tty_stream, self._tty = stream, tty
        return tty

    def flush(self) -> None:
        """Write the queued lines, then flush the stream."""
        self.batch.flush()
        super().flush()

    def close(self) -> None:
        """Write the queued lines and close the handler (not the stream)."""
        self.batch.close()
        super().close()

    def _write(self, line: str) -> None:
        """Write ``line`` and the terminator, after any queued lines (together if they fit)."""
        if self.batch.pending():
            self.batch.write_queued(line + self.terminator)
        else:
            self._write_text(line + self.terminator)

    def _write_text(self, text: str) -> None:
        """Hand ``text`` to the stream in one call; flush unless line-buffered."""
        if self.follows_stderr:
            self.stream = sys.stderr
        stream = self.stream
        stream.write(text)
        if not getattr(stream, "line_buffering", False):
            stream.flush()


def direct_handler(logger: logging.Logger, levelno: int) -> EnvoxyStreamHandler | None:
    """Return Envoxy's handler when it alone would see a record of ``logger`` at ``levelno``.

    That is: ``logger`` has exactly one handler, Envoxy's, with one of Envoxy's formatters,
    no filters on either, ``propagate`` off and the handler's level met. Otherwise
    ``None``: the record must go through :meth:`logging.Logger.handle`.

    :param logger: the logger the message is for (its level already checked).
    :param levelno: the message's :mod:`logging` level.
    """
    handlers = logger.handlers
    if len(handlers) != 1 or logger.propagate or logger.filters:
        return None
    handler = handlers[0]
    if (
        type(handler) is not EnvoxyStreamHandler
        or handler.filters
        or levelno < handler.level
        or type(handler.formatter) not in _DIRECT_FORMATTERS
    ):
        return None
    return handler


_DIRECT_FORMATTERS = (JsonFormatter, PrettyFormatter)


def resolve_settings(level: object = None, log_format: str | None = None) -> LogSettings:
    """Work out the settings from the arguments, the environment and ``envoxy.json``.

    :param level: an explicit level (0-9 or a name) that wins over everything else.
    :param log_format: an explicit format that wins over everything else.
    :raises ConfigError: for an invalid level or format (naming the setting) or an
        unreadable configuration file.
    """
    section = Config.get("log") or Config.get("$log")
    if not isinstance(section, dict):
        raise ConfigError(f"the log section must be an object, got {type(section).__name__}")
    return _settings(level, log_format, section, Config.get("debug"), Config.get("boot"))


def configure_logging(
    level: object = None,
    log_format: str | None = None,
    *,
    stream: IO[str] | None = None,
    force: bool = False,
) -> LogSettings:
    """Apply the logging settings to the ``envoxy`` logger (once, unless ``force``).

    :param level: an explicit level (0-9 or a name), else the environment / configuration.
    :param log_format: ``"json"`` or ``"pretty"``, else the environment / configuration.
    :param stream: where Envoxy's handler writes (default: the current ``sys.stderr``).
    :param force: re-apply even when already configured (replaces Envoxy's handler).
    :returns: the settings in effect.
    :raises ConfigError: for an invalid level or format, or an unreadable configuration.
    """
    with _LOCK:
        if _STATE.settings is not None and not force:
            return _STATE.settings
        settings = resolve_settings(level, log_format)
        _apply(settings, stream)
        return settings


def ensure_configured() -> None:
    """Configure logging on first use, falling back to defaults on configuration errors.

    A broken configuration never makes a log call fail: the problem is logged as a
    warning and the defaults (plus any valid environment override) are used.
    """
    if _STATE.settings is not None:
        return
    problem = None
    with _LOCK:
        if _STATE.settings is not None:
            return
        try:
            settings = resolve_settings()
        except ConfigError as exc:
            problem = exc
            try:
                settings = _settings(None, None, {}, None, None)
            except ConfigError:
                settings = LogSettings()
        _apply(settings, None)
    if problem is not None:
        logging.getLogger(LOGGER_NAME).warning("logging uses its defaults: %s", problem)


def current_settings() -> LogSettings | None:
    """Return the settings in effect, or ``None`` before logging is configured."""
    return _STATE.settings


def reset_logging() -> None:
    """Undo the set-up: remove Envoxy's handler, restore level and ``propagate``.

    The next log call configures logging again (e.g. after ``Config.reload()``).
    """
    with _LOCK:
        logger = logging.getLogger(LOGGER_NAME)
        for handler in list(logger.handlers):
            if isinstance(handler, EnvoxyStreamHandler):
                logger.removeHandler(handler)
                handler.close()
        if _STATE.settings is not None:
            logger.setLevel(logging.NOTSET)
        if _STATE.silenced_propagation:
            logger.propagate = True
        _STATE.settings = None
        _STATE.silenced_propagation = False


class _State:
    settings: LogSettings | None = None
    silenced_propagation: bool = False


_STATE = _State()
_LOCK = threading.RLock()


def _settings(
    level: object,
    log_format: str | None,
    section: dict[str, Any],
    debug: Any,
    boot: Any,
) -> LogSettings:
    env_level = os.environ.get(LEVEL_ENV_VAR) or None
    if level is not None:
        resolved_level = parse_level(level, "level")
    elif env_level is not None:
        resolved_level = parse_level(env_level, LEVEL_ENV_VAR)
    elif section.get("level") is not None:
        resolved_level = parse_level(section["level"], "log.level")
    elif debug not in (None, {}) and as_bool(debug, "debug"):
        resolved_level = LogLevel.DEBUG
    else:
        resolved_level = DEFAULT_LEVEL

    chosen_format, source = log_format, "format"
    if chosen_format is None and os.environ.get(FORMAT_ENV_VAR):
        chosen_format, source = os.environ[FORMAT_ENV_VAR], FORMAT_ENV_VAR
    if chosen_format is None and section.get("format") is not None:
        chosen_format, source = section["format"], "log.format"
    resolved_format = str(chosen_format or DEFAULT_FORMAT).strip().lower()
    if resolved_format not in FORMATS:
        raise ConfigError(f"{source} must be one of {', '.join(FORMATS)}, got {chosen_format!r}")

    exec_name = None
    if isinstance(boot, list) and boot and isinstance(boot[0], dict):
        name = boot[0].get("name")
        exec_name = name if isinstance(name, str) and name else None
    return LogSettings(resolved_level, resolved_format, exec_name)


def _apply(settings: LogSettings, stream: IO[str] | None) -> None:
    logger = logging.getLogger(LOGGER_NAME)
    old = [handler for handler in logger.handlers if isinstance(handler, EnvoxyStreamHandler)]
    kept = [handler for handler in logger.handlers if handler not in old]
    logger.setLevel(LOGGING_LEVELS[settings.level])
    ours = not kept  # no handler of the application's: Envoxy's writes
    if ours:
        handler = EnvoxyStreamHandler(stream)
        formatter: logging.Formatter
        if settings.format == "pretty":
            formatter = PrettyFormatter(colour=handler.is_terminal)
        else:
            formatter = JsonFormatter(exec_name=settings.exec_name)
        handler.setFormatter(formatter)
        kept.append(handler)
    # in one step: a line logged meanwhile by another thread finds the old handler or the
    # new one, never none (the INFO line would be dropped) nor both (written twice)
    logger.handlers[:] = kept
    for handler in old:
        handler.close()  # its queued lines go to its stream
    if ours and logger.propagate:
        logger.propagate = False
        _STATE.silenced_propagation = True
    _STATE.settings = settings
