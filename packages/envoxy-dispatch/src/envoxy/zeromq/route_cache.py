"""The reply cache of ZeroMQ routes listed in ``zmq_servers.<key>.cached_routes``.

A route is ``"<performative>:<first four '/'-separated parts of the resource>"``,
e.g. ``"0:/v3/users/me"`` for a GET of ``/v3/users/me/devices``. Entries live in
:class:`envoxy.cache.Cache` under the resource, the performative and the params
together with a hash of the caller's ``Authorization`` header, so one caller
never reads another's reply.
"""

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from envoxy.constants import CACHE_DEFAULT_TTL
from envoxy.utils.config import as_int
from envoxy.utils.logs import log

__all__ = ["DEFAULT_ERROR_TTL", "RouteCache", "route_of"]

#: Seconds a non-2xx reply stays cached.
DEFAULT_ERROR_TTL = 60


def route_of(message: Mapping[str, Any]) -> str:
    """Return the ``cached_routes`` key of a request."""
    resource = str(message.get("resource", ""))
    return f"{message.get('performative')}:{'/'.join(resource.split('/')[:4])}"


class RouteCache:
    """Look up and store replies of the cached routes of one server key.

    :param server_key: the ``zmq_servers`` key (for messages).
    :param routes: ``cached_routes`` of that server.
    :param backend_factory: returns the cache backend (``envoxy.cache.Cache()``); it
        is called on first use, never at construction.
    """

    def __init__(
        self,
        server_key: str,
        routes: Mapping[str, Mapping[str, Any]],
        backend_factory: Callable[[], Any],
    ) -> None:
        self._server_key = server_key
        self._routes = routes
        self._backend_factory = backend_factory
        self._backend: Any = None

    def route(self, message: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Return the route settings that apply to ``message``, or ``None``."""
        return self._routes.get(route_of(message))

    def get(self, message: Mapping[str, Any]) -> Any:
        """Return the cached reply of ``message``, or ``None`` (also when the cache fails).

        ``X-No-Cache`` in the request headers (any value but ``false``) skips the lookup.
        """
        headers = message.get("headers") or {}
        if headers.get("X-No-Cache", False) is not False:
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

    @staticmethod
    def _key_parts(message: Mapping[str, Any]) -> tuple[str, str, Any]:
        headers = message.get("headers") or {}
        authorization = str(headers.get("Authorization", ""))
        identity = hashlib.sha256(authorization.encode("utf-8")).hexdigest()[:32]
        params = {"params": message.get("params"), "identity": identity}
        return str(message.get("resource")), str(message.get("performative")), params
