"""Errors raised by ``pgsqlc``; all are :class:`~envoxy.db.exceptions.DatabaseException`.

Hierarchy::

    DatabaseException
    ├── UnknownServerError (also ConfigError)  the server key is not in psql_servers
    ├── PoolTimeoutError      "Timeout waiting for DB connection": every pooled
    │                         connection stayed busy for conn_timeout seconds
    │                         (also envoxy.exceptions.TimeoutError)
    ├── ConnectError          "Failed after 3 attempts": the server could not be reached,
    │                         or the connection broke during a statement
    │                         (also envoxy.exceptions.ConnectError)
    └── QueryError            the server rejected the statement (``.pgcode``)
        └── QueryTimeoutError no answer within the key's timeout (the client closed
                              the connection; ``.pgcode`` None), or the server
                              cancelled the statement (57014, statement_timeout)
                              (also envoxy.exceptions.TimeoutError)

psycopg2's own errors are wrapped once, at the boundary, and chained as ``__cause__``.
"""

from envoxy.db.exceptions import DatabaseException
from envoxy.exceptions import ConfigError, TimeoutError
from envoxy.exceptions import ConnectError as ClientConnectError

__all__ = [
    "ConnectError",
    "DatabaseException",
    "PoolTimeoutError",
    "QueryError",
    "QueryTimeoutError",
    "UnknownServerError",
]


class UnknownServerError(DatabaseException, ConfigError):
    """The server key is not an object of ``psql_servers`` (names the section and key)."""


class PoolTimeoutError(DatabaseException, TimeoutError):
    """No pooled connection became free within ``conn_timeout`` seconds."""


class ConnectError(DatabaseException, ClientConnectError):
    """Connecting failed after every retry, or a connection broke mid-statement."""


class QueryError(DatabaseException):
    """PostgreSQL rejected a statement.

    :param message: the server's message, with the server key.
    :param pgcode: the SQLSTATE code (e.g. ``"42P01"``), or None.
    """

    def __init__(self, message: str, pgcode: str | None = None) -> None:
        super().__init__(message)
        self.pgcode = pgcode


class QueryTimeoutError(QueryError, TimeoutError):
    """A statement outlived its deadline: the server sent no answer within the key's
    ``timeout`` (``pgcode`` None; the connection was closed), or it cancelled the
    statement itself (``pgcode`` ``"57014"``, ``statement_timeout``)."""
