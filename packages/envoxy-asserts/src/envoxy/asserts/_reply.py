"""The ``assertz_<name>_reply`` variants: each validator with ``reply=True``.

A variant takes the parameters of its validator, with the same defaults, minus
``reply``; it returns None when the check passes and the reply dict when it
fails, and never raises :class:`~envoxy.exceptions.ValidationException`.

The variants are built by one small factory per parameter shape, so each is a
real function (with its own name, docstring and signature for ``help()``) and
its type, a callback protocol below, is checked by mypy.
"""

import re
from collections.abc import Callable
from typing import Any, Protocol

from . import _expressions, _formats, _scalars, _structures
from ._failure import (
    DEFAULT_STATUS_CODE,
    INVALID_TYPE_ERROR_CODE,
    MANDATORY_ERROR_CODE,
    Reply,
)

__all__ = [
    "assertz_array_even_empty_reply",
    "assertz_array_reply",
    "assertz_ascii_reply",
    "assertz_boolean_reply",
    "assertz_complex_reply",
    "assertz_dict_reply",
    "assertz_email_reply",
    "assertz_float_reply",
    "assertz_hash_reply",
    "assertz_integer_reply",
    "assertz_intersects_reply",
    "assertz_json_reply",
    "assertz_location_reply",
    "assertz_mandatory_reply",
    "assertz_phone_reply",
    "assertz_regex_reply",
    "assertz_string_reply",
    "assertz_timestamp_reply",
    "assertz_token_reply",
    "assertz_unauthorized_reply",
    "assertz_uri_reply",
    "assertz_url_reply",
    "assertz_utf8_reply",
    "assertz_uuid_reply",
    "assertz_valid_values_reply",
]


class ElementReplyValidator(Protocol):
    """``(_element, key=None, _error_code=1202, _status_code=412) -> Reply | None``."""

    def __call__(
        self, _element: Any, key: Any = None, _error_code: int = ..., _status_code: int = ...
    ) -> Reply | None: ...


class MandatoryReplyValidator(Protocol):
    """``(_obj, _element=None, _error_code=1200, _status_code=412) -> Reply | None``."""

    def __call__(
        self, _obj: Any, _element: Any = None, _error_code: int = ..., _status_code: int = ...
    ) -> Reply | None: ...


class RegexReplyValidator(Protocol):
    """``(regex_expr, _error_msg, _element, key=None, _error_code=1202, _status_code=412)``."""

    def __call__(
        self,
        regex_expr: str | re.Pattern[str],
        _error_msg: str,
        _element: Any,
        key: Any = None,
        _error_code: int = ...,
        _status_code: int = ...,
    ) -> Reply | None: ...


class IntersectsReplyValidator(Protocol):
    """``(x, y, _error_code=1202, _status_code=412) -> Reply | None``."""

    def __call__(
        self, x: Any, y: Any, _error_code: int = ..., _status_code: int = ...
    ) -> Reply | None: ...


class ExpressionReplyValidator(Protocol):
    """``(_expression, _error_msg, _error_code=1202, _status_code=412) -> Reply | None``."""

    def __call__(
        self, _expression: Any, _error_msg: str, _error_code: int = ..., _status_code: int = ...
    ) -> Reply | None: ...


class UnauthorizedReplyValidator(Protocol):
    """``(_expression, _error_msg, _error_code=1202) -> Reply | None`` (status 401)."""

    def __call__(
        self, _expression: Any, _error_msg: str, _error_code: int = ...
    ) -> Reply | None: ...


Validator = Callable[..., Reply | None]


def _element_reply(validator: Validator) -> ElementReplyValidator:
    def variant(
        _element: Any,
        key: Any = None,
        _error_code: int = INVALID_TYPE_ERROR_CODE,
        _status_code: int = DEFAULT_STATUS_CODE,
    ) -> Reply | None:
        return validator(_element, key, _error_code, _status_code, reply=True)

    return _named_after(validator, variant)


def _mandatory_reply(validator: Validator) -> MandatoryReplyValidator:
    def variant(
        _obj: Any,
        _element: Any = None,
        _error_code: int = MANDATORY_ERROR_CODE,
        _status_code: int = DEFAULT_STATUS_CODE,
    ) -> Reply | None:
        return validator(_obj, _element, _error_code, _status_code, reply=True)

    return _named_after(validator, variant)


