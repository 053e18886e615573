"""``Dispatcher``: the ``redisc`` facade, a class of static methods as in envoxy 0.7.

Every method is the bound method of one process-wide
:class:`~envoxy.redis.client.RedisClient` (see :class:`~envoxy.utils.facade.ClientFacade`),
so ``redisc.get("cache", "user:1")`` and ``Dispatcher.get(...)`` share the same pools.
"""

from envoxy.redis.client import RedisClient
from envoxy.utils.facade import ClientFacade

__all__ = ["Dispatcher", "default_client"]

_default = RedisClient()


class Dispatcher(ClientFacade[RedisClient], client=_default):
    """``redisc``: JSON values in the Redis servers of ``redis_servers``, by server key.

    See :class:`~envoxy.redis.client.RedisClient` for each method and the errors it raises.
    """

    set = staticmethod(_default.set)
    get = staticmethod(_default.get)
    delete = staticmethod(_default.delete)
    client = staticmethod(_default.client)
    close = staticmethod(_default.close)


#: Return the process-wide :class:`RedisClient` behind ``redisc``.
default_client = Dispatcher.instance
