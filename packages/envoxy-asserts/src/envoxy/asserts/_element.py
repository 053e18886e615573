"""The one shape of the value validators: look the value up, check it, report a failure.

Every ``assertz_<type>`` validator takes ``(_element, key=None, _error_code=1202,
_status_code=412, reply=False)``: ``_element`` None passes; with ``key`` the value
checked is ``_element[key]``; a lookup that fails gives a value that no check accepts.
Only the check differs, so each validator is written as its check, a predicate, and
:func:`element_validator` turns the predicate into the public function::

    @element_validator(exact=str)
    def assertz_string(value: Any) -> bool:  # its docstring documents the validator
        return isinstance(value, str)

The validator is one plain function per call (no wrapper around it), and a value of
exactly the ``exact`` type passes without calling the predicate at all: the hot path
of a healthy request body.
"""

from collections.abc import Callable
from typing import Any, Protocol

from ._failure import DEFAULT_STATUS_CODE, INVALID_TYPE_ERROR_CODE, Reply, fail, fail_type
from ._values import MISSING

__all__ = ["ElementValidator", "element_validator"]


class ElementValidator(Protocol):
    """``(_element, key=None, _error_code=1202, _status_code=412, reply=False)``."""

    __name__: str

    def __call__(
        self,
        _element: Any,
        key: Any = None,
        _error_code: int = ...,
        _status_code: int = ...,
        reply: bool = False,
    ) -> Reply | None: ...


def element_validator(
    *,
    exact: type | None = None,
    message: str | None = None,
    passing_element: type | None = None,
) -> Callable[[Callable[[Any], bool]], ElementValidator]:
    """Make a decorator turning a predicate on one value into a public validator.

    The validator takes the predicate's name, qualified name, module and docstring.
    A predicate that raises rejects the value (the error never escapes the validator).

    :param exact: a type whose instances (not its subclasses' instances) pass without
        calling the predicate; the predicate must accept every one of them.
    :param message: the text of every failure; None for ``Invalid value type: {value}``
        (``{key}`` when the lookup failed).
    :param passing_element: an ``_element`` of this type passes whatever its ``key``
        (``assertz_timestamp`` and dates, as in envoxy 0.7).
    """

    def decorate(accepts: Callable[[Any], bool]) -> ElementValidator:
        def validator(
            _element: Any,
            key: Any = None,
            _error_code: int = INVALID_TYPE_ERROR_CODE,
            _status_code: int = DEFAULT_STATUS_CODE,
            reply: bool = False,
        ) -> Reply | None:
            if _element is None:
                return None
            try:
                value = _element if key is None else _element[key]
            except Exception:  # a missing key, or _element cannot be indexed
                value = MISSING
            try:
                if type(value) is exact or accepts(value):
                    return None
            except Exception:  # an untrusted value raising inside the check: rejected
                pass
            if passing_element is not None and isinstance(_element, passing_element):
                return None
            if message is None:
                return fail_type(value, key, _error_code, _status_code, reply)
            return fail(message, _error_code, _status_code, reply)

        # A code object of its own, named after the validator: tracebacks and profilers
        # show ``assertz_string``, and the interpreter specializes each validator's
        # calls for its own predicate (a shared code object would see them all).
        validator.__code__ = validator.__code__.replace(
            co_name=accepts.__name__, co_qualname=accepts.__qualname__
        )
        validator.__name__ = accepts.__name__
        validator.__qualname__ = accepts.__qualname__
        validator.__module__ = accepts.__module__
        validator.__doc__ = accepts.__doc__
        return validator

    return decorate
