"""Redis client of Envoxy: ``redisc``.

::

    from envoxy.redis import redisc

    redisc.set("cache", "user:1", {"name": "Ada"}, ttl=60)
    redisc.get("cache", "user:1")      # {"name": "Ada"}
    redisc.delete("cache", "user:1")   # 1

Server keys come from the ``redis_servers`` section of ``envoxy.json``. Importing
this package imports neither redis-py nor the configuration; the first call for a
key does. redis-py is the ``envoxy-dispatch[redis]`` extra.
"""

from envoxy.redis.client import RedisClient
from envoxy.redis.dispatcher import Dispatcher, default_client
from envoxy.redis.exceptions import (
    RedisClientError,
    RedisConnectionError,
    RedisSerializationError,
    RedisTimeoutError,
)
from envoxy.redis.settings import RedisSettings

__all__ = [
    "Dispatcher",
    "RedisClient",
    "RedisClientError",
    "RedisConnectionError",
    "RedisSerializationError",
    "RedisSettings",
    "RedisTimeoutError",
    "default_client",
    "redisc",
]

#: The Redis facade: ``redisc.set/get/delete/client/close``.
redisc = Dispatcher
