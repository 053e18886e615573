"""Converters for settings that accept numbers or booleans written as strings.

Interpolated values stay strings (``"${PORT:-5432}"`` gives ``"5432"``), so every
numeric or boolean setting goes through one of these. Each raises
:class:`~envoxy.exceptions.ConfigError` naming the setting and the value at fault,
shown with :func:`envoxy.utils.redaction.safe_repr` (never the value of a secret).
"""

from typing import Any

from envoxy.exceptions import ConfigError
from envoxy.utils.redaction import safe_repr

__all__ = ["as_bool", "as_float", "as_int"]


def as_int(value: Any, name: str) -> int:
    """Return ``value`` as an int: an int, an integral float, or a string such as ``"5432"``.

    :param value: the setting's value.
    :param name: the setting's name for error messages (e.g. ``"psql_servers.default.port"``).
    :raises ConfigError: for booleans, non-integral numbers and anything else that is not
        an integer.
    """
    if isinstance(value, bool):
        raise _invalid(name, value, "an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _invalid(name, value, "an integer")


def as_float(value: Any, name: str) -> float:
    """Return ``value`` as a float: an int, a float, or a string such as ``"2.5"``.

    :param value: the setting's value.
    :param name: the setting's name for error messages.
    :raises ConfigError: for booleans, non-finite values and anything that is not a number.
    """
    if isinstance(value, bool):
        raise _invalid(name, value, "a number")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            raise _invalid(name, value, "a number") from None
    else:
        raise _invalid(name, value, "a number")
    if result != result or result in (float("inf"), float("-inf")):
        raise _invalid(name, value, "a finite number")
    return result


def as_bool(value: Any, name: str) -> bool:
    """Return ``value`` as a bool.

    Accepts ``True``/``False``, the integers 0 and 1, and (any case, surrounding spaces
    ignored) ``"true"``/``"false"``, ``"yes"``/``"no"``, ``"on"``/``"off"``, ``"1"``/``"0"``.

    :param value: the setting's value.
    :param name: the setting's name for error messages.
    :raises ConfigError: for anything else.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise _invalid(name, value, "a boolean (true/false, yes/no, on/off, 1/0)")


_TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
_FALSE_WORDS = frozenset({"false", "no", "off", "0"})


def _invalid(name: str, value: Any, expected: str) -> ConfigError:
    shown = safe_repr(value, name)
    return ConfigError(f"setting {name} must be {expected}, got {shown}; fix it in envoxy.json")
