"""Per-class and per-thread singletons, as mixins or base classes.

::

    class Registry(Singleton):
        def __init__(self, name: str = "default") -> None:
            self.name = name

    Registry.instance("main") is Registry.instance()   # True: arguments count once

Each subclass has its own instance and its own lock, so one class being built never
blocks another, and concurrent first calls build exactly one instance.
"""

import threading
import weakref
from typing import Any, Self

from envoxy.utils.deprecation import warn_deprecated

__all__ = ["Singleton", "SingletonPerThread"]


class Singleton:
    """One instance per class, created on the first :meth:`instance` call (thread-safe)."""

    @classmethod
    def instance(cls, *args: Any, **kwargs: Any) -> Self:
        """Return the class's instance, creating it with ``args``/``kwargs`` the first time.

        Later calls ignore their arguments. A subclass gets its own instance.
        """
        existing = cls.__dict__.get(_INSTANCE)
        if existing is not None:
            return existing
        with _class_lock(cls):
            existing = cls.__dict__.get(_INSTANCE)
            if existing is None:
                existing = cls(*args, **kwargs)
                setattr(cls, _INSTANCE, existing)
        return existing

    @classmethod
    def instance_with_queue(cls, queue: Any) -> Self:
        """Return :meth:`instance` created with ``queue`` as its only argument.

        .. deprecated:: 1.1
           Use ``instance(queue)``; this warns once.
        """
        _warn_instance_with_queue("Singleton")
        return cls.instance(queue)

    @classmethod
    def discard_instance(cls) -> Self | None:
        """Forget the class's instance (the next :meth:`instance` builds a new one).

        :returns: the discarded instance, or ``None`` when there was none.
        """
        with _class_lock(cls):
            existing = cls.__dict__.get(_INSTANCE)
            if existing is not None:
                delattr(cls, _INSTANCE)
        return existing


class SingletonPerThread:
    """One instance per class and per thread, created on the thread's first :meth:`instance`."""

    @classmethod
    def instance(cls, *args: Any, **kwargs: Any) -> Self:
        """Return the calling thread's instance, creating it with ``args``/``kwargs`` if needed."""
        storage = cls.__dict__.get(_PER_THREAD)
        if storage is None:
            with _class_lock(cls):
                storage = cls.__dict__.get(_PER_THREAD)
                if storage is None:
                    storage = threading.local()
                    setattr(cls, _PER_THREAD, storage)
        existing = getattr(storage, "instance", None)
        if existing is None:
            existing = cls(*args, **kwargs)
            storage.instance = existing
        return existing

    @classmethod
    def instance_with_queue(cls, queue: Any) -> Self:
        """Return :meth:`instance` created with ``queue`` as its only argument.

        .. deprecated:: 1.1
           Use ``instance(queue)``; this warns once.
        """
        _warn_instance_with_queue("SingletonPerThread")
        return cls.instance(queue)


_INSTANCE = "_singleton_instance"
_PER_THREAD = "_singleton_per_thread"
_LOCKS: weakref.WeakKeyDictionary[type, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _warn_instance_with_queue(base: str) -> None:
    """Warn once that ``<base>.instance_with_queue`` is deprecated, at the caller's caller."""
    warn_deprecated(
        f"{base}.instance_with_queue(queue)", f"{base}.instance(queue)", since="1.1", stacklevel=3
    )


def _class_lock(cls: type) -> Any:
    """Return the lock of ``cls`` alone (created once, under a global guard)."""
    lock = _LOCKS.get(cls)
    if lock is None:
        with _LOCKS_GUARD:
            lock = _LOCKS.setdefault(cls, threading.RLock())
    return lock