def _regex_reply(validator: Validator) -> RegexReplyValidator:
    def variant(
        regex_expr: str | re.Pattern[str],
        _error_msg: str,
        _element: Any,
        key: Any = None,
        _error_code: int = INVALID_TYPE_ERROR_CODE,
        _status_code: int = DEFAULT_STATUS_CODE,
    ) -> Reply | None:
        return validator(
            regex_expr, _error_msg, _element, key, _error_code, _status_code, reply=True
        )

    return _named_after(validator, variant)


def _intersects_reply(validator: Validator) -> IntersectsReplyValidator:
    def variant(
        x: Any,
        y: Any,
        _error_code: int = INVALID_TYPE_ERROR_CODE,
        _status_code: int = DEFAULT_STATUS_CODE,
    ) -> Reply | None:
        return validator(x, y, _error_code, _status_code, reply=True)

    return _named_after(validator, variant)


def _expression_reply(validator: Validator) -> ExpressionReplyValidator:
    def variant(
        _expression: Any,
        _error_msg: str,
        _error_code: int = INVALID_TYPE_ERROR_CODE,
        _status_code: int = DEFAULT_STATUS_CODE,
    ) -> Reply | None:
        return validator(_expression, _error_msg, _error_code, _status_code, reply=True)

    return _named_after(validator, variant)


def _unauthorized_reply(validator: Validator) -> UnauthorizedReplyValidator:
    def variant(
        _expression: Any, _error_msg: str, _error_code: int = INVALID_TYPE_ERROR_CODE
    ) -> Reply | None:
        return validator(_expression, _error_msg, _error_code, reply=True)

    return _named_after(validator, variant)


def _named_after[F: Callable[..., Any]](validator: Validator, variant: F) -> F:
    base_name = validator.__name__
    variant.__name__ = variant.__qualname__ = f"{base_name}_reply"
    variant.__doc__ = (
        f"Run :func:`{base_name}` with ``reply=True``.\n\n"
        f"Same parameters and defaults as :func:`{base_name}`, without ``reply``.\n\n"
        ":returns: None when the check passes, else the reply dict\n"
        '    ``{"status": …, "payload": {"text": …, "code": …, "assertion_failed": …}}``,\n'
        "    whose ``assertion_failed`` names the calling line.\n"
    )
    return variant


assertz_mandatory_reply = _mandatory_reply(_expressions.assertz_mandatory)
assertz_string_reply = _element_reply(_scalars.assertz_string)
assertz_integer_reply = _element_reply(_scalars.assertz_integer)
assertz_float_reply = _element_reply(_scalars.assertz_float)
assertz_boolean_reply = _element_reply(_scalars.assertz_boolean)
assertz_timestamp_reply = _element_reply(_scalars.assertz_timestamp)
assertz_uuid_reply = _element_reply(_scalars.assertz_uuid)
assertz_array_reply = _element_reply(_structures.assertz_array)
assertz_array_even_empty_reply = _element_reply(_structures.assertz_array_even_empty)
assertz_dict_reply = _element_reply(_structures.assertz_dict)
assertz_json_reply = _element_reply(_structures.assertz_json)
assertz_complex_reply = _element_reply(_structures.assertz_complex)
assertz_location_reply = _element_reply(_structures.assertz_location)
assertz_utf8_reply = _element_reply(_formats.assertz_utf8)
assertz_ascii_reply = _element_reply(_formats.assertz_ascii)
assertz_regex_reply = _regex_reply(_formats.assertz_regex)
assertz_hash_reply = _element_reply(_formats.assertz_hash)
assertz_token_reply = _element_reply(_formats.assertz_token)
assertz_uri_reply = _element_reply(_formats.assertz_uri)
assertz_url_reply = _element_reply(_formats.assertz_url)
assertz_email_reply = _element_reply(_formats.assertz_email)
assertz_phone_reply = _element_reply(_formats.assertz_phone)
assertz_intersects_reply = _intersects_reply(_expressions.assertz_intersects)
assertz_unauthorized_reply = _unauthorized_reply(_expressions.assertz_unauthorized)
assertz_valid_values_reply = _expression_reply(_expressions.assertz_valid_values)
