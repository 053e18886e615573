"""Validators of text formats: encodings, regular expressions and common identifiers.

Same signature and lookup rules as the scalar validators, but every failure of a
validator here has one fixed message (``Invalid email``, ``Invalid utf-8
encoding``, …), also for a missing key or a value that is not a ``str``.
The patterns are those of :mod:`envoxy.constants`, compiled once and matched
against the whole value (:meth:`re.Pattern.fullmatch`).
"""

import re
from typing import Any, Final

from envoxy.constants import (
    EMAIL_REGEX,
    HASH_REGEX,
    PHONE_REGEX,
    TOKEN_REGEX,
    URI_REGEX,
    URL_REGEX,
)

from ._failure import DEFAULT_STATUS_CODE, INVALID_TYPE_ERROR_CODE, Reply, fail
from ._values import MISSING

__all__ = [
    "assertz_ascii",
    "assertz_email",
    "assertz_hash",
    "assertz_phone",
    "assertz_regex",
    "assertz_token",
    "assertz_uri",
    "assertz_url",
    "assertz_utf8",
]


def assertz_utf8(
    _element: Any,
    key: Any = None,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the value is a ``str`` that can be encoded as UTF-8 (``""`` included).

    Strings holding lone surrogates (``"\\ud800"``) fail; bytes are not strings and fail.

    :param _element: the value, or the container when ``key`` is given.
    :param key: the key or index of the value in ``_element``.
    :param _error_code: the application code of a failure (default 1202).
    :param _status_code: the HTTP status of a failure (default 412).
    :param reply: return the reply dict on failure instead of raising.
    :raises ValidationException: ``Invalid utf-8 encoding``.

    .. versionchanged:: 1.0
       ``""`` passes.
    """
    if _element is None:
        return None
    try:
        value = _element if key is None else _element[key]
    except Exception:  # a missing key, or _element cannot be indexed
        value = MISSING
    if isinstance(value, str) and (value.isascii() or _encodes_as_utf8(value)):
        return None
    return fail("Invalid utf-8 encoding", _error_code, _status_code, reply)


def assertz_ascii(
    _element: Any,
    key: Any = None,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the value is a ``str`` of ASCII characters only (``""`` included).

    Parameters as :func:`assertz_utf8`.

    :raises ValidationException: ``Invalid ascii encoding``.

    .. versionchanged:: 1.0
       ``""`` passes.
    """
    if _element is None:
        return None
    try:
        value = _element if key is None else _element[key]
    except Exception:  # a missing key, or _element cannot be indexed
        value = MISSING
    if isinstance(value, str) and value.isascii():
        return None
    return fail("Invalid ascii encoding", _error_code, _status_code, reply)


def assertz_regex(
    regex_expr: str | re.Pattern[str],
    _error_msg: str,
    _element: Any,
    key: Any = None,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the value is a ``str`` that ``regex_expr`` matches as a whole.

    Example: ``assertz_regex(r"[a-z]{2}", "Invalid language", body, "language")``.

    :param regex_expr: the pattern, as a string or compiled.
    :param _error_msg: the message of every failure.
    :param _element: the value, or the container when ``key`` is given.
    :param key: the key or index of the value in ``_element``.
    :param _error_code: the application code of a failure (default 1202).
    :param _status_code: the HTTP status of a failure (default 412).
    :param reply: return the reply dict on failure instead of raising.
    :raises ValidationException: ``_error_msg``.
    :raises re.error: ``regex_expr`` is not a valid pattern (a mistake in the calling code).
    """
    if _element is None:
        return None
    try:
        value = _element if key is None else _element[key]
    except Exception:  # a missing key, or _element cannot be indexed
        value = MISSING
    if isinstance(value, str) and re.fullmatch(regex_expr, value):
        return None
    return fail(_error_msg, _error_code, _status_code, reply)


def assertz_hash(
    _element: Any,
    key: Any = None,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the value is 45 characters of ``[A-Za-z0-9]``.

    The pattern is :data:`envoxy.constants.HASH_REGEX`. Parameters as :func:`assertz_utf8`.

    :raises ValidationException: ``Invalid hash``.
    """
    return _match(_HASH, "Invalid hash", _element, key, _error_code, _status_code, reply)


def assertz_token(
    _element: Any,
    key: Any = None,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the value is 128 characters of ``[a-z0-9]``.

    The pattern is :data:`envoxy.constants.TOKEN_REGEX`. Parameters as :func:`assertz_utf8`.

    :raises ValidationException: ``Invalid token``.
    """
    return _match(_TOKEN, "Invalid token", _element, key, _error_code, _status_code, reply)


def assertz_uri(
    _element: Any,
    key: Any = None,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the value is a URI reference: a non-empty path, then an optional
    ``?query`` and ``#fragment``, without whitespace (``/a/b?x=1#top``).

    Parameters as :func:`assertz_utf8`.

    :raises ValidationException: ``Invalid uri``.

    .. versionchanged:: 1.0
       The pattern no longer matches every string (``""`` and ``"a b"`` fail).
    """
    return _match(_URI, "Invalid uri", _element, key, _error_code, _status_code, reply)


def assertz_url(
    _element: Any,
    key: Any = None,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the value is a URL: an optional ``@`` or ``>``, a scheme of two or
    more characters, ``:``, then a non-empty remainder without whitespace
    (``https://example.com/x``, ``mailto:someone@example.com``).

    Parameters as :func:`assertz_utf8`.

    :raises ValidationException: ``Invalid url``.
    """
    return _match(_URL, "Invalid url", _element, key, _error_code, _status_code, reply)


def assertz_email(
    _element: Any,
    key: Any = None,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the value is an e-mail address ``local@domain.tld`` (``a@b`` fails).

    Parameters as :func:`assertz_utf8`.

    :raises ValidationException: ``Invalid email``.
    """
    return _match(_EMAIL, "Invalid email", _element, key, _error_code, _status_code, reply)


def assertz_phone(
    _element: Any,
    key: Any = None,
    _error_code: int = INVALID_TYPE_ERROR_CODE,
    _status_code: int = DEFAULT_STATUS_CODE,
    reply: bool = False,
) -> Reply | None:
    """Check that the value is a phone number: an optional country code of 1 to 3
    digits in parentheses plus spaces, then 3 to 12 digits (``(351) 912345678``).

    Parameters as :func:`assertz_utf8`.

    :raises ValidationException: ``Invalid phone``.

    .. versionchanged:: 1.0
       The country code in parentheses is accepted.
    """
    return _match(_PHONE, "Invalid phone", _element, key, _error_code, _status_code, reply)


_HASH: Final = re.compile(HASH_REGEX)
_TOKEN: Final = re.compile(TOKEN_REGEX)
_URI: Final = re.compile(URI_REGEX)
_URL: Final = re.compile(URL_REGEX)
_EMAIL: Final = re.compile(EMAIL_REGEX)
_PHONE: Final = re.compile(PHONE_REGEX)


def _match(
    pattern: re.Pattern[str],
    message: str,
    element: Any,
    key: Any,
    error_code: int,
    status_code: int,
    reply: bool,
) -> Reply | None:
    if element is None:
        return None
    try:
        value = element if key is None else element[key]
    except Exception:  # a missing key, or element cannot be indexed
        value = MISSING
    if isinstance(value, str) and pattern.fullmatch(value):
        return None
    return fail(message, error_code, status_code, reply)


def _encodes_as_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
