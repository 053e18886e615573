"""Instrumentation hooks: what clients report, for whoever listens (metrics, tracing).

The clients of envoxy-dispatch report each call (``observe_call``) and describe their
connection pools (``register_pool``); envoxyd's metrics and tracing modules listen. No
listener, no cost beyond one truth test per call: nothing is timed or built.

::

    from envoxy.utils.observe import add_call_observer

    def on_call(client, key, seconds, error):
        print(client, key, f"{seconds * 1000:.1f} ms", "failed" if error else "ok")

    add_call_observer(on_call)

A listener runs in the calling thread, after the call, and must be quick; an exception
it raises is swallowed (observing never breaks a call).
"""

import contextlib
import functools
import time
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = [
    "CallObserver",
    "PoolStats",
    "add_call_observer",
    "call_observers",
    "observe_call",
    "observed",
    "pool_stats",
    "register_pool",
    "remove_call_observer",
    "unregister_pool",
]

#: ``observer(client, key, seconds, error)``: ``error`` is the exception raised, or ``None``.
type CallObserver = Callable[[str, str, float, BaseException | None], None]


class PoolStats(NamedTuple):
    """A connection pool at one moment.

    :param in_use: connections lent out.
    :param open: connections open (idle and lent).
    :param limit: the most connections the pool may open (0: no limit).
    """

    in_use: int
    open: int
    limit: int


def add_call_observer(observer: CallObserver) -> None:
    """Call ``observer(client, key, seconds, error)`` after every observed client call."""
    if observer not in _OBSERVERS:
        _OBSERVERS.append(observer)


def remove_call_observer(observer: CallObserver) -> None:
    """Stop calling ``observer`` (no error when it was not added)."""
    if observer in _OBSERVERS:
        _OBSERVERS.remove(observer)


def call_observers() -> tuple[CallObserver, ...]:
    """Return the observers added so far."""
    return tuple(_OBSERVERS)


def observe_call(client: str, key: str, seconds: float, error: BaseException | None) -> None:
    """Tell every observer that a call of ``client`` on server ``key`` took ``seconds``.

    :param client: the client kind (``redis``, ``postgresql``, ``couchdb``, ``mqtt``,
        ``zmq``, ``celery``).
    :param key: the server key of ``envoxy.json``.
    :param error: the exception the call raised, or ``None``.
    """
    for observer in _OBSERVERS:
        with contextlib.suppress(Exception):  # an observer never breaks a call
            observer(client, key, seconds, error)


def observed[F: Callable[..., Any]](
    client: str, key: Callable[..., str] | None = None
) -> Callable[[F], F]:
    """Decorate a client method so that each call is reported with :func:`observe_call`.

    :param client: the client kind reported.
    :param key: returns the server key from the call's arguments (``(self, *args,
        **kwargs)``); by default the first argument after ``self``.

    Without observers the method is called straight away (no clock read).
    """

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not _OBSERVERS:
                return method(*args, **kwargs)
            started = time.perf_counter()
            try:
                result = method(*args, **kwargs)
            except BaseException as exc:
                observe_call(client, _key(key, args, kwargs), time.perf_counter() - started, exc)
                raise
            observe_call(client, _key(key, args, kwargs), time.perf_counter() - started, None)
            return result

        return wrapper  # type: ignore[return-value]

    return decorate


def register_pool(client: str, key: str, stats: Callable[[], PoolStats]) -> None:
    """Describe the connection pool of ``client`` for server ``key`` (replaces any before).

    :param stats: returns the pool's :class:`PoolStats`; called by listeners, cheap.
    """
    _POOLS[(client, key)] = stats


def unregister_pool(client: str, key: str) -> None:
    """Forget the pool of ``client`` for ``key`` (no error when unknown)."""
    _POOLS.pop((client, key), None)


def pool_stats(client: str, key: str) -> PoolStats | None:
    """Return the current stats of the pool of ``client`` for ``key``, or ``None``."""
    stats = _POOLS.get((client, key))
    if stats is None:
        return None
    try:
        return stats()
    except Exception:  # a pool closing meanwhile has no stats
        return None


_OBSERVERS: list[CallObserver] = []
_POOLS: dict[tuple[str, str], Callable[[], PoolStats]] = {}


def _key(key: Callable[..., str] | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    try:
        if key is not None:
            return str(key(*args, **kwargs))
        if len(args) > 1:
            return str(args[1])
        return str(kwargs.get("server_key") or "default")
    except Exception:
        return "unknown"
