"""The reply cache of ZeroMQ routes listed in ``zmq_servers.<key>.cached_routes``.

A route is ``"<performative>:<first four '/'-separated parts of the resource>"``,
e.g. ``"0:/v3/users/me"`` for a GET of ``/v3/users/me/devices``. Only GET (0) and HEAD
(4) replies are cached: a route naming another performative is ignored with a warning,
so a second POST is always sent. Entries live in :class:`envoxy.cache.Cache` under the
resource and performative, with the params, a hash of the payload and the caller digest
of :mod:`envoxy.cache.identity` (every credential-bearing header, names compared
case-insensitively), so one caller never reads another's reply.
"""

import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from envoxy.cache.identity import (
    DEFAULT_VARY_HEADERS,
    caller_digest,
    canonical_json,
    credential_headers,
)
from envoxy.constants import CACHE_DEFAULT_TTL, Performative
from envoxy.utils.config import as_int
from envoxy.utils.logs import log

__all__ = ["CACHEABLE_PERFORMATIVES", "DEFAULT_ERROR_TTL", "RouteCache", "route_of"]

#: Seconds a non-2xx reply stays cached.
DEFAULT_ERROR_TTL = 60
#: Performatives whose replies may be cached: the idempotent reads.
CACHEABLE_PERFORMATIVES = frozenset({int(Performative.GET), int(Performative.HEAD)})


def route_of(message: Mapping[str, Any]) -> str:
    """Return the ``cached_routes`` key of a request."""
    resource = str(message.get("resource", ""))
    return f"{message.get('performative')}:{'/'.join(resource.split('/')[:4])}"


class RouteCache:
    """Look up and store replies of the cached routes of one server key.

    :param server_key: the ``zmq_servers`` key (for messages).
    :param routes: ``cached_routes`` of that server; routes of a performative other
        than GET or HEAD are dropped with a warning.
    :param backend_factory: returns the cache backend (``envoxy.cache.Cache()``); it
        is called on first use, never at construction.
    :param vary: lower-case names of the credential-bearing headers hashed into each
        key (``envoxy.cache.identity.vary_headers`` of the ``cache`` section).
    """

    def __init__(
        self,
        server_key: str,
        routes: Mapping[str, Mapping[str, Any]],
        backend_factory: Callable[[], Any],
        vary: Iterable[str] = DEFAULT_VARY_HEADERS,
    ) -> None:
        self._server_key = server_key
        self._routes = {name: conf for name, conf in routes.items() if _cacheable(name)}
        ignored = sorted(set(routes) - set(self._routes))
        if ignored:
            log.warning(
                f"zmq_servers.{server_key}.cached_routes: {', '.join(ignored)} ignored; only "
                "GET (0) and HEAD (4) replies are cached"
            )
        self._backend_factory = backend_factory
        self._backend: Any = None
        self._vary = tuple(vary)

    def route(self, message: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Return the route settings that apply to ``message``, or ``None``."""
        return self._routes.get(route_of(message))

    def get(self, message: Mapping[str, Any]) -> Any:
        """Return the cached reply of ``message``, or ``None`` (also when the cache fails).

        ``X-No-Cache`` in the request headers (any case; any value but ``false``) skips
        the lookup.
        """
        headers = message.get("headers") or {}
        if any(
            str(name).lower() == "x-no-cache" and value is not False
            for name, value in headers.items()
        ):
            return None
        try:
            cached = self._cache().get(*self._key_parts(message))
        except Exception as exc:
            log.warning(f"zmqc {self._server_key}: cache lookup failed ({exc}); asking the peer")
            return None
        return cached or None

    def set(self, message: Mapping[str, Any], route: Mapping[str, Any], response: Any) -> None:
        """Store ``response`` for ``ttl`` seconds when it is a 2xx, else ``error_ttl``."""
        status = response.get("status") if isinstance(response, dict) else None
        where = f"zmq_servers.{self._server_key}.cached_routes.{route_of(message)}"
        if isinstance(status, int) and 200 <= status < 300:
            ttl = as_int(route.get("ttl", CACHE_DEFAULT_TTL), f"{where}.ttl")
        else:
            ttl = as_int(route.get("error_ttl", DEFAULT_ERROR_TTL), f"{where}.error_ttl")
        try:
            self._cache().set(*self._key_parts(message), response, ttl)
        except Exception as exc:
            log.warning(f"zmqc {self._server_key}: cache store failed ({exc})")

    def _cache(self) -> Any:
        if self._backend is None:
            self._backend = self._backend_factory()
        return self._backend

    def _key_parts(self, message: Mapping[str, Any]) -> tuple[str, str, Any]:
        headers = message.get("headers") or {}
        caller = caller_digest(None, credential_headers(headers.items(), self._vary))
        payload = message.get("payload")
        params = {
            "params": message.get("params"),
            "payload": hashlib.sha256(canonical_json(payload)).hexdigest()
            if payload is not None
            else "",
            "caller": caller,
        }
        return str(message.get("resource")), str(message.get("performative")), params


def _cacheable(route: str) -> bool:
    performative, _, _ = str(route).partition(":")
    try:
        return int(performative) in CACHEABLE_PERFORMATIVES
    except ValueError:
        return False
