"""Exceptions of ``envoxy.views``.

Hierarchy::

    EnvoxyError
    ├── ViewError                    a view class or its route cannot be used (a startup error)
    │   ├── UnknownURLTypeError      a ``{name:type}`` type has no converter (a LookupError)
    │   ├── DuplicateRouteError      two views declare the same route and method
    │   └── InvalidViewError         a ``VIEWS`` entry is not a usable View subclass
    │       └── UnsafeCacheOrderError  ``@cache`` above a decorator that hides an auth decorator
    └── ValidationException
        ├── MalformedJSONError       a JSON request body that does not parse (400, code 0)
        │   └── JSONTooDeepError     a JSON request body nested too deeply (400, code 0)
        └── JSONTooLargeError        a JSON request body with too many values (413, code 0)
"""

from envoxy.exceptions import EnvoxyError, ValidationException

__all__ = [
    "DuplicateRouteError",
    "InvalidViewError",
    "JSONTooDeepError",
    "JSONTooLargeError",
    "MalformedJSONError",
    "UnknownURLTypeError",
    "UnsafeCacheOrderError",
    "ViewError",
]


class ViewError(EnvoxyError):
    """A view class or its route declaration cannot be served; raised while the app is built."""


class UnknownURLTypeError(ViewError, LookupError):
    """A ``{name:type}`` URL variable names a type that has no converter.

    :param endpoint: the route pattern as written in ``@on(endpoint=...)``.
    :param type_name: the unknown type.
    :param known: the type names that are available.
    """

    def __init__(self, endpoint: str, type_name: str, known: list[str]) -> None:
        self.endpoint = endpoint
        self.type_name = type_name
        self.known = known
        super().__init__(
            f"unknown URL type {type_name!r} in endpoint {endpoint!r}; "
            f"use one of: {', '.join(known)}"
        )


class DuplicateRouteError(ViewError):
    """Two views declare the same route (ignoring variable names) for the same HTTP method.

    :param rule: the normalised route.
    :param method: the HTTP method declared twice.
    :param views: the qualified names of the two view classes.
    """

    def __init__(self, rule: str, method: str, views: tuple[str, str]) -> None:
        self.rule = rule
        self.method = method
        self.views = views
        super().__init__(
            f"duplicate route {method} {rule!r}: declared by {views[0]} and {views[1]}; "
            "remove one of them or give it another endpoint"
        )


class InvalidViewError(ViewError):
    """A ``VIEWS`` entry is not a :class:`~envoxy.views.View` subclass, or its ``@on`` is
    incomplete (e.g. an MQTT view without ``server``)."""


class UnsafeCacheOrderError(InvalidViewError):
    """``@cache`` sits above another decorator that wraps an auth decorator: the cache could
    not be moved inside the auth check, so a lookup would run before auth (raised when the
    view module is imported).

    :param handler: the qualified name of the handler.
    """

    def __init__(self, handler: str) -> None:
        self.handler = handler
        super().__init__(
            f"@cache on {handler} is above a decorator that wraps @auth_required/"
            "@auth_anonymous_allowed, so a cached answer could be served before auth runs; "
            "put @cache directly above or below the auth decorator"
        )


class MalformedJSONError(ValidationException):
    """A request declared a JSON body that does not parse; answered with 400 and code 0."""

    def __init__(self, message: str = "Malformed JSON body") -> None:
        super().__init__(message, code=0, status=400)


class JSONTooDeepError(MalformedJSONError):
    """A JSON request body nests arrays and objects deeper than ``max_json_depth``; 400.

    :param max_depth: the configured bound.
    """

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"Malformed JSON body: nested deeper than {max_depth} levels")
        self.max_depth = max_depth


class JSONTooLargeError(ValidationException):
    """A JSON request body holds more values than ``max_json_elements``; 413, code 0.

    :param max_elements: the configured bound.
    """

    def __init__(self, max_elements: int) -> None:
        super().__init__(
            f"JSON body too large: more than {max_elements} values", code=0, status=413
        )
        self.max_elements = max_elements
