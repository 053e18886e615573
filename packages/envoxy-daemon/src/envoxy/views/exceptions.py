"""Exceptions of ``envoxy.views``.

Hierarchy::

    EnvoxyError
    ├── ViewError                    a view class or its route cannot be used (a startup error)
    │   ├── UnknownURLTypeError      a ``{name:type}`` type has no converter (a LookupError)
    │   ├── DuplicateRouteError      two views declare the same route and method
    │   └── InvalidViewError         a ``__loader__`` entry is not a usable View subclass
    └── ValidationException
        └── MalformedJSONError       a JSON request body that does not parse (400, code 0)
"""

from envoxy.exceptions import EnvoxyError, ValidationException

__all__ = [
    "DuplicateRouteError",
    "InvalidViewError",
    "MalformedJSONError",
    "UnknownURLTypeError",
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
    """A ``__loader__`` entry is not a :class:`~envoxy.views.View` subclass, or its ``@on`` is
    incomplete (e.g. an MQTT view without ``server``)."""


class MalformedJSONError(ValidationException):
    """A request declared a JSON body that does not parse; answered with 400 and code 0."""

    def __init__(self, message: str = "Malformed JSON body") -> None:
        super().__init__(message, code=0, status=400)
