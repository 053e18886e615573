"""Which exceptions mean "a server could not be reached or heard from" (an outage).

The daemon answers an outage with 503 and ``Retry-After`` instead of a 500: the
request was fine, a dependency was not. Envoxy's own clients raise
:class:`envoxy.exceptions.ConnectError` and :class:`envoxy.exceptions.TimeoutError`
(pool exhaustion included); the libraries a view may also call directly (SQLAlchemy
sessions, a raw ``redis.Redis``, httpx, pyzmq, kombu) raise their own, listed here.
A library that was never imported cannot have raised, so its classes are looked up
in :data:`sys.modules` at the time of the error and nothing is imported for this.
"""

import builtins
import sys

from envoxy.exceptions import ConnectError, TimeoutError

__all__ = ["THIRD_PARTY_OUTAGES", "THIRD_PARTY_TIMEOUTS", "is_outage", "outage_kind"]

#: (module, class) pairs of third-party errors that mean a server was unreachable,
#: frozen or out of capacity
THIRD_PARTY_OUTAGES: tuple[tuple[str, str], ...] = (
    ("sqlalchemy.exc", "OperationalError"),  # connect refused, server gone, statement timeout
    ("sqlalchemy.exc", "TimeoutError"),  # the engine's pool stayed exhausted
    ("sqlalchemy.exc", "DisconnectionError"),
    ("psycopg2", "OperationalError"),
    ("psycopg", "OperationalError"),
    ("redis.exceptions", "ConnectionError"),
    ("redis.exceptions", "TimeoutError"),
    ("httpx", "TransportError"),
    ("zmq.error", "Again"),
    ("kombu.exceptions", "OperationalError"),
)

#: the (module, class) pairs of :data:`THIRD_PARTY_OUTAGES` (and httpx's) that are timeouts
THIRD_PARTY_TIMEOUTS: tuple[tuple[str, str], ...] = (
    ("sqlalchemy.exc", "TimeoutError"),
    ("redis.exceptions", "TimeoutError"),
    ("httpx", "TimeoutException"),
    ("zmq.error", "Again"),
)

_BUILTIN_OUTAGES: tuple[type[BaseException], ...] = (
    ConnectError,
    TimeoutError,
    ConnectionError,  # the built-ins: refused, reset, broken pipe
    builtins.TimeoutError,  # also socket.timeout
)


def is_outage(exc: BaseException) -> bool:
    """Return True when ``exc`` says a server could not be reached or did not answer in
    time (an Envoxy client's :class:`~envoxy.exceptions.ConnectError` or
    :class:`~envoxy.exceptions.TimeoutError`, or one of :data:`THIRD_PARTY_OUTAGES`)."""
    return isinstance(exc, _BUILTIN_OUTAGES) or _is_one_of(exc, THIRD_PARTY_OUTAGES)


def outage_kind(exc: BaseException) -> str:
    """Return a short, safe category of ``exc`` for a body or a metric: ``"timeout"``,
    ``"unreachable"`` (an outage that is not a timeout) or ``"error"`` (anything else).

    The ``__cause__``/``__context__`` chain is read too, so a wrapper (an
    ``AuthenticationError`` raised from an httpx timeout) gets its cause's category.
    """
    seen: set[int] = set()
    error: BaseException | None = exc
    kind = "error"
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, _BUILTIN_TIMEOUTS) or _is_one_of(error, THIRD_PARTY_TIMEOUTS):
            return "timeout"
        if kind == "error" and is_outage(error):
            kind = "unreachable"
        error = error.__cause__ or error.__context__
    return kind


_BUILTIN_TIMEOUTS: tuple[type[BaseException], ...] = (TimeoutError, builtins.TimeoutError)


def _is_one_of(exc: BaseException, pairs: tuple[tuple[str, str], ...]) -> bool:
    modules = sys.modules
    for module_name, class_name in pairs:
        module = modules.get(module_name)
        if module is not None:
            cls = getattr(module, class_name, None)
            if isinstance(cls, type) and isinstance(exc, cls):
                return True
    return False
