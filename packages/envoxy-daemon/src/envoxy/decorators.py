"""Decorators of Envoxy views: ``on``, ``auth_required``, ``auth_anonymous_allowed``,
``cache`` and ``log_event``.

.. versionchanged:: 1.0
   ``log_event`` wraps ``on_event(self, data, **meta)`` (it passed the wrong ``self``
   and paho's arguments). The auth decorators fail closed (only a non-empty dict or
   ``True`` from ``authenticate`` accepts a caller) and check ``roles``; ``cache`` runs
   after auth whatever the decorator order and keys its entries on the caller's
   identity and every credential-bearing header, so two callers never share an answer.
"""

import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple, TypeVar

from envoxy.auth.guard import IDENTITY_KEY, AuthRejectedError, required_roles, verdict
from envoxy.constants import CACHE_DEFAULT_TTL
from envoxy.exceptions import ValidationException
from envoxy.utils.logs import log
from envoxy.views.route_spec import RouteSpec, legacy_namespace

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
#: attribute of an auth wrapper recording how it was made (``@cache`` nests itself inside)
AUTH_LAYER = "__envoxy_auth_layer__"
#: attribute set on handlers wrapped by ``@cache`` (startup checks ``cache.vary_headers``)
CACHE_MARKER = "__envoxy_cache__"


def on(
    endpoint: str | None = None,
    *,
    protocols: str | Iterable[str] = ("http",),
    server: str | None = None,
    route: str | None = None,
    **options: Any,
) -> Callable[[ClassT], ClassT]:
    """Declare a view's route: ``@on("/v1/items/{item_id:int}")``.

    Stores a frozen :class:`~envoxy.views.route_spec.RouteSpec` as ``cls.route_spec``,
    and the original ``cls.__metaclass__`` namespace (its attributes are the values
    given here, ``protocols`` as a list) for code written for envoxy 0.7.

    :param endpoint: the HTTP pattern or the MQTT topic (``route=`` is an alias).
    :param protocols: ``"http"`` (the default), ``"mqtt"`` for ``on_event``
        subscriptions, or both.
    :param server: the ``mqtt_servers`` key of an MQTT view.
    :param options: other options, kept on the spec (``spec.option(name)``).
    :raises TypeError: without an endpoint, with ``endpoint`` and ``route`` that differ,
        or with protocols that are not names (at decoration).
    """
    if route is not None:
        if endpoint is not None and endpoint != route:
            raise TypeError(f"@on got endpoint={endpoint!r} and route={route!r}: give one")
        endpoint = route
        options["route"] = route  # readable on __metaclass__, as in 0.7
    spec = RouteSpec.of(endpoint, protocols, server, **options)

    def decorate(cls: ClassT) -> ClassT:
        cls.route_spec = spec  # type: ignore[attr-defined]
        cls.__metaclass__ = legacy_namespace(spec)  # type: ignore[attr-defined]
        return cls

    return decorate


def auth_required(*func: Handler, **options: Any) -> Any:
    """Run the plugin's ``Auth().authenticate`` before the handler; fail closed.

    Use as ``@auth_required(roles=[...])`` or bare ``@auth_required``. The plugin gets
    ``(request, topic=<endpoint with {v:type} written {v}>, **kwargs)`` where ``kwargs``
    holds the URL variables, ``endpoint`` and ``options``. It accepts the caller by
    returning an identity: a non-empty dict (merged into the handler's keyword
    arguments) or ``True``; anything else answers 401. With ``roles``, an identity
    dict carrying ``roles`` must hold every one of them, else 403. A declared JSON body
    is read and parsed only once the caller is accepted.

    :raises TypeError: ``roles`` is not a name or a list of names (at decoration).
    """
    return _auth_decorator("authenticate", func, options)


def auth_anonymous_allowed(*func: Handler, **options: Any) -> Any:
    """Like :func:`auth_required` but calls the plugin's ``Auth().anonymous``, which may
    also accept an anonymous caller with ``None`` or ``{}`` (``False`` or a value of
    another type answers 401)."""
    return _auth_decorator("anonymous", func, options)


