"""The ten Envoxy log levels and their place among the :mod:`logging` levels.

Envoxy numbers its levels like syslog, from EMERGENCY 0 (most severe) to VERBOSE 9.
Each one is a registered :mod:`logging` level, so the standard machinery (logger and
handler levels, ``logging.getLevelName``) works on Envoxy records:

=========  ======  ===============
name       envoxy  ``logging`` level
=========  ======  ===============
EMERGENCY  0       60
ALERT      1       55
CRITICAL   2       50 (``logging.CRITICAL``)
ERROR      3       40 (``logging.ERROR``)
WARNING    4       30 (``logging.WARNING``)
NOTICE     5       25
INFO       6       20 (``logging.INFO``)
DEBUG      7       10 (``logging.DEBUG``)
TRACE      8       5
VERBOSE    9       3
=========  ======  ===============

Registering the names (``logging.addLevelName``) is the only thing importing this
module does.
"""

import enum
import logging

from envoxy.exceptions import ConfigError

__all__ = [
    "DEFAULT_LEVEL",
    "LEVEL_NAMES",
    "LOGGING_LEVELS",
    "LogLevel",
    "envoxy_level",
    "logging_level",
    "parse_level",
]


class LogLevel(enum.IntEnum):
    """An Envoxy log level: a message is emitted when its level ≤ the configured one."""

    EMERGENCY = 0
    ALERT = 1
    CRITICAL = 2
    ERROR = 3
    WARNING = 4
    NOTICE = 5
    INFO = 6
    DEBUG = 7
    TRACE = 8
    VERBOSE = 9


#: The level used when neither the configuration nor the environment sets one.
DEFAULT_LEVEL = LogLevel.INFO

#: Envoxy level (0-9) → :mod:`logging` level number, indexed by the Envoxy level.
LOGGING_LEVELS: tuple[int, ...] = (60, 55, 50, 40, 30, 25, 20, 10, 5, 3)

#: Envoxy level (0-9) → level name, indexed by the Envoxy level.
LEVEL_NAMES: tuple[str, ...] = tuple(level.name for level in LogLevel)


def logging_level(level: int | bytes) -> int:
    """Return the :mod:`logging` number of Envoxy level ``level``.

    :param level: 0-9, or one byte such as ``b"\\x06"`` (the original ``Log.INFO``).
    :raises ValueError: when ``level`` is outside 0-9.
    """
    number = _as_number(level)
    return LOGGING_LEVELS[number]


def envoxy_level(levelno: int) -> int:
    """Return the Envoxy level (0-9) of a :mod:`logging` record level.

    A number between two Envoxy levels maps to the less severe one (``15`` → DEBUG 7);
    anything above EMERGENCY is EMERGENCY and anything below VERBOSE is VERBOSE.

    :param levelno: a ``LogRecord.levelno``.
    """
    exact = _ENVOXY_LEVELS.get(levelno)
    if exact is not None:
        return exact
    for number, threshold in enumerate(LOGGING_LEVELS):
        if levelno >= threshold:
            return number
    return LogLevel.VERBOSE


def parse_level(value: object, name: str = "log.level") -> LogLevel:
    """Read a configured level: 0-9, a numeric string, or a level name in any case.

    :param value: the configured value (e.g. ``6``, ``"6"``, ``"info"``, ``"DEBUG"``).
    :param name: the setting's name for error messages.
    :raises ConfigError: for anything else.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in LogLevel.__members__:
            return LogLevel[text.upper()]
        value = int(text) if text.isdigit() else text
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9:
        return LogLevel(value)
    raise ConfigError(
        f"{name} must be 0-9 or one of {', '.join(LEVEL_NAMES).lower()}, got {value!r}"
    )


#: :mod:`logging` level → Envoxy level, for the ten registered levels (the common case).
_ENVOXY_LEVELS: dict[int, int] = {value: number for number, value in enumerate(LOGGING_LEVELS)}


def _as_number(level: int | bytes) -> int:
    number = level[0] if isinstance(level, bytes) and len(level) == 1 else level
    if not isinstance(number, int) or not 0 <= number <= 9:
        raise ValueError(f"log level must be 0-9 or one byte b'\\x00'-b'\\x09', got {level!r}")
    return number


def _register_level_names() -> None:
    for level, number in zip(LogLevel, LOGGING_LEVELS, strict=True):
        if logging.getLevelName(number) != level.name:
            logging.addLevelName(number, level.name)


_register_level_names()
