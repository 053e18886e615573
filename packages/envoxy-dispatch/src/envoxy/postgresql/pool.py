"""``ConnectionPool``: a bounded, thread-safe pool of psycopg2 connections for one key.

- At most ``max_size`` connections exist; a caller waits up to ``acquire_timeout``
  seconds for one, then gets ``PoolTimeoutError("Timeout waiting for DB connection …")``.
- Connections open lazily, through a :class:`~envoxy.postgresql.retry.RetryPolicy`
  (3 attempts, capped backoff), then ``ConnectError("Failed after 3 attempts …")``.
- An idle connection whose socket shows the server hung up (a restart, a killed
  backend) is dropped on checkout and replaced, without a round trip.
- A connection given back inside a transaction or in an error state is rolled back,
  or dropped when that fails; a closed one is dropped.

The pool remembers the process that built it (:attr:`pid`): the owner of the pool
builds a new one in a forked child instead of touching the parent's connections.
"""

import os
import select
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from envoxy.postgresql.exceptions import ConnectError, PoolTimeoutError
from envoxy.postgresql.retry import ExponentialBackoff, RetryPolicy

if TYPE_CHECKING:
    import psycopg2.extensions as pg

__all__ = ["CONNECT_ATTEMPTS", "ConnectionPool"]

#: Connecting is tried this many times before ``ConnectError``.
CONNECT_ATTEMPTS = 3
_CONNECT_BACKOFF = ExponentialBackoff(base=0.25, cap=2.0)
# psycopg2.extensions.TRANSACTION_STATUS_IDLE, without importing psycopg2 here.
_TRANSACTION_IDLE = 0
_POLL_EVENTS = select.POLLIN | select.POLLERR | select.POLLHUP


class ConnectionPool:
    """A bounded pool of connections made by ``connect``.

    :param connect: opens one ready-to-use connection (autocommit on); may raise
        one of ``retry_on``.
    :param retry_on: the connect errors worth another attempt (psycopg2's
        ``OperationalError``).
    :param max_size: most connections open at once.
    :param acquire_timeout: seconds to wait for a free connection; None waits forever.
    :param check_on_release: check the transaction state of connections given back.
    :param describe: the server, for messages, e.g. ``"psql_servers.main (db:5432/app)"``.
    """

    def __init__(
        self,
        connect: Callable[[], "pg.connection"],
        *,
        retry_on: tuple[type[BaseException], ...],
        max_size: int,
        acquire_timeout: float | None,
        check_on_release: bool = True,
        describe: str,
    ) -> None:
        self.pid = os.getpid()
        self.max_size = max_size
        self._connect = connect
        self._retry = RetryPolicy(CONNECT_ATTEMPTS, _CONNECT_BACKOFF, retry_on)
        self._acquire_timeout = acquire_timeout
        self._check_on_release = check_on_release
        self._describe = describe
        self._slots = threading.BoundedSemaphore(max_size)
        self._idle: list[pg.connection] = []
        self._closed = False

    def acquire(self) -> "pg.connection":
        """Return a live connection, waiting for a free slot when all are in use.

        :raises PoolTimeoutError: no slot freed within ``acquire_timeout``.
        :raises ConnectError: a new connection failed :data:`CONNECT_ATTEMPTS` times.
        """
        if not self._slots.acquire(timeout=self._acquire_timeout):
            raise PoolTimeoutError(
                f"Timeout waiting for DB connection: all {self.max_size} connections of "
                f"{self._describe} stayed busy for {self._acquire_timeout} s; raise "
                "max_conn or conn_timeout, or hold connections for less time"
            )
        try:
            idle = self._idle
            while idle:
                try:
                    conn = idle.pop()
                except IndexError:  # another thread took the last one
                    break
                if _is_alive(conn):
                    return conn
                _close_quietly(conn)
            return self._open()
        except BaseException:
            self._slots.release()
            raise

    def release(self, conn: "pg.connection", *, discard: bool = False) -> None:
        """Give ``conn`` back; drop it when ``discard``, closed or left in a bad state."""
        try:
            if discard or self._closed or conn.closed or not self._reusable(conn):
                _close_quietly(conn)
            else:
                self._idle.append(conn)
        finally:
            self._slots.release()

    def close(self) -> None:
        """Close the idle connections; those in use close when given back. Idempotent."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            _close_quietly(conn)

    def _open(self) -> "pg.connection":
        try:
            return self._retry.call(self._connect)
        except self._retry.retry_on as exc:
            raise ConnectError(
                f"Failed after {self._retry.attempts} attempts to connect to "
                f"{self._describe}: {str(exc).strip()}; check that PostgreSQL runs and the "
                "host/port/db/user/passwd (or url) settings"
            ) from exc

    def _reusable(self, conn: "pg.connection") -> bool:
        if not self._check_on_release:
            return True
        if conn.info.transaction_status == _TRANSACTION_IDLE and conn.autocommit:
            return True
        try:
            conn.rollback()
            conn.autocommit = True
        except Exception:
            return False
        return True


def _is_alive(conn: "pg.connection") -> bool:
    """Tell whether an idle connection is still usable, without a round trip.

    An idle connection has nothing to read; a readable or hung-up socket means the
    server closed it (a restart, ``pg_terminate_backend``) or sent something unexpected.
    """
    if conn.closed:
        return False
    poller = select.poll()
    try:
        poller.register(conn.fileno(), _POLL_EVENTS)
    except (OSError, ValueError):
        return False
    return not poller.poll(0)


def _close_quietly(conn: "pg.connection") -> None:
    try:
        conn.close()
    except Exception:  # already broken: nothing more to release
        return
