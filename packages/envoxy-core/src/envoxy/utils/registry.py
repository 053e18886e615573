"""``ClientRegistry``: one client per server key in each process, built on first use.

Every Envoxy client (``redisc``, ``couchdbc``, ``pgsqlc``, ``mqttc``, ``zmqc``, the
response cache) keeps its pools here::

    pools = ClientRegistry(build=lambda key: make_pool(key), close=lambda pool: pool.close())
    pools.get("cache")      # built on the first call, under a lock; then a dict lookup
    pools.close()           # idempotent; the next get() builds again

**Fork safety by pid check.** A forked child never uses, closes or collects what its
parent built: the first call in the child sees another process id and starts afresh,
keeping the inherited objects referenced so that no finalizer shuts a socket the parent
still uses. The check is made on every call rather than with
:func:`os.register_at_fork` because uWSGI forks its workers from C and runs Python's
at-fork hooks only with ``--py-call-osafterfork``: a hook would miss exactly the fork
that matters, while comparing :func:`os.getpid` (one cheap system call) sees every fork,
however it was made. The lock is per process too: a lock another thread held at the
fork stays held in the child forever.
"""

import os
import threading
from collections.abc import Callable, Iterator

__all__ = ["ClientRegistry"]

_getpid = os.getpid
#: What forked children inherited from their parents: referenced, never closed or collected.
_INHERITED: list[object] = []


class ClientRegistry[T]:
    """Clients of one kind, by server key, for the current process.

    :param build: returns the client of a key; called at most once per key and process,
        under the registry's lock (it may raise: nothing is stored then).
    :param close: closes a client this process built (``close()``, ``discard()``).
    :param abandon: called in a forked child for each client its parent built, instead
        of ``close``; by default they are kept referenced and never touched.
    """

    __slots__ = ("_abandon", "_build", "_close", "_entries", "_locks", "_pid")

    def __init__(
        self,
        build: Callable[[str], T],
        close: Callable[[T], None],
        *,
        abandon: Callable[[T], None] | None = None,
    ) -> None:
        self._build = build
        self._close = close
        self._abandon = abandon or _INHERITED.append
        self._entries: dict[str, T] = {}
        self._pid = _getpid()
        self._locks: dict[int, threading.Lock] = {}

    def get(self, key: str) -> T:
        """Return the client of ``key``, building it on first use in this process.

        :raises Exception: whatever ``build`` raises (the next call tries again).
        """
        # the pid first: a child swaps in its own entries before it records its pid
        if self._pid == _getpid():
            entry = self._entries.get(key)
            if entry is not None:
                return entry
        with self._lock():
            self._adopt()
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = self._build(key)
            return entry

    def peek(self, key: str) -> T | None:
        """Return the client of ``key`` when this process built it, else None (never builds)."""
        return self._entries.get(key) if self._pid == _getpid() else None

    def discard(self, key: str) -> None:
        """Close and forget the client of ``key`` (nothing happens when there is none)."""
        with self._lock():
            self._adopt()
            entry = self._entries.pop(key, None)
        if entry is not None:
            self._close(entry)

    def close(self) -> None:
        """Close every client this process built and forget them all. Idempotent; the
        next :meth:`get` builds again (reading the settings again)."""
        with self._lock():
            self._adopt()
            entries, self._entries = self._entries, {}
        for entry in entries.values():
            self._close(entry)

    def __iter__(self) -> Iterator[str]:
        """The keys this process has built a client for."""
        return iter(list(self._entries) if self._pid == _getpid() else [])

    def _lock(self) -> threading.Lock:
        return self._locks.setdefault(_getpid(), threading.Lock())

    def _adopt(self) -> None:
        """In a forked child (under the lock): abandon the parent's clients."""
        pid = _getpid()
        if self._pid != pid:
            inherited, self._entries = self._entries, {}
            self._pid = pid
            for entry in inherited.values():
                self._abandon(entry)
