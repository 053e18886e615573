"""Routes: ``{name:type}`` endpoint patterns turned into werkzeug rules.

URL types are data: :data:`URL_CONVERTERS` maps each type name to a werkzeug
converter class, and an unknown name raises
:class:`~envoxy.views.exceptions.UnknownURLTypeError` naming the known ones.

=========  ===================================  =================
type       matches                              handler receives
=========  ===================================  =================
``str``    one path segment (``string`` too)    ``str``
``int``    digits                               ``int``
``float``  a decimal number                     ``float``
``uuid``   a UUID                               ``uuid.UUID``
``path``   the rest of the path, with slashes   ``str``
=========  ===================================  =================

``{name}`` alone means ``{name:str}``.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import MethodNotAllowed
from werkzeug.routing import (
    BaseConverter,
    FloatConverter,
    IntegerConverter,
    Map,
    PathConverter,
    Rule,
    UnicodeConverter,
    UUIDConverter,
)

from envoxy.views.exceptions import DuplicateRouteError, UnknownURLTypeError

__all__ = [
    "URL_CONVERTERS",
    "Route",
    "RouteTable",
    "topic_of",
    "werkzeug_rule",
]

#: URL variable type name -> werkzeug converter class
URL_CONVERTERS: dict[str, type[BaseConverter]] = {
    "str": UnicodeConverter,
    "string": UnicodeConverter,
    "int": IntegerConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
    "path": PathConverter,
}

_VARIABLE = re.compile(r"\{(?P<name>[^{}:]+)(?::(?P<type>[^{}]*))?\}")


def werkzeug_rule(endpoint: str, converters: Iterable[str] | None = None) -> str:
    """Translate an Envoxy endpoint pattern into a werkzeug rule string.

    :param endpoint: e.g. ``/v1/items/{item_id:int}``.
    :param converters: the allowed type names (default: :data:`URL_CONVERTERS`).
    :returns: e.g. ``/v1/items/<int:item_id>``.
    :raises UnknownURLTypeError: for a type without a converter.
    """
    known = sorted(URL_CONVERTERS if converters is None else converters)

    def replace(match: re.Match[str]) -> str:
        name = match["name"].strip()
        type_name = (match["type"] or "str").strip()
        if type_name not in known:
            raise UnknownURLTypeError(endpoint, type_name, known)
        return f"<{type_name}:{name}>"

    return _VARIABLE.sub(replace, endpoint)


def topic_of(endpoint: str) -> str:
    """Return the endpoint with ``{name:type}`` written ``{name}`` (the auth plugin's topic)."""
    return _VARIABLE.sub(lambda match: "{" + match["name"].strip() + "}", endpoint)


@dataclass(frozen=True, slots=True)
class Route:
    """One view bound to its endpoint.

    :param endpoint: the pattern as declared (passed to handlers as ``endpoint``).
    :param view: the view instance.
    :param methods: the upper-case HTTP methods the view defines.
    """

    endpoint: str
    view: Any
    methods: frozenset[str]


class RouteTable:
    """The HTTP routes of an app, matched with a werkzeug :class:`~werkzeug.routing.Map`.

    Static routes (without variables) are found with one dictionary look-up; the
    others go through werkzeug's matcher. Slashes are matched strictly, without
    redirects. HEAD is answered by GET handlers and OPTIONS by every route.
    """

    def __init__(self) -> None:
        self._map = Map(converters=URL_CONVERTERS, strict_slashes=False, merge_slashes=False)
        #: static path -> (method -> route)
        self._static: dict[str, dict[str, Route]] = {}
        self._owners: dict[tuple[str, str], str] = {}
        self._routes: list[Route] = []
        self._adapter: Any = None

    def add(self, endpoint: str, view: Any, methods: Iterable[str]) -> Route:
        """Register ``view`` for ``endpoint`` and the given HTTP methods.

        :raises UnknownURLTypeError: for an unknown URL type.
        :raises DuplicateRouteError: when a method of this route is already registered.
        """
        rule_text = werkzeug_rule(endpoint)
        shape = re.sub(r"<(\w+):[^>]+>", r"<\1>", rule_text)
        method_set = frozenset(method.upper() for method in methods)
        owner = f"{type(view).__module__}.{type(view).__qualname__}"
        for method in sorted(method_set):
            previous = self._owners.get((shape, method))
            if previous is not None:
                raise DuplicateRouteError(shape, method, (previous, owner))
        for method in method_set:
            self._owners[(shape, method)] = owner
        route = Route(endpoint, view, method_set)
        self._routes.append(route)
        if "<" not in rule_text:
            by_method = self._static.setdefault(rule_text, {})
            for method in method_set:
                by_method[method] = route
            if "GET" in by_method:
                by_method["HEAD"] = by_method["GET"]
            by_method.setdefault("OPTIONS", route)
        self._map.add(Rule(rule_text, endpoint=route, methods=sorted(method_set)))
        self._adapter = None
        return route

    def match(self, path: str, method: str) -> tuple[Route, dict[str, Any]]:
        """Find the route for ``path`` and ``method``.

        :returns: the route and the converted URL variables.
        :raises NotFound: when no route matches the path.
        :raises MethodNotAllowed: when routes match the path but not the method; its
            ``valid_methods`` lists the allowed ones (with HEAD and OPTIONS).
        """
        by_method = self._static.get(path)
        if by_method is not None:
            route = by_method.get(method)
            if route is not None:
                return route, {}
        adapter = self._adapter
        if adapter is None:
            adapter = self._adapter = self._map.bind("localhost")
        try:
            found, values = adapter.match(path, method)
        except MethodNotAllowed as exc:
            allowed = set(exc.valid_methods or ())
            if method == "OPTIONS" and allowed:
                found, values = adapter.match(path, sorted(allowed)[0])
                return found, values
            allowed.add("OPTIONS")
            raise MethodNotAllowed(valid_methods=sorted(allowed)) from None
        return found, values

    @property
    def routes(self) -> list[Route]:
        """The registered routes, in registration order."""
        return list(self._routes)

    def __len__(self) -> int:
        return len(self._routes)
