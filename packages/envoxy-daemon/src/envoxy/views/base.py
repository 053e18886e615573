"""The :class:`View` base class: one handler per HTTP method, as in Flask's ``MethodView``.

A view declares its route with :func:`envoxy.decorators.on` and defines any of
``get``, ``post``, ``put``, ``patch`` and ``delete`` (HTTP) and ``on_event`` (MQTT)::

    @on(endpoint="/v1/items/{item_id:int}", protocols=["http"])
    class ItemView(View):
        def get(self, request, item_id, **kwargs):
            return {"id": item_id}

The allowed HTTP methods are worked out once, when the class is defined.
"""

from typing import Any, ClassVar

from envoxy.views.route_spec import RouteSpec

__all__ = ["HANDLER_NAMES", "HTTP_HANDLER_NAMES", "View"]

#: handler names that answer HTTP requests, in the order they are listed
HTTP_HANDLER_NAMES: tuple[str, ...] = ("get", "post", "put", "patch", "delete")
#: every handler name a view may define; ``on_event`` is never HTTP
HANDLER_NAMES: tuple[str, ...] = (*HTTP_HANDLER_NAMES, "on_event")


class View:
    """Base class of Envoxy views.

    ``route_spec`` is the frozen route ``@on`` declared
    (:class:`~envoxy.views.route_spec.RouteSpec`), and ``__metaclass__`` the same values
    as the original namespace; both are ``None`` until the class is decorated.
    ``http_methods`` is the set of upper-case HTTP methods the class defines (computed on
    subclassing).

    Handlers are ``get``, ``post``, ``put``, ``patch`` and ``delete``, called as
    ``handler(self, request, **url_vars, endpoint=<pattern>)`` with a
    :class:`~envoxy.views.request.Request`; they return a
    :data:`~envoxy.views.containers.ResponseValue`::

        def get(self, request: Request, item_id: int, **kwargs: Any) -> ResponseValue:
            return {"id": item_id, "q": request.args.get("q")}
    """

    route_spec: ClassVar[RouteSpec | None] = None
    __metaclass__: ClassVar[Any] = None
    http_methods: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.http_methods = frozenset(
            name.upper() for name in HTTP_HANDLER_NAMES if callable(getattr(cls, name, None))
        )

    def get_methods(self) -> list[str]:
        """List the handler names this view defines, among ``get``, ``post``, ``put``,
        ``patch``, ``delete`` and ``on_event``."""
        return [name for name in HANDLER_NAMES if callable(getattr(self, name, None))]

    def cached_response(self, result: Any) -> Any:
        """Build the response for a cache hit of :func:`envoxy.decorators.cache`.

        :param result: the cached JSON body.
        :returns: a :class:`~envoxy.views.containers.Response` with ``X-Cache: HIT``.
        """
        from envoxy.views.containers import Response

        response = Response(result)
        response.headers["X-Cache"] = "HIT"
        return response
