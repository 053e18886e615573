"""``ClientFacade``: the one shape of ``redisc``, ``couchdbc``, ``pgsqlc``, ``mqttc`` and ``zmqc``.

As in envoxy 0.7, a facade is a class used without an instance
(``redisc.get("cache", "user:1")``). Its methods are the bound methods of one
process-wide client, stored as static methods: a call costs no more than calling the
client, and ``help()``, IDEs and mypy see the client's own signatures and docstrings::

    _default = RedisClient()   # builds nothing, reads nothing: its registry is lazy

    class Dispatcher(ClientFacade[RedisClient], client=_default):
        get = staticmethod(_default.get)
        set = staticmethod(_default.set)
        close = staticmethod(_default.close)

    Dispatcher.instance() is _default   # True
"""

from typing import Any, ClassVar, cast

__all__ = ["ClientFacade"]


class ClientFacade[C]:
    """Base of the static client facades; ``client=`` names the process-wide client.

    A facade holds no state of its own: closing, reconnecting and fork safety are the
    client's (see :class:`envoxy.utils.registry.ClientRegistry`).
    """

    _client: ClassVar[Any] = None

    def __init_subclass__(cls, *, client: Any = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if client is not None:
            cls._client = client
        for name, value in vars(cls).items():
            bound_to = getattr(getattr(value, "__func__", None), "__self__", cls._client)
            if isinstance(value, staticmethod) and bound_to is not cls._client:
                raise TypeError(f"{cls.__name__}.{name} forwards to another object than client=")

    @classmethod
    def instance(cls) -> C:
        """Return the process-wide client behind this facade."""
        return cast(C, cls._client)
