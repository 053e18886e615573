"""Errors raised by ``couchdbc``.

Hierarchy::

    DatabaseException
    └── CouchDBError              a non-2xx answer (``.status``, ``.reason``)
        └── CouchDBConnectionError  no answer: connect failure (after 3 tries) or timeout;
                                    also envoxy.exceptions.ConnectError
            └── CouchDBTimeoutError  no answer within connect_timeout/timeout;
                                     also envoxy.exceptions.TimeoutError

An unknown server key raises :class:`envoxy.exceptions.ConfigError`; a ``db`` argument
without a dot raises :class:`ValueError`. httpx errors are wrapped once, here.
"""

from envoxy.db.exceptions import DatabaseException
from envoxy.exceptions import ConnectError, TimeoutError

__all__ = ["CouchDBConnectionError", "CouchDBError", "CouchDBTimeoutError"]


class CouchDBError(DatabaseException):
    """CouchDB answered with an error, or did not answer.

    :param message: what failed, naming the server key and database.
    :param status: the HTTP status, or None when there was no answer.
    :param reason: CouchDB's ``reason`` (else its ``error``, else the body text).
    """

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class CouchDBConnectionError(CouchDBError, ConnectError):
    """The CouchDB server could not be reached or did not answer in time (``status`` None)."""


class CouchDBTimeoutError(CouchDBConnectionError, TimeoutError):
    """The CouchDB server did not accept the connection or answer within its timeout."""
