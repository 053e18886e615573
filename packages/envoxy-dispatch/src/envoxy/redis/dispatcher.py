"""``Dispatcher``: the ``redisc`` facade, a class of static methods as in envoxy 0.7.

Every method delegates to one process-wide :class:`~envoxy.redis.client.RedisClient`,
so ``redisc.get("cache", "user:1")`` and ``Dispatcher.get(...)`` share the same pools.
"""

from typing import TYPE_CHECKING, Any

from envoxy.redis.client import RedisClient

if TYPE_CHECKING:
    import redis

__all__ = ["Dispatcher", "default_client"]

_default = RedisClient()


def default_client() -> RedisClient:
    """Return the process-wide :class:`RedisClient` behind ``redisc``."""
    return _default


class Dispatcher:
    """``redisc``: JSON values in the Redis servers of ``redis_servers``, by server key.

    See :class:`~envoxy.redis.client.RedisClient` for the errors each method raises.
    """

    @staticmethod
    def set(server_key: str, key: str, value: Any, ttl: float | None = None) -> bool:
        """Store ``value`` as JSON with its expiry (falsy ``ttl``: the server's ``ttl``)."""
        return _default.set(server_key, key, value, ttl)

    @staticmethod
    def get(server_key: str, key: str) -> Any:
        """Return the decoded value of ``key``, or None when it does not exist."""
        return _default.get(server_key, key)

    @staticmethod
    def delete(server_key: str, key: str) -> int:
        """Delete ``key``; return how many keys were removed."""
        return _default.delete(server_key, key)

    @staticmethod
    def client(server_key: str) -> "redis.Redis":
        """Return the raw ``redis.Redis`` of ``server_key``."""
        return _default.client(server_key)

    @staticmethod
    def close() -> None:
        """Disconnect every pool; the next call reconnects. Safe to call repeatedly."""
        _default.close()
