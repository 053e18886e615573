"""Decorators of Envoxy views: ``on``, ``auth_required``, ``auth_anonymous_allowed``,
``cache`` and ``log_event``.

.. versionchanged:: 1.0
   ``log_event`` wraps ``on_event(self, data, **meta)`` (it passed the wrong ``self``
   and paho's arguments); ``cache`` keys include a hash of ``Authorization`` and the
   body, so two callers never share a cached answer.
"""

import functools
import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from envoxy.constants import CACHE_DEFAULT_TTL
from envoxy.exceptions import ValidationException
from envoxy.utils.logs import log

__all__ = [
    "AuthRejectedError",
    "auth_anonymous_allowed",
    "auth_required",
    "cache",
    "log_event",
    "on",
]

ClassT = TypeVar("ClassT", bound=type)
Handler = Callable[..., Any]

#: attribute set on handlers wrapped by an auth decorator (checked at startup)
AUTH_MARKER = "__envoxy_auth__"


def on(**kwargs: Any) -> Callable[[ClassT], ClassT]:
    """Declare a view's route: ``@on(endpoint="/v1/items/{item_id:int}", protocols=["http"])``.

    :param kwargs: ``endpoint`` (alias ``route``), ``protocols`` (default ``["http"]``; add
        ``"mqtt"`` for ``on_event`` subscriptions) and ``server`` (the ``mqtt_servers`` key).
        Every value is stored on ``cls.__metaclass__``.
    """
    values = dict(kwargs)
    if "endpoint" not in values and "route" in values:
        values["endpoint"] = values["route"]
    protocols = values.get("protocols", ["http"])
    values["protocols"] = [protocols] if isinstance(protocols, str) else list(protocols)

    def decorate(cls: ClassT) -> ClassT:
        cls.__metaclass__ = type("Meta", (), dict(values))  # type: ignore[attr-defined]
        return cls

    return decorate


class AuthRejectedError(ValidationException):
    """The auth plugin refused a request; answered as JSON with 401 or 403."""

    force_json = True


def auth_required(*func: Handler, **options: Any) -> Any:
    """Run the plugin's ``Auth().authenticate`` before the handler.

    Use as ``@auth_required(roles=[...])`` or bare ``@auth_required``. The plugin gets
    ``(request, topic=<endpoint with {v:type} written {v}>, **kwargs)`` where ``kwargs``
    holds the URL variables, ``endpoint`` and ``options``; a truthy dict it returns is
    merged into the handler's keyword arguments.
    """
    return _auth_decorator("authenticate", func, options)


def auth_anonymous_allowed(*func: Handler, **options: Any) -> Any:
    """Like :func:`auth_required` but calls the plugin's ``Auth().anonymous``."""
    return _auth_decorator("anonymous", func, options)


class cache:  # noqa: N801 - the public name of the original decorator
    """Cache a handler's 200 JSON answers in the ``cache`` backend (Redis).

    The key covers the path and query, the handler, the body of non-GET requests and
    a hash of ``Authorization``. A hit is answered by ``view.cached_response`` with
    ``X-Cache: HIT``; ``X-No-Cache`` skips the look-up; a backend failure is logged
    as a warning and the handler runs.

    :param ttl: seconds a cached answer lives.
    """

    def __init__(self, ttl: int = CACHE_DEFAULT_TTL) -> None:
        self.ttl = ttl
        self._backend: Any = None

    def __call__(self, func: Handler) -> Handler:
        """Wrap ``func``, a view handler ``(self, request, **kwargs)``."""

        @functools.wraps(func)
        def wrapped(view: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            endpoint, method, params = _cache_key(request, func.__name__)
            if "X-No-Cache" not in request.headers:
                hit = self._call_backend("get", endpoint, method, params)
                if hit:
                    return view.cached_response(hit)
            response = _as_response(func(view, request, *args, **kwargs))
            if (
                response is not None
                and getattr(response, "status_code", None) == 200
                and getattr(response, "is_json", False)
            ):
                body = response.get_json(silent=True)
                if body is not None:
                    self._call_backend("set", endpoint, method, params, body, ttl=self.ttl)
            return response

        return wrapped

    def _call_backend(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        try:
            if self._backend is None:
                self._backend = _cache_backend()
            return getattr(self._backend, operation)(*args, **kwargs)
        except Exception as exc:
            log.warning(
                f"@cache: the cache backend failed on {operation} ({type(exc).__name__}: {exc})"
            )
            return None


def log_event(func: Handler) -> Handler:
    """Log MQTT events reaching ``on_event(self, data, **meta)``: the topic at trace
    level and the payload at verbose level."""

    @functools.wraps(func)
    def wrapped(view: Any, data: Any, **meta: Any) -> Any:
        message = f"< ON_EVENT [MQTT] {meta.get('topic', meta.get('endpoint', ''))}"
        log.trace(message)
        log.verbose(f"{message} | Message {data!r}")
        return func(view, data, **meta)

    return wrapped


def _auth_decorator(method_name: str, func: tuple[Handler, ...], options: dict[str, Any]) -> Any:
    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapped(view: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            from envoxy.auth.plugin import auth_class
            from envoxy.views.routing import topic_of

            kwargs.update(options)
            cls = auth_class()
            rejection = getattr(cls, "exception", None)
            topic = topic_of(str(kwargs.get("endpoint", "")))
            try:
                extra = getattr(cls(), method_name)(request, topic=topic, **kwargs)
            except ValidationException:
                raise
            except Exception as exc:
                if isinstance(rejection, type) and isinstance(exc, rejection):
                    status = getattr(exc, "status", None)
                    status = status if status in (401, 403) else 401
                    raise AuthRejectedError(
                        str(exc) or "Unauthorized", code=getattr(exc, "code", 0), status=status
                    ) from exc
                raise
            if extra and isinstance(extra, dict):
                kwargs.update(extra)
            return handler(view, request, *args, **kwargs)

        setattr(wrapped, AUTH_MARKER, method_name)
        return wrapped

    if len(func) == 1 and callable(func[0]) and not options:
        return decorate(func[0])
    if func:
        raise TypeError(
            "auth decorators take keyword options only, e.g. @auth_required(roles=[...])"
        )
    return decorate


def _cache_key(request: Any, method: str) -> tuple[str, str, dict[str, str]]:
    authorization = request.headers.get("Authorization", "")
    params = {
        "auth": hashlib.sha256(authorization.encode("utf-8", "surrogateescape")).hexdigest()
        if authorization
        else "",
        "body": "",
    }
    if request.method not in ("GET", "HEAD"):
        params["body"] = hashlib.sha256(request.get_data(cache=True)).hexdigest()
    query = request.query_string.decode("latin-1")
    endpoint = f"{request.path}?{query}" if query else request.path
    return endpoint, method, params


def _as_response(value: Any) -> Any:
    if isinstance(value, dict | list):
        from envoxy.views.containers import Response

        return Response(value)
    return value


def _cache_backend() -> Any:
    from envoxy.cache import Cache

    instance = Cache()
    get_backend = getattr(instance, "get_backend", None)
    return get_backend() if callable(get_backend) else instance
