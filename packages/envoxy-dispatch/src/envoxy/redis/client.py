"""``RedisClient``: JSON values in Redis, one lazily built pool per server key.

Values are stored as ``envoxy_json_dumps(value)`` and read back decoded. Each server
key of ``redis_servers`` gets its own ``redis.Redis`` over a bounded pool, created on
the first call for that key (never at import). The client is safe to share between
threads; in a forked child (a uWSGI worker) it builds fresh pools and leaves the
parent's sockets alone.
"""

import os
import threading
from typing import TYPE_CHECKING, Any

from envoxy.redis.exceptions import RedisSerializationError, translate_redis_error
from envoxy.redis.settings import RedisSettings
from envoxy.utils.config import Config
from envoxy.utils.encoders import envoxy_json_dumps, envoxy_json_loads
from envoxy.utils.logs import log

if TYPE_CHECKING:
    import redis

__all__ = ["SECTION", "RedisClient"]

#: The ``envoxy.json`` section holding the Redis server keys.
SECTION = "redis_servers"

# Objects a forked child inherited from its parent. They are kept referenced, never
# closed or collected in the child, so the parent's connections stay intact.
_INHERITED: list[object] = []


class RedisClient:
    """Store and read JSON values in the Redis servers of ``redis_servers``.

    Nothing is read or opened until the first call for a server key. ``redisc`` is
    the process-wide instance; build another one only to isolate pools (tests).
    """

    def __init__(self) -> None:
        self._servers: dict[str, _Server] = {}
        self._pid = os.getpid()
        # One lock per process: a lock another thread held when the process forked
        # stays held in the child, so the child takes a fresh one (setdefault is atomic).
        self._locks: dict[int, threading.Lock] = {}

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
        if server is None or self._pid != os.getpid():
            server = self._server(server_key)
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

    def get(self, server_key: str, key: str) -> Any:
        """Return the decoded value of ``key``, or None when it does not exist.

        A value that is not JSON comes back as ``str``, or as ``bytes`` when it is not
        UTF-8 either (keys written by other programs).

        :raises ConfigError: ``server_key`` is not in ``redis_servers``.
        :raises RedisClientError: the server failed or could not be reached.
        """
        server = self._servers.get(server_key)
        if server is None or self._pid != os.getpid():
            server = self._server(server_key)
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

    def delete(self, server_key: str, key: str) -> int:
        """Delete ``key`` and return how many keys were removed (0 or 1).

        :raises ConfigError: ``server_key`` is not in ``redis_servers``.
        :raises RedisClientError: the server failed or could not be reached.
        """
        server = self._servers.get(server_key)
        if server is None or self._pid != os.getpid():
            server = self._server(server_key)
        try:
            return int(server.redis.delete(key))
        except Exception as exc:
            error = translate_redis_error(exc, f"{server.where}: DEL {key!r}")
            if error is exc:
                raise
            raise error from exc

    def client(self, server_key: str) -> "redis.Redis":
        """Return the raw ``redis.Redis`` of ``server_key`` (shares the key's pool).

        Errors of the raw client are redis-py's own, not wrapped.

        :raises ConfigError: ``server_key`` is not in ``redis_servers``.
        :raises MissingDependencyError: redis-py is not installed.
        """
        server = self._servers.get(server_key)
        if server is None or self._pid != os.getpid():
            server = self._server(server_key)
        return server.redis

    def close(self) -> None:
        """Disconnect every pool and forget the server keys; safe to call repeatedly.

        The next call for a key reads its settings again, so call this after
        ``Config.reload()`` to apply changed server settings.
        """
        with self._locks.setdefault(os.getpid(), threading.Lock()):
            servers, self._servers = self._servers, {}
            if self._pid != os.getpid():
                _INHERITED.extend(servers.values())
                self._pid = os.getpid()
                return
        for server in servers.values():
            server.redis.close()
            server.redis.connection_pool.disconnect()

    def _server(self, server_key: str) -> "_Server":
        """Return the server of ``server_key``, building it (or rebuilding after a fork)."""
        with self._locks.setdefault(os.getpid(), threading.Lock()):
            pid = os.getpid()
            if self._pid != pid:
                _INHERITED.extend(self._servers.values())
                self._servers = {}
                self._pid = pid
            server = self._servers.get(server_key)
            if server is None:
                where = f"{SECTION}.{server_key}"
                settings = RedisSettings.from_config(Config.server(SECTION, server_key), where)
                server = _Server(settings)
                self._servers[server_key] = server
                log.trace(f"redisc: pool for {settings.describe()} ready (connects on use)")
            return server


class _Server:
    """One server key: its settings and its ``redis.Redis``."""

    __slots__ = ("redis", "ttl", "where")

    def __init__(self, settings: RedisSettings) -> None:
        self.where = settings.where
        self.ttl = settings.ttl
        self.redis = settings.create_client()


def _undecoded(data: bytes) -> str | bytes:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data
