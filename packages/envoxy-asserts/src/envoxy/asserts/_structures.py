"""Validators of structured values: arrays, dicts, JSON documents and locations.

Same signature and lookup rules as the scalar validators: ``(_element, key=None,
_error_code=1202, _status_code=412, reply=False)``, ``_element`` None passes.
"""

from typing import Any, Final

from envoxy.utils.encoders import envoxy_json_loads

from ._failure import DEFAULT_STATUS_CODE, INVALID_TYPE_ERROR_CODE, Reply, fail, fail_type
from ._values import MISSING

__all__ = [
    "assertz_array",
    "assertz_array_even_empty",
    "assertz_complex",
    "assertz_dict",
    "assertz_json",
    "assertz_location",
]

#: Message of every :func:`assertz_location` failure.
LOCATION_MESSAGE: Final = "Invalid location"


def assertz_array(
    _element: Any,
    key: Any = None,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the value is a non-empty ``list``.

    Example: ``assertz_array(body, "application_ids")``.

    :param _element: the value, or the container when ``key`` is given.
    :param key: the key or index of the value in ``_element``.
    :param _error_code: the application code of a failure (default 1202).
    :param _status_code: the HTTP status of a failure (default 412).
    :param reply: return the reply dict on failure instead of raising.
    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).
    """
    if _element is None:
        return None
    try:
        value = _element if key is None else _element[key]
    except Exception:  # a missing key, or _element cannot be indexed
        value = MISSING
    if isinstance(value, list) and value:
        return None
    return fail_type(value, key, _error_code, _status_code, reply)


def assertz_array_even_empty(
    _element: Any,
    key: Any = None,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the value is a ``list``, ``[]`` included.

    Parameters as :func:`assertz_array`.

    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).
    """
    if _element is None:
        return None
    try:
        value = _element if key is None else _element[key]
    except Exception:  # a missing key, or _element cannot be indexed
        value = MISSING
    if isinstance(value, list):
        return None
    return fail_type(value, key, _error_code, _status_code, reply)


def assertz_dict(
    _element: Any,
    key: Any = None,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the value is a non-empty ``dict``.

    Parameters as :func:`assertz_array`.

    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).
    """
    if _element is None:
        return None
    try:
        value = _element if key is None else _element[key]
    except Exception:  # a missing key, or _element cannot be indexed
        value = MISSING
    if isinstance(value, dict) and value:
        return None
    return fail_type(value, key, _error_code, _status_code, reply)


def assertz_json(
    _element: Any,
    key: Any = None,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the value is a JSON document (``str`` or bytes) with a truthy value.

    ``'{"a": 1}'`` and ``b'[1]'`` pass; ``'{}'``, ``'[]'``, ``'0'`` and invalid JSON
    fail. Parameters as :func:`assertz_array`.

    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).
    """
    if _element is None:
        return None
    try:
        value = _element if key is None else _element[key]
    except Exception:  # a missing key, or _element cannot be indexed
        value = MISSING
    if _is_truthy_json(value):
        return None
    return fail_type(value, key, _error_code, _status_code, reply)


def assertz_complex(
    _element: Any,
    key: Any = None,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the value passes :func:`assertz_json`, :func:`assertz_dict` or
    :func:`assertz_array`: a JSON document, a non-empty dict or a non-empty list.

    Parameters as :func:`assertz_array`.

    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).
    """
    if _element is None:
        return None
    try:
        value = _element if key is None else _element[key]
    except Exception:  # a missing key, or _element cannot be indexed
        value = MISSING
    if isinstance(value, (dict, list)):
        if value:
            return None
    elif _is_truthy_json(value):
        return None
    return fail_type(value, key, _error_code, _status_code, reply)


def assertz_location(
    _element: Any,
    key: Any = None,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the value is a location: ``{"latitude": n, "longitude": n}`` or ``[n, n]``.

    Each ``n`` is an ``int`` or a ``float`` (never a ``bool``); a dict may hold other
    keys too. Parameters as :func:`assertz_array`.

    :raises ValidationException: ``Invalid location``.
    """
    if _element is None:
        return None
    try:
        value = _element if key is None else _element[key]
    except Exception:  # a missing key, or _element cannot be indexed
        value = MISSING
    if _is_location(value):
        return None
    return fail(LOCATION_MESSAGE, _error_code, _status_code, reply)


def _is_location(value: Any) -> bool:
    if isinstance(value, dict):
        latitude, longitude = value.get("latitude"), value.get("longitude")
    elif isinstance(value, list) and len(value) == 2:
        latitude, longitude = value
    else:
        return False
    # bool is an int subclass but no coordinate (and bool itself cannot be subclassed)
    return (
        isinstance(latitude, (int, float))
        and type(latitude) is not bool
        and isinstance(longitude, (int, float))
        and type(longitude) is not bool
    )


def _is_truthy_json(value: Any) -> bool:
    if value is MISSING or not isinstance(value, (str, bytes, bytearray, memoryview)):
        return False
    try:
        document = envoxy_json_loads(value)
    except (ValueError, TypeError, RecursionError):  # JSONDecodeError is a ValueError
        return False
    return bool(document)
