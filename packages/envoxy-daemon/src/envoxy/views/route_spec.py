"""The route of a view: what ``@on`` declares, frozen (:class:`RouteSpec`).

``@on("/v1/items/{item_id:int}")`` stores a :class:`RouteSpec` on the class as
``route_spec``; :func:`route_spec_of` reads it back, or builds one from an original
``__metaclass__`` namespace (a class that set one by hand). Options other than
``endpoint``, ``protocols`` and ``server`` are kept in :attr:`RouteSpec.options` and read
with :meth:`RouteSpec.option` or as attributes (``spec.qos``), as they were on
``__metaclass__``: a new option (MQTT's ``qos``, ``shared``…) needs no new field.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PROTOCOLS", "RouteSpec", "legacy_namespace", "route_spec_of"]

#: the protocols a view may serve
PROTOCOLS: frozenset[str] = frozenset({"http", "mqtt"})


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """A view's route as declared with :func:`envoxy.decorators.on`.

    :param endpoint: the HTTP pattern (``/v1/items/{item_id:int}``) or the MQTT topic.
    :param protocols: ``("http",)``, ``("mqtt",)`` or both.
    :param server: the ``mqtt_servers`` key of an MQTT view.
    :param options: the other keyword options given to ``@on``, as ``(name, value)`` pairs
        sorted by name.
    """

    endpoint: str
    protocols: tuple[str, ...] = ("http",)
    server: str | None = None
    options: tuple[tuple[str, Any], ...] = field(default=(), hash=False)

    def option(self, name: str, default: Any = None) -> Any:
        """The value of the ``@on`` option ``name``, else ``default``."""
        for key, value in self.options:
            if key == name:
                return value
        return default

    def __getattr__(self, name: str) -> Any:
        # other @on options read as attributes, as on the original __metaclass__
        if name.startswith("__") or name == "options":
            raise AttributeError(name)
        missing = object()
        value = self.option(name, missing)
        if value is missing:
            raise AttributeError(f"route {self.endpoint!r} has no option {name!r}")
        return value

    @property
    def http(self) -> bool:
        """Whether the view answers HTTP requests."""
        return "http" in self.protocols

    @property
    def mqtt(self) -> bool:
        """Whether the view subscribes to MQTT messages."""
        return "mqtt" in self.protocols

    @classmethod
    def of(
        cls,
        endpoint: str | None,
        protocols: str | Iterable[str] = ("http",),
        server: str | None = None,
        **options: Any,
    ) -> "RouteSpec":
        """Build a spec from ``@on``'s arguments (``protocols`` may be one name or a list).

        :raises TypeError: when ``endpoint`` is not a non-empty string or ``protocols``
            holds something other than names.
        """
        if not isinstance(endpoint, str) or not endpoint:
            raise TypeError(f"@on needs an endpoint (a non-empty string), got {endpoint!r}")
        names = (protocols,) if isinstance(protocols, str) else tuple(protocols)
        if not all(isinstance(name, str) for name in names):
            raise TypeError(f"@on protocols must be names such as 'http' or 'mqtt', got {names!r}")
        return cls(endpoint, names, server, tuple(sorted(options.items())))


def route_spec_of(cls: type) -> RouteSpec | None:
    """The route of view class ``cls``: its ``route_spec``, else one built from an
    original ``__metaclass__`` namespace with an ``endpoint``; ``None`` without either."""
    spec = getattr(cls, "route_spec", None)
    if isinstance(spec, RouteSpec):
        return spec
    meta = getattr(cls, "__metaclass__", None)
    endpoint = getattr(meta, "endpoint", None)
    if meta is None or not endpoint:
        return None
    options = {
        name: value
        for name, value in vars(meta).items()
        if not name.startswith("__") and name not in ("endpoint", "route", "protocols", "server")
    }
    protocols = getattr(meta, "protocols", None) or ("http",)
    return RouteSpec.of(str(endpoint), protocols, getattr(meta, "server", None), **options)


def legacy_namespace(spec: RouteSpec) -> type:
    """The original ``__metaclass__``: a class whose attributes are ``@on``'s values
    (``protocols`` as a list), for code written for envoxy 0.7."""
    values = {
        **dict(spec.options),
        "endpoint": spec.endpoint,
        "protocols": list(spec.protocols),
        "server": spec.server,
    }
    return type("Meta", (), values)
