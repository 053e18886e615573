"""``RedisCache``: cached view responses in Redis (the ``cache`` section's ``redis`` backend).

Keys are ``<key_prefix>:<endpoint>:<method>:<params>``, ``<params>`` being the
URL-safe base64 of ``envoxy_json_dumps(params)``. Values are JSON objects.
"""

import base64
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from envoxy.exceptions import ConnectError, TimeoutError
from envoxy.redis.exceptions import (
    RedisConnectionError,
    RedisSerializationError,
    translate_redis_error,
)
from envoxy.redis.settings import RedisSettings
from envoxy.redis.topology import close_client
from envoxy.utils.encoders import envoxy_json_dumps, envoxy_json_loads
from envoxy.utils.registry import ClientRegistry

if TYPE_CHECKING:
    import redis

__all__ = ["DEFAULT_KEY_PREFIX", "OUTAGE_HOLD_OFF", "RedisCache"]

#: The first part of every cache key unless ``cache.key_prefix`` says otherwise.
DEFAULT_KEY_PREFIX = "envoxy"
#: Seconds ``get`` and ``set`` fail at once, without a round trip, after Redis could not
#: be reached or did not answer in time: a cache must not make a request slower than no
#: cache, so while Redis is down or frozen one request per second per process pays the
#: timeout, the others skip the cache.
OUTAGE_HOLD_OFF = 1.0
#: Keys asked per SCAN step and removed per UNLINK by :meth:`RedisCache.invalidate`.
INVALIDATE_BATCH = 500


class RedisCache:
    """A Redis-backed response cache, configured by the ``cache`` section.

    The connection pool is built on first use (and again in a forked child: see
    :class:`~envoxy.utils.registry.ClientRegistry`).

    :param config: the ``cache`` object: ``bind`` or ``host``/``port``, ``db``,
        ``passwd``, ``ttl`` (3600; 0 = no expiry), ``key_prefix`` (``envoxy``) and the
        timeouts of ``redis_servers``.
    :raises ConfigError: a setting is invalid.
    """

    def __init__(self, config: Mapping[str, Any], where: str = "cache") -> None:
        self.settings = RedisSettings.from_config("cache", config, where=where)
        self.ttl = self.settings.ttl
        self.key_prefix = str(config.get("key_prefix") or DEFAULT_KEY_PREFIX)
        self._clients: ClientRegistry[redis.Redis] = ClientRegistry(
            lambda _where: self.settings.create_client(), _disconnect
        )
        self._skip_until = 0.0

    @property
    def redis(self) -> "redis.Redis":
        """The raw ``redis.Redis`` (built on first use).

        :raises MissingDependencyError: redis-py is not installed.
        """
        return self._clients.get(self.settings.where)

    def key(self, endpoint: str, method: str, params: Any) -> str:
        """Return the Redis key of a cached response.

        :raises RedisSerializationError: ``params`` cannot be JSON-encoded.
        """
        try:
            encoded = base64.urlsafe_b64encode(envoxy_json_dumps(params)).decode("ascii")
        except TypeError as exc:
            raise RedisSerializationError(f"cache: cannot encode params {params!r}: {exc}") from exc
        return f"{self.key_prefix}:{endpoint}:{method}:{encoded}"

    def get(self, endpoint: str, method: str, params: Any) -> dict[str, Any]:
        """Return the cached JSON object, or ``{}`` on a miss (or a non-object value).

        :raises RedisClientError: the server failed or could not be reached.
        """
        key = self.key(endpoint, method, params)
        self._check_hold_off("GET")
        client = self.redis
        try:
            data = client.get(key)
        except Exception as exc:
            error = self._failure(exc, f"GET {key!r}")
            if error is exc:
                raise
            raise error from exc
        if not data:
            return {}
        try:
            value = envoxy_json_loads(data)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def set(
        self,
        endpoint: str,
        method: str,
        params: Any,
        json_data: Any,
        ttl: float | None = None,
    ) -> bool:
        """Store ``json_data`` with its expiry in one ``SET … EX``; return True.

        :param ttl: seconds; a falsy value uses the section's ``ttl`` (0 = no expiry).
        :raises RedisSerializationError: ``json_data`` cannot be encoded; nothing is written.
        :raises RedisClientError: the server failed or could not be reached.
        """
        key = self.key(endpoint, method, params)
        try:
            data = envoxy_json_dumps(json_data)
        except TypeError as exc:
            raise RedisSerializationError(
                f"cache: cannot store {key!r}: {exc}; nothing was written"
            ) from exc
        expiry = ttl or self.ttl
        self._check_hold_off("SET")
        client = self.redis
        try:
            if not expiry:
                return bool(client.set(key, data))
            return bool(client.set(key, data, px=max(1, int(expiry * 1000))))
        except Exception as exc:
            error = self._failure(exc, f"SET {key!r}")
            if error is exc:
                raise
            raise error from exc

    def invalidate(self, endpoint: str) -> int:
        """Drop the cached responses of ``endpoint`` and of every path below it.

        ``invalidate("/v1/products")`` drops ``/v1/products``, ``/v1/products?page_size=2``
        and ``/v1/products/<id>``, but not ``/v1/productsheet``. Keys are found with
        ``SCAN`` (never ``KEYS``) and removed with ``UNLINK``; returns how many were removed.

        :raises RedisClientError: the server failed or could not be reached.
        """
        base = f"{_glob_escape(self.key_prefix)}:{_glob_escape(endpoint.rstrip('/'))}"
        client = self.redis
        removed = 0
        try:
            for pattern in (f"{base}:*", f"{base}\\?*", f"{base}/*"):
                batch: list[Any] = []
                for key in client.scan_iter(match=pattern, count=INVALIDATE_BATCH):
                    batch.append(key)
                    if len(batch) == INVALIDATE_BATCH:
                        removed += int(client.unlink(*batch))
                        batch.clear()
                if batch:
                    removed += int(client.unlink(*batch))
        except Exception as exc:
            error = translate_redis_error(exc, f"{self.settings.where}: invalidate {endpoint!r}")
            if error is exc:
                raise
            raise error from exc
        return removed

    def _check_hold_off(self, operation: str) -> None:
        remaining = self._skip_until - time.monotonic()
        if remaining > 0:
            raise RedisConnectionError(
                f"{self.settings.where}: {operation} skipped, Redis failed "
                f"{OUTAGE_HOLD_OFF - remaining:.1f} s ago (tried again after {OUTAGE_HOLD_OFF:g} s)"
            )

    def _failure(self, exc: Exception, what: str) -> Exception:
        error = translate_redis_error(exc, f"{self.settings.where}: {what}")
        if isinstance(error, ConnectError | TimeoutError):
            self._skip_until = time.monotonic() + OUTAGE_HOLD_OFF
        return error

    def close(self) -> None:
        """Disconnect the pool; the next call reconnects. Safe to call repeatedly."""
        self._clients.close()


def _disconnect(client: "redis.Redis") -> None:
    close_client(client)


def _glob_escape(text: str) -> str:
    """Escape the characters Redis ``MATCH`` patterns treat specially."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)
