"""Errors raised by ``redisc`` and the Redis cache backend.

Hierarchy::

    ClientError
    └── RedisClientError                 any Redis operation failed
        ├── RedisConnectionError         the server could not be reached (after retries);
        │                                also envoxy.exceptions.ConnectError
        ├── RedisTimeoutError            connect, read or pool wait took too long;
        │                                also envoxy.exceptions.TimeoutError
        └── RedisSerializationError      the value cannot be JSON-encoded (also TypeError)

An unknown server key raises :class:`envoxy.exceptions.ConfigError` instead, and a
missing ``redis`` package :class:`envoxy.exceptions.MissingDependencyError`.
redis-py's own errors are wrapped once, here, and chained as ``__cause__``.
"""

import sys

from envoxy.exceptions import ClientError, ConnectError, TimeoutError

__all__ = [
    "RedisClientError",
    "RedisConnectionError",
    "RedisSerializationError",
    "RedisTimeoutError",
    "translate_redis_error",
]


class RedisClientError(ClientError):
    """A Redis operation failed; the message names the server key."""


class RedisConnectionError(RedisClientError, ConnectError):
    """The Redis server of a key could not be reached, even after the retries."""


class RedisTimeoutError(RedisClientError, TimeoutError):
    """A Redis connect, read or pool wait exceeded its timeout."""


class RedisSerializationError(RedisClientError, TypeError):
    """A value given to ``set`` cannot be JSON-encoded; nothing was written."""


def translate_redis_error(exc: Exception, where: str) -> Exception:
    """Return the Envoxy error for a redis-py exception, or ``exc`` itself for any other.

    :param exc: the exception raised while talking to Redis.
    :param where: what was being done, e.g. ``"redis_servers.cache: GET user:1"``.
    """
    redis_errors = sys.modules.get("redis.exceptions")
    if redis_errors is None:  # redis-py was never loaded: not one of its errors
        return exc
    if isinstance(exc, redis_errors.ConnectionError) and "No connection available" in str(exc):
        return RedisTimeoutError(
            f"{where}: every pooled connection stayed busy for pool_timeout seconds; raise "
            "max_connections or pool_timeout"
        )
    if isinstance(exc, redis_errors.TimeoutError):
        return RedisTimeoutError(f"{where}: timed out ({exc})")
    if isinstance(exc, redis_errors.ConnectionError):
        return RedisConnectionError(
            f"{where}: cannot reach the server ({exc}); check that Redis runs and the "
            "bind/host/port settings"
        )
    # A Redis Cluster without a reachable node, or with a slot nobody serves (a master
    # down and no replica promoted yet): an outage, like a refused connection.
    cluster_down = (
        redis_errors.RedisClusterException,
        redis_errors.ClusterDownError,
        redis_errors.TryAgainError,
    )
    if isinstance(exc, cluster_down):
        return RedisConnectionError(f"{where}: the Redis Cluster cannot serve this key ({exc})")
    if isinstance(exc, redis_errors.RedisError):
        return RedisClientError(f"{where}: {exc}")
    return exc
