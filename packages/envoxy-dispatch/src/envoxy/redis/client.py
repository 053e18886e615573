"""``RedisClient``: JSON values in Redis, one lazily built pool per server key.

Values are stored as ``envoxy_json_dumps(value)`` and read back decoded. Each server
key of ``redis_servers`` gets its own ``redis.Redis`` over a bounded pool, created on
the first call for that key (never at import) in a
:class:`~envoxy.utils.registry.ClientRegistry`. The client is safe to share between
threads; in a forked child (a uWSGI worker) it builds fresh pools and leaves the
parent's sockets alone.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from envoxy.redis.exceptions import RedisSerializationError, translate_redis_error
from envoxy.redis.settings import SECTION, RedisSettings
from envoxy.redis.topology import close_client
from envoxy.utils.deprecation import deprecated_aliases, warn_deprecated
from envoxy.utils.encoders import envoxy_json_dumps, envoxy_json_loads
from envoxy.utils.logs import log
from envoxy.utils.observe import PoolStats, observed, register_pool
from envoxy.utils.registry import ClientRegistry
from envoxy.utils.settings import server_conf

if TYPE_CHECKING:
    import redis

__all__ = ["SECTION", "RedisClient"]

#: 0.7's ``envoxy.redis.client.Client(server_conf)`` is :class:`RedisClient` (warns once).
__getattr__ = deprecated_aliases(__name__, {"Client": ("envoxy.redis.client", "RedisClient")})


class RedisClient:
    """Store and read JSON values in the Redis servers of ``redis_servers``.

    Nothing is read or opened until the first call for a server key. ``redisc`` is
    the process-wide instance; build another one only to isolate pools (tests).

    :param servers: the ``redis_servers`` mapping to use instead of ``envoxy.json``
        (also 0.7's ``Client(server_conf)`` call).

    .. versionchanged:: 1.1
       ``servers``, as ``MqttClient`` and ``ZmqClient`` take it.
    """

    def __init__(self, servers: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._servers: ClientRegistry[_Server] = ClientRegistry(
            lambda key: _Server.open(key, servers), _Server.close
        )

    @observed("redis")
    def set(self, server_key: str, key: str, value: Any, ttl: float | None = None) -> bool:
        """Store ``value`` as JSON under ``key``, with its expiry, atomically (``SET … EX``).

        :param server_key: a key of ``redis_servers``.
        :param key: the Redis key.
        :param value: anything ``envoxy_json_dumps`` encodes (dicts, lists, datetimes, …).
        :param ttl: seconds to live; a falsy value uses the server's ``ttl`` setting,
            whose 0 means no expiry. Fractions of a second are kept (``PX``).
        :returns: True.
        :raises RedisSerializationError: ``value`` cannot be encoded; nothing is written.
        :raises ValueError: ``ttl`` is negative; nothing is written.
        :raises ConfigError: ``server_key`` is not in ``redis_servers``.
        :raises RedisClientError: the server failed or could not be reached.
        """
        server = self._servers.get(server_key)
        try:
            data = envoxy_json_dumps(value)
        except TypeError as exc:
            raise RedisSerializationError(
                f"{server.where}: cannot store {key!r}: {exc}; nothing was written"
            ) from exc
        expiry = ttl or server.ttl
        if expiry < 0:
            raise ValueError(f"ttl must be a positive number of seconds, not {expiry!r}")
        try:
            if not expiry:
                return bool(server.redis.set(key, data))
            if isinstance(expiry, int):
                return bool(server.redis.set(key, data, ex=expiry))
            return bool(server.redis.set(key, data, px=max(1, int(expiry * 1000))))
        except Exception as exc:
            error = translate_redis_error(exc, f"{server.where}: SET {key!r}")
            if error is exc:
                raise
            raise error from exc

    @observed("redis")
    def get(self, server_key: str, key: str) -> Any:
        """Return the decoded value of ``key``, or None when it does not exist.

        A value that is not JSON comes back as ``str``, or as ``bytes`` when it is not
        UTF-8 either (keys written by other programs).

        :raises ConfigError: ``server_key`` is not in ``redis_servers``.
        :raises RedisClientError: the server failed or could not be reached.
        """
        server = self._servers.get(server_key)
        try:
            data = server.redis.get(key)
        except Exception as exc:
            error = translate_redis_error(exc, f"{server.where}: GET {key!r}")
            if error is exc:
                raise
            raise error from exc
        if data is None:
            return None
        try:
            return envoxy_json_loads(data)
        except ValueError:
            return _undecoded(data)

    @observed("redis")
    def delete(self, server_key: str, key: str) -> int:
        """Delete ``key`` and return how many keys were removed (0 or 1).

        :raises ConfigError: ``server_key`` is not in ``redis_servers``.
        :raises RedisClientError: the server failed or could not be reached.
        """
        server = self._servers.get(server_key)
        try:
            return int(server.redis.delete(key))
        except Exception as exc:
            error = translate_redis_error(exc, f"{server.where}: DEL {key!r}")
            if error is exc:
                raise
            raise error from exc

    def get_client(self, server_key: str) -> "redis.Redis":
        """0.7's name of :meth:`client`; warns once.

        .. deprecated:: 1.0
           Use :meth:`client`.
        """
        warn_deprecated("RedisClient.get_client", "RedisClient.client (redisc.client)")
        return self.client(server_key)

    def client(self, server_key: str) -> "redis.Redis":
        """Return the raw ``redis.Redis`` of ``server_key`` (shares the key's pool).

        Errors of the raw client are redis-py's own, not wrapped.

        :raises ConfigError: ``server_key`` is not in ``redis_servers``.
        :raises MissingDependencyError: redis-py is not installed.
        """
        server = self._servers.get(server_key)
        return server.redis

    def close(self) -> None:
        """Disconnect every pool and forget the server keys; safe to call repeatedly.

        The next call for a key reads its settings again, so call this after
        ``Config.reload()`` to apply changed server settings.
        """
        self._servers.close()


class _Server:
    """One server key: its settings and its ``redis.Redis``."""

    __slots__ = ("redis", "ttl", "where")

    def __init__(self, settings: RedisSettings) -> None:
        self.where = settings.where
        self.ttl = settings.ttl
        self.redis = settings.create_client()

    @classmethod
    def open(cls, server_key: str, servers: Mapping[str, Any] | None) -> "_Server":
        """Build the server of ``server_key`` (connects on use)."""
        settings = RedisSettings.from_config(server_key, server_conf(SECTION, server_key, servers))
        server = cls(settings)
        register_pool("redis", server_key, server.pool_stats)
        log.trace(f"redisc: pool for {settings.describe()} ready (connects on use)")
        return server

    def pool_stats(self) -> PoolStats:
        """The blocking pool's connections: made ones, and idle ones waiting in its queue."""
        pool = self.redis.connection_pool
        made = len(getattr(pool, "_connections", ()))
        queue = getattr(getattr(pool, "pool", None), "queue", ())
        idle = sum(1 for connection in queue if connection is not None)
        return PoolStats(made - idle, made, int(getattr(pool, "max_connections", 0) or 0))

    def close(self) -> None:
        """Disconnect the pool (and stop a Sentinel key's watch thread)."""
        close_client(self.redis)


def _undecoded(data: bytes) -> str | bytes:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data
