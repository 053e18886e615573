"""Response cache of Envoxy: ``Cache`` and its Redis backend ``RedisCache``.

::

    from envoxy.cache import Cache

    cache = Cache()                      # reads the ``cache`` section on first use
    cache.set("/v3/users", "get", {"page": 1}, {"elements": []}, ttl=60)
    cache.get("/v3/users", "get", {"page": 1})   # {"elements": []}

This module is also callable: ``envoxy.cache(ttl=60)`` is the view decorator
``envoxy.decorators.cache`` (envoxy-daemon), so ``from envoxy import cache`` works
whether it returns this module or the decorator.
"""

import sys
import types
from typing import Any

from envoxy.cache.backend import Cache
from envoxy.cache.redis import RedisCache
from envoxy.exceptions import MissingDependencyError

__all__ = ["Cache", "RedisCache"]


class _CallableModule(types.ModuleType):
    """The type of this module: calling it applies ``envoxy.decorators.cache``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Return ``envoxy.decorators.cache(*args, **kwargs)``.

        :raises MissingDependencyError: envoxy-daemon is not installed.
        """
        try:
            from envoxy.decorators import cache as cache_decorator
        except ImportError as exc:
            raise MissingDependencyError(
                "envoxy.cache(...) is the view decorator of envoxy-daemon, which is not "
                "installed: pip install envoxy-daemon"
            ) from exc
        return cache_decorator(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
