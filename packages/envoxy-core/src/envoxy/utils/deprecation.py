"""Deprecation warnings for what Envoxy keeps from 0.7 only so that old code runs.

Each kept name warns once per process with a :class:`DeprecationWarning` that names the
replacement, pointing at the caller's line::

    from envoxy.utils.deprecation import deprecated_aliases, warn_deprecated

    warn_deprecated("LRUCache.get returning -1", "LRUCache.get(key, default)")

    # an old import path that still works, e.g. in envoxy/redis/client.py:
    __getattr__ = deprecated_aliases(__name__, {"Client": ("envoxy.redis.client", "RedisClient")})

    # a whole module renamed: the old file keeps only this line
    __getattr__ = moved_module(__name__, "envoxy.zeromq.exceptions", since="1.1")

Python shows DeprecationWarning for code run as ``__main__`` and under pytest; run a
service with ``-W default::DeprecationWarning`` (or ``PYTHONWARNINGS``) to see them all.
"""

import importlib
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["deprecated_aliases", "moved_module", "warn_deprecated"]


def warn_deprecated(old: str, new: str, *, since: str = "1.0", stacklevel: int = 2) -> None:
    """Warn, once per process for ``old``, that ``old`` is deprecated in favour of ``new``.

    :param old: what the caller used, e.g. ``"envoxy.redis.client.Client"``.
    :param new: what to use instead, e.g. ``"envoxy.redis.client.RedisClient"``.
    :param since: the version that deprecated it.
    :param stacklevel: as for :func:`warnings.warn`, counted from the caller of this
        function (2: the line that called the function which calls this one).
    """
    with _lock:
        if old in _warned:
            return
        _warned.add(old)
    warnings.warn(
        f"{old} is deprecated since envoxy {since}; use {new}",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )


def deprecated_aliases(
    module_name: str,
    aliases: Mapping[str, tuple[str, str] | tuple[str, str, str]],
    *,
    since: str = "1.0",
) -> Callable[[str], Any]:
    """Return a module ``__getattr__`` (PEP 562) serving old names that moved elsewhere.

    :param module_name: the module the old names live in (its ``__name__``).
    :param aliases: old name -> (module, attribute) of what replaces it; it is imported
        on first use, and every use of the old name warns once. A third item names the
        replacement when the object served is a 0.7 stand-in kept for old code (e.g.
        ``("envoxy.db.dispatcher", "_PgConnector", "envoxy.postgresql.pgsqlc")``).
    :param since: the version that deprecated them.
    """
    table = dict(aliases)

    def module_getattr(name: str) -> Any:
        target = table.get(name)
        if target is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        new_module, attribute, *use = target
        new = use[0] if use else f"{new_module}.{attribute}"
        warn_deprecated(f"{module_name}.{name}", new, since=since, stacklevel=2)
        return getattr(importlib.import_module(new_module), attribute)

    return module_getattr


def moved_module(module_name: str, new_module: str, *, since: str = "1.0") -> Callable[[str], Any]:
    """Return the ``__getattr__`` of a module renamed to ``new_module``.

    Every name in ``new_module.__all__`` still resolves from the old path, warning once
    per name; ``new_module`` is imported on the first use.

    :param module_name: the old module (its ``__name__``).
    :param new_module: the module it became.
    :param since: the version that renamed it.
    """

    def module_getattr(name: str) -> Any:
        module = importlib.import_module(new_module)
        if name not in getattr(module, "__all__", ()):
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        warn_deprecated(f"{module_name}.{name}", f"{new_module}.{name}", since=since, stacklevel=2)
        return getattr(module, name)

    return module_getattr


_lock = threading.Lock()
_warned: set[str] = set()
