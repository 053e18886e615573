"""Safe handling of untrusted request values: their truth and their text.

A request body can hold anything, and objects can raise anything from their
special methods. These helpers turn every such error into a plain answer, so a
validator fails with a :class:`~envoxy.exceptions.ValidationException` instead
of leaking ``KeyError``, ``TypeError`` or worse.
"""

from typing import Any, Final

__all__ = ["MISSING", "describe", "is_truthy"]

#: Stands for a value that could not be read (``element[key]`` raised).
MISSING: Final = object()


def is_truthy(value: Any) -> bool:
    """Return ``bool(value)``, or False when the truth of ``value`` cannot be decided.

    :param value: any object.
    """
    try:
        return bool(value)
    except Exception:  # e.g. __bool__/__len__ raising: the assertion is not established
        return False


def describe(value: Any) -> str:
    """Return ``str(value)`` for a failure message, never raising.

    Values whose ``str()`` fails (an int beyond Python's digit limit, an object
    whose ``__str__`` raises) are described by their type and identity instead.

    :param value: any object.
    """
    try:
        return f"{value}"
    except Exception:
        return object.__repr__(value)