class cache:  # noqa: N801 - the public name of the original decorator
    """Cache a handler's 200 JSON answers in the ``cache`` backend (Redis), per caller.

    The key covers the path and query, the handler, the body of non-GET requests and
    the caller: the identities the auth decorators accepted and every credential-bearing
    header present (``Authorization``, ``Cookie``, ``Proxy-Authorization``,
    ``X-Api-Key``, ``X-Auth-Token`` and the names in ``cache.vary_headers``); see
    :mod:`envoxy.cache.identity`. Auth always runs first: applied over an auth
    decorator, ``cache`` nests itself inside it.

    A hit is answered by ``view.cached_response`` with ``X-Cache: HIT``; ``X-No-Cache``
    skips the look-up; a backend failure is logged as a warning and the handler runs.
    An answer that sets a cookie or says ``Cache-Control: no-store``/``private`` is not
    stored, nor one whose caller cannot be named canonically.

    :param ttl: seconds a cached answer lives.
    :raises UnsafeCacheOrderError: (when applied) over a decorator that hides an auth
        decorator below it, so the cache cannot be moved inside the auth check.
    """

    def __init__(self, ttl: int = CACHE_DEFAULT_TTL) -> None:
        self.ttl = ttl
        self._backend: Any = None
        self._vary: tuple[tuple[str, str], ...] | None = None

    def __call__(self, func: Handler) -> Handler:
        """Wrap ``func``, a view handler ``(self, request, **kwargs)``."""
        layer: _AuthLayer | None = getattr(func, AUTH_LAYER, None)
        if layer is not None:
            if layer.wrapper is not func:
                from envoxy.views.exceptions import UnsafeCacheOrderError

                raise UnsafeCacheOrderError(getattr(func, "__qualname__", repr(func)))
            # auth runs first whatever the order: the cache goes inside the auth check
            auth = _auth_decorator(layer.method_name, (), layer.options)
            return auth(self(layer.handler))
        # imported when a handler is decorated: importing envoxy.decorators stays light
        from envoxy.cache.identity import caller_digest

        name = func.__name__

        @functools.wraps(func)
        def wrapped(view: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            environ = request.environ
            identities = environ.get(IDENTITY_KEY)
            accepted = len(identities) if identities else 0
            key = self._key(request, caller_digest, identities, name)
            if key is None:
                return func(view, request, *args, **kwargs)
            if "HTTP_X_NO_CACHE" not in environ:
                hit = self._call_backend("get", *key)
                if hit:
                    return view.cached_response(hit)
            response = _as_response(func(view, request, *args, **kwargs))
            if len(environ.get(IDENTITY_KEY) or ()) != accepted:
                _warn_auth_inside(name)  # auth ran after the look-up: never store
            elif _storable(response):
                body = response.get_json(silent=True)
                if body is not None:
                    self._call_backend("set", *key, body, ttl=self.ttl)
            return response

        setattr(wrapped, CACHE_MARKER, True)
        return wrapped

    def _key(
        self, request: Any, digest: Callable[..., str | None], identities: Any, name: str
    ) -> tuple[str, str, dict[str, str]] | None:
        vary = self._vary
        if vary is None:
            vary = self._vary = _resolve_vary()
        environ = request.environ
        caller = digest(
            identities, [(header, environ[var]) for header, var in vary if var in environ]
        )
        if caller is None:
            return None
        params = {"caller": caller, "body": ""}
        if request.method not in ("GET", "HEAD"):
            params["body"] = hashlib.sha256(request.get_data(cache=True)).hexdigest()
        query = request.query_string.decode("latin-1")
        endpoint = f"{request.path}?{query}" if query else request.path
        return endpoint, name, params

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


class _AuthLayer(NamedTuple):
    """How an auth wrapper was made: enough for ``@cache`` to rebuild it around itself."""

    method_name: str
    options: dict[str, Any]
    handler: Handler
    wrapper: Handler


def _auth_decorator(method_name: str, func: tuple[Handler, ...], options: dict[str, Any]) -> Any:
    roles = required_roles(options.get("roles"))

    def decorate(handler: Handler) -> Handler:
        from envoxy.views.jsonbody import declares_json_body

        # the innermost auth decorator reads the body, once every outer one accepted
        parse_body = getattr(handler, AUTH_LAYER, None) is None

        @functools.wraps(handler)
        def wrapped(view: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            from envoxy.auth.plugin import auth_class
            from envoxy.views.routing import topic_of

            kwargs.update(options)
            cls = auth_class()
            rejection = getattr(cls, "exception", None)
            topic = topic_of(str(kwargs.get("endpoint", "")))
            try:
                result = getattr(cls(), method_name)(request, topic=topic, **kwargs)
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
            identity = verdict(method_name, result, roles)
            if isinstance(identity, dict):
                kwargs.update(identity)
            environ = getattr(request, "environ", None)
            if environ is not None:  # an HTTP request (on_event gets the MQTT payload)
                accepted = environ.get(IDENTITY_KEY)
                if accepted is None:
                    environ[IDENTITY_KEY] = [identity]
                else:
                    accepted.append(identity)
                if parse_body and declares_json_body(request):
                    request.get_json()
            return handler(view, request, *args, **kwargs)

        setattr(wrapped, AUTH_MARKER, method_name)
        setattr(wrapped, AUTH_LAYER, _AuthLayer(method_name, dict(options), handler, wrapped))
        return wrapped

    if len(func) == 1 and callable(func[0]) and not options:
        return decorate(func[0])
    if func:
        raise TypeError(
            "auth decorators take keyword options only, e.g. @auth_required(roles=[...])"
        )
    return decorate


def _storable(response: Any) -> bool:
    """A 200 JSON answer that sets no cookie and does not forbid storing."""
    if getattr(response, "status_code", None) != 200 or not getattr(response, "is_json", False):
        return False
    headers = response.headers
    if "Set-Cookie" in headers:
        return False
    control = headers.get("Cache-Control")
    if control:
        directives = {part.split("=", 1)[0].strip().lower() for part in control.split(",")}
        if directives & {"no-store", "private"}:
            return False
    return True


def _resolve_vary() -> tuple[tuple[str, str], ...]:
    """The credential-bearing headers as ``(lower-case name, WSGI environ key)`` pairs."""
    from envoxy.cache.identity import vary_headers
    from envoxy.utils.config import Config

    try:
        section = Config.get("cache")
    except Exception:  # no readable config: the backend fails too, the defaults are safe
        section = {}
    names = vary_headers(section if isinstance(section, Mapping) else {})
    return tuple((name, "HTTP_" + name.upper().replace("-", "_")) for name in names)


_warned_auth_inside: set[str] = set()


def _warn_auth_inside(name: str) -> None:
    if name not in _warned_auth_inside:
        _warned_auth_inside.add(name)
        log.error(
            f"@cache on {name}: an auth decorator ran inside the cache (a decorator between "
            "them hides it), so its answers are never stored; put @cache directly above or "
            "below the auth decorator"
        )


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
