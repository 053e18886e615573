"""A small thread-safe least-recently-used cache (kept from the original envoxy)."""

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from envoxy.utils.deprecation import warn_deprecated

__all__ = ["LRUCache"]

_NO_DEFAULT: Any = object()


class LRUCache:
    """Keep the ``capacity`` most recently used entries.

    ``get(key, default)`` returns ``default`` for a missing key. Without ``default`` a
    miss returns ``-1``, as in the original envoxy, and warns once (deprecated).

    :param capacity: how many entries to keep (at least 1).
    :raises ValueError: when ``capacity`` < 1.

    .. versionchanged:: 1.1
       ``get`` takes ``default``; a miss without it (``-1``) is deprecated.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"LRUCache capacity must be at least 1, got {capacity!r}")
        self.capacity = capacity
        self.cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, default: Any = _NO_DEFAULT) -> Any:
        """Return the value of ``key`` (and mark it most recently used), else ``default``.

        :param key: the entry to read.
        :param default: what a miss returns; without it a miss returns ``-1`` and warns
            once with a ``DeprecationWarning`` (the 0.7 behaviour).
        """
        with self._lock:
            try:
                self.cache.move_to_end(key)
            except KeyError:
                pass
            else:
                return self.cache[key]
        if default is _NO_DEFAULT:
            warn_deprecated(
                "LRUCache.get(key) returning -1 on a miss",
                "LRUCache.get(key, default)",
                since="1.1",
            )
            return -1
        return default

    def set(self, key: Hashable, value: Any) -> None:
        """Store ``value`` under ``key``, evicting the least recently used entry when full."""
        with self._lock:
            if key in self.cache:
                self.cache.move_to_end(key)
            elif len(self.cache) >= self.capacity:
                self.cache.popitem(last=False)
            self.cache[key] = value

    def __len__(self) -> int:
        """Return the number of entries."""
        return len(self.cache)
