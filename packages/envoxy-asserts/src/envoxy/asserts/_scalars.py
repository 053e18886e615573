"""Validators of single values: strings, numbers, booleans, timestamps and UUIDs.

Each has the signature ``(_element, key=None, _error_code=1202, _status_code=412,
reply=False)`` (:func:`~envoxy.asserts._element.element_validator`). ``_element``
None passes; with ``key`` the value checked is ``_element[key]``. A missing key (or an
element that cannot be indexed) fails with ``Invalid value type: {key}``, a wrong value
with ``Invalid value type: {value}``.
"""

import datetime
import re
import uuid
from typing import Any, Final

from envoxy.utils.datetime import API_FORMAT

from ._element import element_validator

__all__ = [
    "TIMESTAMP_FORMAT",
    "assertz_boolean",
    "assertz_float",
    "assertz_integer",
    "assertz_string",
    "assertz_timestamp",
    "assertz_uuid",
]

#: The ``strptime`` format of a timestamp string: ``2018-01-18T16:07:01.970+0000``
#: (:data:`envoxy.utils.datetime.API_FORMAT`).
TIMESTAMP_FORMAT: Final = API_FORMAT


@element_validator(exact=str)
def assertz_string(value: Any) -> bool:
    """Check that the value is a ``str`` (``""`` included).

    Example: ``assertz_string(body, "name")``.

    :param _element: the value, or the container when ``key`` is given.
    :param key: the key or index of the value in ``_element``.
    :param _error_code: the application code of a failure (default 1202).
    :param _status_code: the HTTP status of a failure (default 412).
    :param reply: return the reply dict on failure instead of raising.
    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).
    """
    return isinstance(value, str)


@element_validator(exact=int)
def assertz_integer(value: Any) -> bool:
    """Check that the value is an ``int`` (0 and negatives included), never a ``bool``.

    Parameters as :func:`assertz_string`.

    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).

    .. versionchanged:: 1.0
       ``0`` passes and ``True``/``False`` fail (the reverse of envoxy 0.7).
    """
    return isinstance(value, int) and not isinstance(value, bool)


@element_validator(exact=float)
def assertz_float(value: Any) -> bool:
    """Check that the value is a ``float`` or an ``int``, never a ``bool``.

    Parameters as :func:`assertz_string`.

    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).

    .. versionchanged:: 1.0
       Integers pass (JSON does not distinguish ``1`` from ``1.0``).
    """
    return isinstance(value, (float, int)) and not isinstance(value, bool)


@element_validator(exact=bool)
def assertz_boolean(value: Any) -> bool:
    """Check that the value is a ``bool``.

    Parameters as :func:`assertz_string`.

    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).
    """
    return isinstance(value, bool)


@element_validator(exact=datetime.datetime, passing_element=datetime.date)
def assertz_timestamp(value: Any) -> bool:
    """Check that the value is a ``date``, a ``datetime`` or a timestamp string.

    A timestamp string has the form ``YYYY-MM-DDTHH:MM:SS.f+0000`` (see
    :data:`TIMESTAMP_FORMAT`), e.g. ``"2018-01-18T16:07:01.970+0000"``, and names a
    real date and time. A ``date`` given as ``_element`` passes whatever ``key`` is (as
    in envoxy 0.7). Parameters as :func:`assertz_string`.

    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).
    """
    if not isinstance(value, str):
        return isinstance(value, datetime.date)
    try:
        if _CANONICAL_TIMESTAMP.fullmatch(value):
            datetime.datetime.fromisoformat(value)  # rejects e.g. February 30th
        else:
            datetime.datetime.strptime(value, TIMESTAMP_FORMAT)
    except ValueError:
        return False
    return True


@element_validator(exact=uuid.UUID)
def assertz_uuid(value: Any) -> bool:
    """Check that the value is a :class:`uuid.UUID` or a string ``uuid.UUID()`` accepts.

    Parameters as :func:`assertz_string`.

    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).

    .. versionchanged:: 1.0
       ``uuid.UUID`` objects pass.
    """
    if not isinstance(value, str):
        return isinstance(value, uuid.UUID)
    if _CANONICAL_UUID.fullmatch(value):
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# The canonical forms, checked without building objects; anything else goes
# through the slower reference parser (strptime / uuid.UUID) before failing.
_CANONICAL_TIMESTAMP: Final = re.compile(
    r"\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,6}\+0000", re.ASCII
)
_CANONICAL_UUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
