"""envoxy 0.7's ``SemaphoreThreadedConnectionPool``, kept so that old code runs.

Reached through its old path ``envoxy.postgresql.client.SemaphoreThreadedConnectionPool``,
which warns once. pgsqlc does not use it: its pool is
:class:`envoxy.postgresql.pool.ConnectionPool` (bounded waits, deadlines, fork safety).
Importing this module imports psycopg2 (``envoxy-dispatch[postgres]``).
"""

import threading
from typing import Any

from envoxy.db.exceptions import DatabaseException
from envoxy.postgresql.settings import POSTGRES_EXTRA
from envoxy.utils.imports import require
from envoxy.utils.logs import log

__all__ = ["SemaphoreThreadedConnectionPool"]

require("psycopg2", POSTGRES_EXTRA)  # without the driver: an error naming the extra

from psycopg2.pool import ThreadedConnectionPool  # noqa: E402


class SemaphoreThreadedConnectionPool(ThreadedConnectionPool):
    """psycopg2's ``ThreadedConnectionPool`` whose ``getconn`` waits for a free slot.

    :param minconn: connections opened at once. :param maxconn: the most at a time.
    Other arguments go to ``psycopg2.connect``.

    .. deprecated:: 1.0
       Use ``pgsqlc`` (:class:`envoxy.postgresql.client.PostgresClient`) and its pool.
    """

    def __init__(self, minconn: int, maxconn: int, *args: Any, **kwargs: Any) -> None:
        self._semaphore = threading.BoundedSemaphore(maxconn)
        super().__init__(minconn, maxconn, *args, **kwargs)

    def getconn(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """Return a connection, waiting up to ``timeout`` seconds (None: forever) for a slot.

        :raises DatabaseException: ``"Timeout waiting for DB connection"``.
        """
        if not self._semaphore.acquire(timeout=timeout):
            raise DatabaseException("Timeout waiting for DB connection")
        try:
            return super().getconn(*args, **kwargs)
        except BaseException:
            self._semaphore.release()
            raise

    def putconn(self, *args: Any, **kwargs: Any) -> None:
        """Give a connection back and free its slot (also when psycopg2 refuses it)."""
        try:
            super().putconn(*args, **kwargs)
        finally:
            try:
                self._semaphore.release()
            except ValueError as exc:  # released more often than acquired
                log.error(f"SemaphoreThreadedConnectionPool: {exc}")
