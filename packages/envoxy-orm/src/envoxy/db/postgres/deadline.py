"""psycopg2 connections whose every round trip has a client-side deadline.

``pgsqlc`` and the ORM engines of ``psql_servers`` open their connections with
``connection_factory=deadline_connection_class(timeout, where)``. Each statement
(``execute``, ``executemany``, ``callproc``, a named cursor's ``fetch*``/``scroll``),
``commit`` and ``rollback`` must finish by the connection's :attr:`~DeadlineConnection.deadline`
(set by the caller for a whole call), else within ``timeout`` + :data:`DEADLINE_GRACE`
seconds. When it passes, :mod:`envoxy.utils.deadlines` shuts the socket down; the
blocked call returns at once and raises :class:`DeadlineError`; the connection is then
closed (``closed == 2``), so pools drop it.

Why not the alternatives:

- ``statement_timeout`` is enforced by the server: a frozen server enforces nothing.
- keepalives and ``tcp_user_timeout``: a stopped server's kernel (or a proxy's) still
  acknowledges every byte, so neither fires.
- ``connection.cancel()``: psycopg2 calls ``PQcancel`` holding the GIL, and ``PQcancel``
  waits for the server to answer: on a frozen server it freezes the whole process.
- ``psycopg2.extensions.set_wait_callback``: process-wide, and psycopg2 then refuses
  ``COPY`` and large objects on every connection.

The server still ends a statement the client gave up on: every connection carries a
``statement_timeout`` (:mod:`envoxy.db.postgres.options`). Connecting is bounded by libpq's
``connect_timeout``. A cursor made with another ``cursor_factory`` than
:class:`DeadlineCursor` (or a subclass), and iterating a named cursor directly, are
not covered.
"""

import functools
import time
from collections.abc import Callable
from typing import Any, Literal

import psycopg2
import psycopg2.extensions

from envoxy.db.postgres.options import DEADLINE_GRACE
from envoxy.exceptions import TimeoutError
from envoxy.utils.deadlines import socket_deadlines

__all__ = [
    "DEADLINE_GRACE",
    "DeadlineConnection",
    "DeadlineCursor",
    "DeadlineError",
    "deadline_connection_class",
]


class DeadlineError(psycopg2.OperationalError, TimeoutError):
    """The server sent no answer before the deadline; the client closed the connection.

    A psycopg2 ``OperationalError`` (SQLAlchemy wraps it as one and invalidates the
    connection) and an :class:`envoxy.exceptions.TimeoutError` (an outage: 503).
    """


class DeadlineConnection(psycopg2.extensions.connection):
    """A psycopg2 connection whose round trips end by a deadline (see the module doc).

    Subclasses made by :func:`deadline_connection_class` set :attr:`timeout` and
    :attr:`where`.
    """

    #: Seconds one round trip may take (plus :data:`DEADLINE_GRACE`) when no
    #: :attr:`deadline` is set.
    timeout: float = 5.0
    #: The configuration the connection comes from, for messages (``psql_servers.main``).
    where: str = "PostgreSQL"

    def __init__(self, dsn: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(dsn, *args, **kwargs)
        #: Monotonic time by which every round trip must end (a whole call's deadline);
        #: None gives each round trip ``timeout`` + grace from its start.
        self.deadline: float | None = None
        self.cursor_factory = DeadlineCursor
        # This process's watcher: a connection is only ever used in the process that
        # opened it (pgsqlc and the ORM drop inherited ones in a forked child).
        self._deadlines = socket_deadlines()

    def commit(self) -> None:
        """Commit, within the deadline."""
        _bounded(self, super().commit)

    def rollback(self) -> None:
        """Roll back, within the deadline."""
        _bounded(self, super().rollback)

    def deadline_error(self) -> DeadlineError:
        """Return the error for a round trip that outlived its deadline."""
        return DeadlineError(
            f"{self.where}: PostgreSQL at {self.info.host}:{self.info.port} sent no answer "
            f"within the client deadline ({self.timeout:g} s timeout); the connection was "
            "closed. The server is frozen, unreachable or overloaded; raise "
            f"{self.where}.timeout for longer statements"
        )


class DeadlineCursor(psycopg2.extensions.cursor):
    """A cursor whose round trips end by its connection's deadline."""

    connection: DeadlineConnection

    def execute(self, query: Any, vars: Any = None) -> None:
        """Run ``query`` within the deadline."""
        _bounded(self.connection, super().execute, query, vars)

    def executemany(self, query: Any, vars_list: Any) -> None:
        """Run ``query`` once per parameter set, within one deadline."""
        _bounded(self.connection, super().executemany, query, vars_list)

    def callproc(self, procname: Any, parameters: Any = None) -> Any:
        """Call a stored procedure within the deadline."""
        return _bounded(self.connection, super().callproc, procname, parameters)

    def fetchone(self) -> Any:
        """Fetch a row (a round trip only for a named, server-side cursor)."""
        if self.name is None:
            return super().fetchone()
        return _bounded(self.connection, super().fetchone)

    def fetchmany(self, size: int | None = None) -> Any:
        """Fetch rows (a round trip only for a named, server-side cursor)."""
        if self.name is None:
            return super().fetchmany(size) if size is not None else super().fetchmany()
        if size is None:
            return _bounded(self.connection, super().fetchmany)
        return _bounded(self.connection, super().fetchmany, size)

    def fetchall(self) -> Any:
        """Fetch the remaining rows (a round trip only for a named cursor)."""
        if self.name is None:
            return super().fetchall()
        return _bounded(self.connection, super().fetchall)

    def scroll(self, value: int, mode: Literal["absolute", "relative"] = "relative") -> None:
        """Move the position (a round trip only for a named cursor)."""
        if self.name is None:
            super().scroll(value, mode)
            return
        _bounded(self.connection, super().scroll, value, mode)


@functools.cache
def deadline_connection_class(timeout: float, where: str) -> type[DeadlineConnection]:
    """Return the :class:`DeadlineConnection` subclass for ``timeout`` seconds (cached).

    Pass it as ``psycopg2.connect(..., connection_factory=...)``.

    :param timeout: seconds one round trip may take (plus :data:`DEADLINE_GRACE`).
    :param where: the configuration it serves, for messages (``psql_servers.main``).
    """
    return type(
        "DeadlineConnection",
        (DeadlineConnection,),
        {"timeout": timeout, "where": where, "__module__": __name__},
    )


def _bounded[R](connection: DeadlineConnection, call: Callable[..., R], *args: Any) -> R:
    """Run ``call(*args)``; when its deadline passes meanwhile, raise :class:`DeadlineError`."""
    deadline = connection.deadline
    if deadline is None:
        deadline = time.monotonic() + connection.timeout + DEADLINE_GRACE
    alarm = connection._deadlines.arm(connection.fileno(), deadline)
    try:
        result = call(*args)
    except BaseException as exc:
        if alarm.cancel():
            raise connection.deadline_error() from exc
        raise
    alarm.cancel()
    return result
