"""Validators of text formats: encodings, regular expressions and common identifiers.

Same signature and lookup rules as the scalar validators, but every failure of a
validator here has one fixed message (``Invalid email``, ``Invalid utf-8
encoding``, …), also for a missing key or a value that is not a ``str``.
The patterns are those of :mod:`envoxy.constants`, compiled once and matched
against the whole value (:meth:`re.Pattern.fullmatch`).
"""

import functools
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

from ._element import ElementValidator, element_validator
from ._failure import DEFAULT_STATUS_CODE, INVALID_TYPE_ERROR_CODE, Reply

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


@element_validator(message="Invalid utf-8 encoding")
def assertz_utf8(value: Any) -> bool:
    """Check that the value is a ``str`` that can be encoded as UTF-8 (``""`` included).

    Strings holding lone surrogates (``"\\ud800"``) fail; bytes are not strings and fail.
    Parameters as :func:`~envoxy.asserts.assertz_string`.

    :raises ValidationException: ``Invalid utf-8 encoding``.

    .. versionchanged:: 1.0
       ``""`` passes.
    """
    if not isinstance(value, str):
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@element_validator(message="Invalid ascii encoding")
def assertz_ascii(value: Any) -> bool:
    """Check that the value is a ``str`` of ASCII characters only (``""`` included).

    Parameters as :func:`~envoxy.asserts.assertz_string`.

    :raises ValidationException: ``Invalid ascii encoding``.

    .. versionchanged:: 1.0
       ``""`` passes.
    """
    return isinstance(value, str) and value.isascii()


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

    The other parameters are those of :func:`~envoxy.asserts.assertz_string`.

    :param regex_expr: the pattern, as a string or compiled.
    :param _error_msg: the message of every failure.
    :raises ValidationException: ``_error_msg``.
    :raises re.error: ``regex_expr`` is not a valid pattern (a mistake in the calling code).
    """
    if _element is None:  # before compiling, as in envoxy 0.7
        return None
    return _pattern_validator(regex_expr, _error_msg)(
        _element, key, _error_code, _status_code, reply
    )


@element_validator(message="Invalid hash")
def assertz_hash(value: Any) -> bool:
    """Check that the value is 45 characters of ``[A-Za-z0-9]``.

    The pattern is :data:`envoxy.constants.HASH_REGEX`. Parameters as
    :func:`~envoxy.asserts.assertz_string`.

    :raises ValidationException: ``Invalid hash``.
    """
    return isinstance(value, str) and _HASH.fullmatch(value) is not None


@element_validator(message="Invalid token")
def assertz_token(value: Any) -> bool:
    """Check that the value is 128 characters of ``[a-z0-9]``.

    The pattern is :data:`envoxy.constants.TOKEN_REGEX`. Parameters as
    :func:`~envoxy.asserts.assertz_string`.

    :raises ValidationException: ``Invalid token``.
    """
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


@element_validator(message="Invalid uri")
def assertz_uri(value: Any) -> bool:
    """Check that the value is a URI reference: a non-empty path, then an optional
    ``?query`` and ``#fragment``, without whitespace (``/a/b?x=1#top``).

    Parameters as :func:`~envoxy.asserts.assertz_string`.

    :raises ValidationException: ``Invalid uri``.

    .. versionchanged:: 1.0
       The pattern no longer matches every string (``""`` and ``"a b"`` fail).
    """
    return isinstance(value, str) and _URI.fullmatch(value) is not None


@element_validator(message="Invalid url")
def assertz_url(value: Any) -> bool:
    """Check that the value is a URL: an optional ``@`` or ``>``, a scheme of two or
    more characters, ``:``, then a non-empty remainder without whitespace
    (``https://example.com/x``, ``mailto:someone@example.com``).

    Parameters as :func:`~envoxy.asserts.assertz_string`.

    :raises ValidationException: ``Invalid url``.
    """
    return isinstance(value, str) and _URL.fullmatch(value) is not None


@element_validator(message="Invalid email")
def assertz_email(value: Any) -> bool:
    """Check that the value is an e-mail address ``local@domain.tld`` (``a@b`` fails).

    Parameters as :func:`~envoxy.asserts.assertz_string`.

    :raises ValidationException: ``Invalid email``.
    """
    return isinstance(value, str) and _EMAIL.fullmatch(value) is not None


@element_validator(message="Invalid phone")
def assertz_phone(value: Any) -> bool:
    """Check that the value is a phone number: an optional country code of 1 to 3
    digits in parentheses plus spaces, then 3 to 12 digits (``(351) 912345678``).

    Parameters as :func:`~envoxy.asserts.assertz_string`.

    :raises ValidationException: ``Invalid phone``.

    .. versionchanged:: 1.0
       The country code in parentheses is accepted.
    """
    return isinstance(value, str) and _PHONE.fullmatch(value) is not None


_HASH: Final = re.compile(HASH_REGEX)
_TOKEN: Final = re.compile(TOKEN_REGEX)
_URI: Final = re.compile(URI_REGEX)
_URL: Final = re.compile(URL_REGEX)
_EMAIL: Final = re.compile(EMAIL_REGEX)
_PHONE: Final = re.compile(PHONE_REGEX)


@functools.lru_cache(maxsize=512)  # as many patterns as the re module caches
def _pattern_validator(regex_expr: str | re.Pattern[str], message: str) -> ElementValidator:
    pattern = re.compile(regex_expr)

    @element_validator(message=message)
    def assertz_regex(value: Any) -> bool:
        return isinstance(value, str) and pattern.fullmatch(value) is not None

    return assertz_regex
