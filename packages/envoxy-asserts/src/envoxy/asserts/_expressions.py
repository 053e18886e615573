"""Assertions on expressions and on the presence of values.

``assertz`` and its relatives check a condition the caller computed;
``assertz_mandatory`` checks that a request carries a value.
"""

from typing import Any

from ._failure import (
    DEFAULT_STATUS_CODE,
    EMPTY_KEY_ERROR_CODE,
    INVALID_TYPE_ERROR_CODE,
    MANDATORY_ERROR_CODE,
    UNAUTHORIZED_STATUS_CODE,
    Reply,
    fail,
    raise_failure,
    reply_failure,
)
from ._values import describe, is_truthy

__all__ = [
    "assertz",
    "assertz_call",
    "assertz_intersects",
    "assertz_mandatory",
    "assertz_reply",
    "assertz_unauthorized",
    "assertz_valid_values",
]


def assertz(_expression: Any, _error_message: str, _error_code: int, _status_code: int) -> None:
    """Raise unless ``_expression`` is truthy.

    :param _expression: the condition to hold.
    :param _error_message: the failure text (the reply's ``payload.text``).
    :param _error_code: the application error code.
    :param _status_code: the HTTP status to answer with.
    :raises ValidationException: ``_expression`` is falsy (or its truth cannot be decided).
    """
    if not is_truthy(_expression):
        raise_failure(_error_message, _error_code, _status_code)


def assertz_reply(
    _expression: Any, _error_msg: str, _error_code: int, _status_code: int
) -> Reply | None:
    """Like :func:`assertz`, but return the reply dict instead of raising.

    :param _expression: the condition to hold.
    :param _error_msg: the failure text.
    :param _error_code: the application error code.
    :param _status_code: the HTTP status to answer with.
    :returns: None when ``_expression`` is truthy, else the reply dict.

    .. versionchanged:: 1.0
       ``assertion_failed`` names the caller's line, not a line of this module, and
       the stack is only read when the assertion fails.
    """
    if is_truthy(_expression):
        return None
    return reply_failure(_error_msg, _error_code, _status_code)


def assertz_call(
    _expression: Any, _error_msg: str, _error_code: int, _status_code: int, reply: bool = False
) -> Reply | None:
    """Run :func:`assertz_reply` when ``reply`` is true, else :func:`assertz`.

    :param reply: return the reply dict on failure instead of raising.
    :raises ValidationException: ``_expression`` is falsy and ``reply`` is false.
    """
    if is_truthy(_expression):
        return None
    return fail(_error_msg, _error_code, _status_code, reply)


def assertz_mandatory(
    _obj: Any,
    _element: Any = None,
    _error_code: int = MANDATORY_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that ``_obj[_element]`` exists and is not None (or, without ``_element``,
    that ``_obj`` is truthy).

    ``""``, ``0``, ``False`` and ``[]`` are present values and pass.

    :param _obj: the request body (or the value itself when ``_element`` is None).
    :param _element: the key or index that must be present.
    :param _error_code: the code of a missing value (default 1200).
    :param _status_code: the HTTP status (default 412).
    :param reply: return the reply dict on failure instead of raising.
    :raises ValidationException: ``Mandatory: {_element}`` (code ``_error_code``) when the
        value is missing, None or cannot be looked up; ``Mandatory: {_obj}`` without
        ``_element``; ``Key must not be emtpy`` (code 1201) when ``_element`` is ``""``.

    .. versionchanged:: 1.0
       A lookup that fails (non-indexable ``_obj``, bad index) is a validation failure.
    """
    if _element is None:
        if is_truthy(_obj):
            return None
        return fail(f"Mandatory: {describe(_obj)}", _error_code, _status_code, reply)
    if isinstance(_element, str) and not _element:
        return fail("Key must not be emtpy", EMPTY_KEY_ERROR_CODE, _status_code, reply)
    try:
        if _obj[_element] is not None:
            return None
    except Exception:  # a missing key, or _obj cannot be indexed
        pass
    return fail(f"Mandatory: {describe(_element)}", _error_code, _status_code, reply)


def assertz_intersects(
    x: Any,
    y: Any,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the iterables ``x`` and ``y`` share at least one element.

    :param x: an iterable.
    :param y: another iterable.
    :raises ValidationException: ``No intersection between {x} and {y}``, also when
        either is not iterable.
    """
    if _share_an_element(x, y):
        return None
    message = f"No intersection between {describe(x)} and {describe(y)}"
    return fail(message, _error_code, _status_code, reply)


def assertz_unauthorized(
    _expression: Any,
    _error_msg: str,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    reply: bool = False,
) -> Reply | None:
    """Like :func:`assertz_call` with HTTP status 401 Unauthorized.

    :raises ValidationException: ``_error_msg`` with status 401 when ``_expression`` is falsy.
    """
    if is_truthy(_expression):
        return None
    return fail(_error_msg, _error_code, UNAUTHORIZED_STATUS_CODE, reply)


def assertz_valid_values(
    _expression: Any,
    _error_msg: str,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Like :func:`assertz_call` with default code 1202 and status 412.

    :raises ValidationException: ``_error_msg`` when ``_expression`` is falsy.
    """
    if is_truthy(_expression):
        return None
    return fail(_error_msg, _error_code, _status_code, reply)


def _share_an_element(x: Any, y: Any) -> bool:
    try:
        return not set(x).isdisjoint(y)
    except TypeError:
        pass  # unhashable elements, or not iterable: compare by equality below
    except Exception:  # an untrusted object raising while iterated
        return False
    try:
        candidates = list(y)
        return any(item in candidates for item in x)
    except Exception:
        return False
