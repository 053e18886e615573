"""``Cache``: the response cache front end; it picks the backend from the ``cache`` section.

Nothing is read at import or construction: the ``cache`` section is read on first use
(``redis``, ``get``, ``set``). Caches built from the same settings share one backend
(and so one connection pool), however many ``Cache()`` objects a process creates.
"""

import json
import threading
from collections.abc import Mapping
from typing import Any

from envoxy.cache.redis import RedisCache
from envoxy.redis.settings import RedisSettings
from envoxy.utils.config import Config

__all__ = ["BACKENDS", "KEYS", "SECTION", "Cache"]

#: The ``envoxy.json`` section of the cache.
SECTION = "cache"
#: Every key of the ``cache`` section: the Redis server settings and the cache's own.
KEYS: frozenset[str] = RedisSettings.KEYS | {"backend", "key_prefix", "vary_headers"}
#: Backend name -> class. Only ``redis`` exists today.
BACKENDS: dict[str, type[RedisCache]] = {"redis": RedisCache}

_shared: dict[str, RedisCache] = {}
_shared_lock = threading.Lock()


class Cache:
    """The response cache of the ``cache`` section (backend ``redis`` by default).

    :param config: settings to use instead of the ``cache`` section (tests, tools).
    """

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self._config = config
        self._backend: RedisCache | None = None

    @property
    def redis(self) -> RedisCache:
        """The backend, resolved on first use.

        :raises NotImplementedError: ``cache.backend`` names another backend than ``redis``.
        :raises ConfigError: a setting of the section is invalid.
        """
        backend = self._backend
        if backend is None:
            backend = self._backend = _backend_for(
                self._config if self._config is not None else Config.get(SECTION)
            )
        return backend

    def get(self, endpoint: str, method: str, params: Any) -> dict[str, Any]:
        """Return the cached JSON object for the request, or ``{}``."""
        return self.redis.get(endpoint, method, params)

    def set(
        self, endpoint: str, method: str, params: Any, json_data: Any, ttl: float | None = None
    ) -> bool:
        """Cache ``json_data`` for the request (falsy ``ttl``: the section's ``ttl``)."""
        return self.redis.set(endpoint, method, params, json_data, ttl)

    def invalidate(self, endpoint: str) -> int:
        """Drop the cached responses of ``endpoint`` and the paths below it.

        Call it after a write so the next read is fresh; returns how many were dropped.
        """
        return self.redis.invalidate(endpoint)

    @staticmethod
    def close_all() -> None:
        """Disconnect every shared backend; the next use reconnects. Idempotent."""
        with _shared_lock:
            backends = list(_shared.values())
            _shared.clear()
        for backend in backends:
            backend.close()


def _backend_for(config: Mapping[str, Any]) -> RedisCache:
    name = config.get("backend") or "redis"
    backend_class = BACKENDS.get(name)
    if backend_class is None:
        raise NotImplementedError(
            f"cache.backend {name!r} is not supported; use one of: {', '.join(BACKENDS)}"
        )
    fingerprint = json.dumps(config, sort_keys=True, default=str)
    with _shared_lock:
        backend = _shared.get(fingerprint)
        if backend is None:
            backend = _shared[fingerprint] = backend_class(config)
        return backend
