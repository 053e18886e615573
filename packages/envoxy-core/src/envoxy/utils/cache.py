"""A small thread-safe least-recently-used cache (kept from the original envoxy)."""

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

__all__ = ["LRUCache"]


class LRUCache:
    """Keep the ``capacity`` most recently used entries.

    ``get`` of a missing key returns ``-1``, as in the original envoxy.

    :param capacity: how many entries to keep (at least 1).
    :raises ValueError: when ``capacity`` < 1.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"LRUCache capacity must be at least 1, got {capacity!r}")
        self.capacity = capacity
        self.cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """Return the value of ``key`` (and mark it most recently used), or ``-1``."""
        with self._lock:
            try:
                self.cache.move_to_end(key)
            except KeyError:
                return -1
            return self.cache[key]

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
