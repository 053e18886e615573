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

Matching uses each converter's ``regex`` and ``to_python`` (a converter declines a
value by raising werkzeug's ``ValidationError``). Static routes are found with one
dictionary look-up; the others are tried most specific first (fewer ``path``
variables, then more literal characters), as werkzeug ranks its rules.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import (
    BaseConverter,
    FloatConverter,
    IntegerConverter,
    Map,
    PathConverter,
    UnicodeConverter,
    UUIDConverter,
    ValidationError,
)
from werkzeug.routing.converters import NumberConverter

from envoxy.views.exceptions import DuplicateRouteError, InvalidViewError, UnknownURLTypeError

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
    :param handlers: upper-case method -> bound handler (HEAD -> ``get``).
    """

    endpoint: str
    view: Any
    methods: frozenset[str]
    handlers: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(slots=True)
class _Pattern:
    regex: re.Pattern[str]
    converters: dict[str, BaseConverter]
    rank: tuple[int, int, int]
    shape: str
    by_method: dict[str, Route] = field(default_factory=dict)
    #: (name, function) for each variable whose text is converted (``str`` ones are not)
    conversions: tuple[tuple[str, Callable[[str], Any]], ...] = ()


class RouteTable:
    """The HTTP routes of an app.

    HEAD is answered by GET handlers and OPTIONS by every route; slashes are matched
    exactly, without redirects.
    """

    def __init__(self) -> None:
        self._converter_map = Map()
        #: static path -> (method -> route)
        self._static: dict[str, dict[str, Route]] = {}
        self._patterns: list[_Pattern] = []
        self._shapes: dict[str, _Pattern] = {}
        self._owners: dict[tuple[str, str], str] = {}
        self._routes: list[Route] = []

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
        handlers = {method: getattr(view, method.lower()) for method in method_set}
        if "GET" in handlers:
            handlers["HEAD"] = handlers["GET"]
        route = Route(endpoint, view, method_set, handlers)
        self._routes.append(route)
        if "<" in rule_text:
            pattern = self._shapes.get(shape)
            if pattern is None:
                pattern = self._shapes[shape] = self._compile(rule_text, shape)
                self._patterns.append(pattern)
                self._patterns.sort(key=lambda item: item.rank)
            by_method = pattern.by_method
        else:
            by_method = self._static.setdefault(rule_text, {})
        for method in method_set:
            by_method[method] = route
        if "GET" in by_method:
            by_method["HEAD"] = by_method["GET"]
        by_method.setdefault("OPTIONS", route)
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
        allowed: set[str] = set(by_method or ())
        for pattern in self._patterns:
            found = pattern.regex.fullmatch(path)
            if found is None:
                continue
            values: dict[str, Any] = found.groupdict()
            try:
                for name, convert in pattern.conversions:
                    values[name] = convert(values[name])
            except ValidationError:
                continue
            route = pattern.by_method.get(method)
            if route is not None:
                return route, values
            allowed.update(pattern.by_method)
        if allowed:
            raise MethodNotAllowed(valid_methods=sorted(allowed))
        raise NotFound()

    @property
    def routes(self) -> list[Route]:
        """The registered routes, in registration order."""
        return list(self._routes)

    def __len__(self) -> int:
        return len(self._routes)

    def _compile(self, rule_text: str, shape: str) -> _Pattern:
        parts: list[str] = []
        converters: dict[str, BaseConverter] = {}
        literal = 0
        paths = 0
        position = 0
        for found in re.finditer(r"<(?P<type>[^:>]+):(?P<name>[^>]+)>", rule_text):
            text = rule_text[position : found.start()]
            parts.append(re.escape(text))
            literal += len(text)
            name = found["name"].strip()
            if not name.isidentifier() or name in converters:
                raise InvalidViewError(
                    f"URL variable {name!r} in {shape!r} must be a unique Python identifier"
                )
            converter = URL_CONVERTERS[found["type"]](self._converter_map)
            converters[name] = converter
            paths += not converter.part_isolating
            parts.append(f"(?P<{name}>{converter.regex})")
            position = found.end()
        tail = rule_text[position:]
        parts.append(re.escape(tail))
        literal += len(tail)
        conversions = tuple(
            (name, convert)
            for name, converter in converters.items()
            if (convert := _conversion(converter)) is not None
        )
        return _Pattern(
            regex=re.compile("".join(parts)),
            converters=converters,
            rank=(paths, -literal, len(converters)),
            shape=shape,
            conversions=conversions,
        )


def _conversion(converter: BaseConverter) -> Callable[[str], Any] | None:
    """What turns a matched text into the handler's value: ``None`` when werkzeug's
    converter keeps the text, ``int``/``float`` for its default number converters (the
    same result without the checks they skip), else its ``to_python``."""
    kind = type(converter)
    if kind.to_python is BaseConverter.to_python:
        return None
    if kind in (IntegerConverter, FloatConverter):
        number = cast(NumberConverter, converter)
        if not number.fixed_digits and number.min is None and number.max is None:
            return int if kind is IntegerConverter else float
    return converter.to_python
