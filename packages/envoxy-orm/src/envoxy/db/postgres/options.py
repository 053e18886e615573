"""libpq connection options that bound how long a PostgreSQL client can hang.

Shared by ``pgsqlc`` and the ORM engines of ``psql_servers``; importing this module
imports no driver. Each server key's ``timeout`` gives:

- ``connect_timeout``: libpq gives up connecting after that many (whole) seconds;
- ``statement_timeout`` (session option, unless the key sets its own): the server
  cancels a statement running longer, so work a client gave up on does not go on
  (behind a transaction pooler it is set per transaction instead: :mod:`envoxy.db.postgres.pooler`);
- keepalives and ``tcp_user_timeout``: a silently dead network path is noticed on an
  idle pooled connection, and unacknowledged data breaks a busy one.

The client-side deadline itself (a frozen server acknowledges everything and answers
nothing, so none of the above fires) is :mod:`envoxy.db.postgres.deadline`.
"""

import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "DEADLINE_GRACE",
    "DEFAULT_TIMEOUT",
    "KEEPALIVES_COUNT",
    "KEEPALIVES_IDLE",
    "KEEPALIVES_INTERVAL",
    "connect_seconds",
    "resilience_kwargs",
    "statement_limit",
]

#: Seconds a call (connect, statement, commit) may take when a key sets no ``timeout``.
DEFAULT_TIMEOUT = 5.0
#: Seconds the client deadline waits past ``timeout`` so that a live server's own
#: ``statement_timeout`` cancel (which keeps the connection) arrives first.
DEADLINE_GRACE = 0.5
#: Idle seconds before the first TCP keepalive probe.
KEEPALIVES_IDLE = 15
#: Seconds between keepalive probes.
KEEPALIVES_INTERVAL = 5
#: Unanswered probes before the connection is declared dead.
KEEPALIVES_COUNT = 3


def connect_seconds(seconds: float) -> int:
    """Return libpq's ``connect_timeout`` (whole seconds, at least 1) nearest ``seconds``."""
    return max(1, math.floor(seconds + 0.5))


def statement_limit(timeout: float, statement_timeout: float | None = None) -> float:
    """Return the ``statement_timeout`` in seconds a key asks for (0: the server's own).

    :param timeout: the key's ``timeout``.
    :param statement_timeout: the key's ``statement_timeout``, None for ``timeout``.
    """
    return timeout if statement_timeout is None else max(0.0, statement_timeout)


def resilience_kwargs(
    timeout: float,
    statement_timeout: float | None = None,
    given: Mapping[str, Any] | None = None,
    *,
    pooler: bool = False,
) -> dict[str, Any]:
    """Return libpq keyword arguments bounding connects, statements and dead paths.

    :param timeout: the key's ``timeout`` in seconds (positive).
    :param statement_timeout: the key's ``statement_timeout`` in seconds, None for
        ``timeout``; 0 leaves the server's own setting.
    :param given: libpq arguments the configuration already holds (a URL's query):
        they win; an ``options`` string there is kept before ours, and one setting
        ``statement_timeout`` is left alone unless ``statement_timeout`` is given.
    :param pooler: the key sits behind a transaction pooler: no ``options`` at all (the
        caller applies ``statement_limit`` per transaction, and refuses given options).
    """
    given = given or {}
    given_options = str(given.get("options") or "")
    options = given_options
    if not pooler and (statement_timeout is not None or "statement_timeout" not in given_options):
        limit = statement_limit(timeout, statement_timeout)
        if limit > 0:
            options = f"{options} -c statement_timeout={round(limit * 1000)}".strip()
    kwargs: dict[str, Any] = {
        "connect_timeout": connect_seconds(timeout),
        "keepalives": 1,
        "keepalives_idle": KEEPALIVES_IDLE,
        "keepalives_interval": KEEPALIVES_INTERVAL,
        "keepalives_count": KEEPALIVES_COUNT,
        "tcp_user_timeout": round(timeout * 1000),
    }
    if options and not pooler:
        kwargs["options"] = options
    kwargs.update({key: value for key, value in given.items() if key != "options"})
    return kwargs
