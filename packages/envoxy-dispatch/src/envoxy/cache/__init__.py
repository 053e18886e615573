"""Response cache of Envoxy: ``Cache`` and its Redis backend ``RedisCache``.

::

    from envoxy.cache import Cache

    cache = Cache()                      # reads the ``cache`` section on first use
    cache.set("/v3/users", "get", {"page": 1}, {"elements": []}, ttl=60)
    cache.get("/v3/users", "get", {"page": 1})   # {"elements": []}

The view decorator is ``envoxy.decorators.cache`` (envoxy-daemon), also given by
``from envoxy import cache``. For 0.7 code, this module is callable too:
``envoxy.cache(ttl=60)`` applies that decorator and warns once with a
``DeprecationWarning``. envoxy-dispatch never imports envoxy-daemon (a lower layer
never imports a higher one): the daemon lends its decorator through the entry point
``decorator`` of the group ``envoxy.cache``, looked
up on the first call.

.. versionchanged:: 1.0
   Calling the module is deprecated: use ``from envoxy.decorators import cache``.
"""

import sys
import threading
import types
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from envoxy.cache.backend import Cache
from envoxy.cache.redis import RedisCache
from envoxy.exceptions import MissingDependencyError
from envoxy.utils.deprecation import warn_deprecated

__all__ = ["Cache", "RedisCache"]

#: entry-point group whose ``decorator`` is the view decorator calling this module applies
_DECORATOR_GROUP = "envoxy.cache"


class _CallableModule(types.ModuleType):
    """The type of this module: calling it applies the daemon's ``@cache`` decorator."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Return ``envoxy.decorators.cache(*args, **kwargs)``, warning once (deprecated).

        :raises MissingDependencyError: envoxy-daemon is not installed.
        """
        warn_deprecated(
            "calling the module envoxy.cache",
            "the decorator envoxy.decorators.cache (from envoxy.decorators import cache)",
            since="1.1",
        )
        return _view_decorator()(*args, **kwargs)


def _view_decorator() -> Callable[..., Any]:
    with _lock:
        if not _found:
            _found.append(_load_view_decorator())
        return _found[0]


def _load_view_decorator() -> Callable[..., Any]:
    missing = (
        "envoxy.cache(...) is the view decorator of envoxy-daemon, which is not installed: "
        "pip install envoxy-daemon"
    )
    found = entry_points(group=_DECORATOR_GROUP, name="decorator")
    if not found:
        raise MissingDependencyError(missing, name="envoxy.decorators")
    entry_point = next(iter(found))
    try:
        decorator: Callable[..., Any] = entry_point.load()
    except ModuleNotFoundError as exc:  # metadata left behind by an uninstalled daemon
        raise MissingDependencyError(missing, name=exc.name) from exc
    return decorator


_lock = threading.Lock()
_found: list[Callable[..., Any]] = []

sys.modules[__name__].__class__ = _CallableModule
