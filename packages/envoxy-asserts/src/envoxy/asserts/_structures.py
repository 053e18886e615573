"""Validators of structured values: arrays, dicts, JSON documents and locations.

Same signature and lookup rules as the scalar validators: ``(_element, key=None,
_error_code=1202, _status_code=412, reply=False)``, ``_element`` None passes
(:func:`~envoxy.asserts._element.element_validator`).
"""

from typing import Any, Final

from envoxy.utils.encoders import envoxy_json_loads

from ._element import element_validator

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


@element_validator()
def assertz_array(value: Any) -> bool:
    """Check that the value is a non-empty ``list``.

    Example: ``assertz_array(body, "application_ids")``. Parameters as
    :func:`~envoxy.asserts.assertz_string`.

    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).
    """
    return isinstance(value, list) and bool(value)


@element_validator(exact=list)
def assertz_array_even_empty(value: Any) -> bool:
    """Check that the value is a ``list``, ``[]`` included.

    Parameters as :func:`~envoxy.asserts.assertz_string`.

    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).
    """
    return isinstance(value, list)


@element_validator()
def assertz_dict(value: Any) -> bool:
    """Check that the value is a non-empty ``dict``.

    Parameters as :func:`~envoxy.asserts.assertz_string`.

    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).
    """
    return isinstance(value, dict) and bool(value)


@element_validator()
def assertz_json(value: Any) -> bool:
    """Check that the value is a JSON document (``str`` or bytes) with a truthy value.

    ``'{"a": 1}'`` and ``b'[1]'`` pass; ``'{}'``, ``'[]'``, ``'0'`` and invalid JSON
    fail. Parameters as :func:`~envoxy.asserts.assertz_string`.

    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).
    """
    return _is_truthy_json(value)


@element_validator()
def assertz_complex(value: Any) -> bool:
    """Check that the value passes :func:`assertz_json`, :func:`assertz_dict` or
    :func:`assertz_array`: a JSON document, a non-empty dict or a non-empty list.

    Parameters as :func:`~envoxy.asserts.assertz_string`.

    :raises ValidationException: ``Invalid value type: {value}`` (or ``{key}`` when missing).
    """
    if isinstance(value, (dict, list)):
        return bool(value)
    return _is_truthy_json(value)


@element_validator(message=LOCATION_MESSAGE)
def assertz_location(value: Any) -> bool:
    """Check that the value is a location: ``{"latitude": n, "longitude": n}`` or ``[n, n]``.

    Each ``n`` is an ``int`` or a ``float`` (never a ``bool``); a dict may hold other
    keys too. Parameters as :func:`~envoxy.asserts.assertz_string`.

    :raises ValidationException: ``Invalid location``.
    """
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
    if not isinstance(value, (str, bytes, bytearray, memoryview)):
        return False
    try:
        document = envoxy_json_loads(value)
    except (ValueError, TypeError, RecursionError):  # JSONDecodeError is a ValueError
        return False
    return bool(document)
