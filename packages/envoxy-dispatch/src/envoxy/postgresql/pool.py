"""``ConnectionPool``: a bounded, thread-safe pool of psycopg2 connections for one key.

- At most ``max_size`` connections exist; a caller waits up to ``acquire_timeout``
  seconds for one (and never past its deadline), then gets
  ``PoolTimeoutError("Timeout waiting for DB connection …")``.
- Connections open lazily, through a :class:`~envoxy.utils.retry.RetryPolicy`
  (3 attempts, capped backoff, none started past the caller's deadline), then
  ``ConnectError("Failed after 3 attempts …")``.
- Every slot is one connection: open, being opened, idle or in use (:attr:`size`).
  A connection dropped for any reason frees its slot.
- An idle connection whose server hung up (a restart, a killed backend) is dropped on
  checkout and replaced, without a round trip: an idle connection has nothing to read,
  so a readable or hung-up socket means the server closed it.
- A connection given back inside a transaction or in an error state is rolled back,
  or dropped when that fails; a closed one is dropped.

In a forked child the owner (a :class:`~envoxy.utils.registry.ClientRegistry`) builds a
new pool and lets go of the inherited one with :meth:`ConnectionPool.abandon`, without
touching the parent's sessions.
"""

import contextlib
import os
import select
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from envoxy.postgresql.exceptions import ConnectError, PoolTimeoutError
from envoxy.utils.observe import PoolStats
from envoxy.utils.retry import Backoff, RetryPolicy

if TYPE_CHECKING:
    from envoxy.db.postgres.deadline import DeadlineConnection

__all__ = ["CONNECT_ATTEMPTS", "ConnectionPool"]

#: Connecting is tried this many times before ``ConnectError``.
CONNECT_ATTEMPTS = 3
_CONNECT_BACKOFF = Backoff(base=0.25, cap=2.0)
# psycopg2.extensions.TRANSACTION_STATUS_IDLE, without importing psycopg2 here.
_TRANSACTION_IDLE = 0
_POLL_EVENTS = select.POLLIN | select.POLLERR | select.POLLHUP


class ConnectionPool:
    """A bounded pool of connections made by ``connect``.

    :param connect: opens one ready-to-use connection (autocommit on) within the
        given seconds (None: its own limit); may raise one of ``retry_on``.
    :param retry_on: the connect errors worth another attempt (psycopg2's
        ``OperationalError``).
    :param max_size: most connections open at once.
    :param acquire_timeout: seconds to wait for a free connection; None waits forever.
    :param check_on_release: check the transaction state of connections given back.
    :param describe: the server, for messages, e.g. ``"psql_servers.main (db:5432/app)"``.
    :param timeout: seconds a caller's whole call may take (its deadline is the
        caller's business; kept here for it).
    :param transaction_sql: statements each transaction on these connections starts
        with (behind a transaction pooler; the caller sends them), ``""`` for none.
    """

    def __init__(
        self,
        connect: Callable[[float | None], "DeadlineConnection"],
        *,
        retry_on: tuple[type[BaseException], ...],
        max_size: int,
        acquire_timeout: float | None,
        check_on_release: bool = True,
        describe: str,
        timeout: float = 5.0,
        transaction_sql: str = "",
    ) -> None:
        self.max_size = max_size
        self.timeout = timeout
        self.transaction_sql = transaction_sql
        self._connect = connect
        self._retry = RetryPolicy(CONNECT_ATTEMPTS, _CONNECT_BACKOFF, retry_on)
        self._acquire_timeout = acquire_timeout
        self._check_on_release = check_on_release
        self._describe = describe
        self._mutex = threading.Lock()
        self._available = threading.Condition(self._mutex)
        self._idle: list[DeadlineConnection] = []
        # One poll object per open connection (by id), made once: the liveness check
        # on checkout is then a single poll(0) call.
        self._pollers: dict[int, select.poll] = {}
        self._open = 0  # connections open or being opened, idle or in use
        self._waiting = 0
        self._closed = False

    @property
    def size(self) -> int:
        """Connections open or being opened, idle or in use; at most ``max_size``."""
        return self._open

    @property
    def idle(self) -> int:
        """Open connections waiting in the pool."""
        return len(self._idle)

    def stats(self) -> PoolStats:
        """Return the connections lent out, open (or being opened) and the limit."""
        open_now = self._open
        return PoolStats(max(open_now - len(self._idle), 0), open_now, self.max_size)

    def acquire(self, deadline: float | None = None) -> "DeadlineConnection":
        """Return a live connection, waiting for one when all ``max_size`` are in use.

        :param deadline: a ``time.monotonic()`` time the wait and the connecting must
            not pass (the caller's whole call), None for ``acquire_timeout`` alone.
        :raises PoolTimeoutError: none became free within ``acquire_timeout`` or by
            ``deadline``.
        :raises ConnectError: a new connection failed :data:`CONNECT_ATTEMPTS` times,
            or by ``deadline``.
        """
        # Fast path without the lock: list.pop is atomic, and taking an idle connection
        # changes no counter.
        try:
            conn: DeadlineConnection | None = self._idle.pop()
        except IndexError:
            with self._mutex:
                conn = self._take_locked(deadline)
        # From here on this caller holds exactly one slot: that of ``conn``, or the one
        # reserved for a new connection when ``conn`` is None.
        while conn is not None:
            poller = self._pollers.get(id(conn))
            if not conn.closed and poller is not None and not poller.poll(0):
                return conn
            # The server hung up on this idle connection: drop it and keep its slot for
            # the next idle one, or for a new connection.
            self._forget(conn)
            try:
                conn = self._idle.pop()
            except IndexError:
                conn = None
            else:
                self._free_slot()  # the next idle one brings its own slot: free the spare
        try:
            return self._open_connection(deadline)
        except BaseException:
            self._free_slot()
            raise

    def release(self, conn: "DeadlineConnection", *, discard: bool = False) -> None:
        """Give ``conn`` back; drop it when ``discard``, closed or left in a bad state."""
        if (
            discard
            or self._closed
            or conn.closed
            or (
                self._check_on_release
                and not (conn.get_transaction_status() == _TRANSACTION_IDLE and conn.autocommit)
                and not _reset(conn)
            )
        ):
            self._forget(conn)
            self._free_slot()
            return
        self._idle.append(conn)
        # A waiter announces itself (_waiting) before it looks at _idle, so it either
        # sees this connection or is woken here.
        if self._waiting:
            with self._mutex:
                self._available.notify()
        if self._closed:  # close() ran meanwhile: do not keep the connection
            self.close()

    def close(self) -> None:
        """Close the idle connections; those in use close when given back. Idempotent."""
        with self._mutex:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._available.notify_all()
        for conn in idle:
            self._forget(conn)

    def abandon(self) -> None:
        """Let go of a pool inherited from the parent process, in a forked child.

        The parent's connections are never used here, and closing them normally would
        end the parent's sessions (libpq sends a Terminate message on the shared
        socket). Each idle connection's descriptor is first pointed at ``/dev/null``,
        so closing it releases memory and touches nothing of the parent's.
        """
        self._closed = True
        self._mutex = threading.Lock()  # another thread may have held it at fork time
        self._available = threading.Condition(self._mutex)
        idle, self._idle = self._idle, []
        self._pollers.clear()
        if not idle:
            return
        devnull = os.open(os.devnull, os.O_RDWR)
        try:
            for conn in idle:
                with contextlib.suppress(Exception):
                    os.dup2(devnull, conn.fileno())
                    conn.close()
        finally:
            os.close(devnull)

    def _take_locked(self, call_deadline: float | None) -> "DeadlineConnection | None":
        """Pop an idle connection, or reserve a slot for a new one (then return None)."""
        deadline: float | None = None
        started = 0.0
        while True:
            # Announce first: release() appends without the lock, then notifies waiters.
            self._waiting += 1
            try:
                if self._idle:
                    return self._idle.pop()
                if self._open < self.max_size:
                    self._open += 1
                    return None
                if deadline is None:
                    started = time.monotonic()
                    deadline = _earliest(
                        call_deadline,
                        None if self._acquire_timeout is None else started + self._acquire_timeout,
                    )
                remaining: float | None = None
                if deadline is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise PoolTimeoutError(
                            f"Timeout waiting for DB connection: all {self.max_size} "
                            f"connections of {self._describe} stayed busy for "
                            f"{time.monotonic() - started:.1f} s (conn_timeout "
                            f"{self._acquire_timeout} s, within the call's timeout); raise "
                            "max_conn or conn_timeout, or hold connections for less time"
                        )
                self._available.wait(remaining)
            finally:
                self._waiting -= 1

    def _free_slot(self) -> None:
        with self._mutex:
            self._open -= 1
            if self._waiting:
                self._available.notify()

    def _open_connection(self, deadline: float | None) -> "DeadlineConnection":
        attempts = 0

        def attempt() -> "DeadlineConnection":
            nonlocal attempts
            attempts += 1
            return self._connect(None if deadline is None else deadline - time.monotonic())

        try:
            conn = self._retry.call(attempt, deadline=deadline)
        except self._retry.retry_on as exc:
            raise ConnectError(
                f"Failed after {attempts} attempt{'s' if attempts > 1 else ''} to connect to "
                f"{self._describe}: {str(exc).strip()}; check that PostgreSQL runs and "
                "answers, and the host/port/db/user/passwd (or url) settings"
            ) from exc
        poller = select.poll()
        poller.register(conn.fileno(), _POLL_EVENTS)
        self._pollers[id(conn)] = poller
        return conn

    def _forget(self, conn: "DeadlineConnection") -> None:
        self._pollers.pop(id(conn), None)
        _close_quietly(conn)


def _earliest(first: float | None, second: float | None) -> float | None:
    if first is None:
        return second
    return first if second is None else min(first, second)


def _reset(conn: "DeadlineConnection") -> bool:
    """Roll back a connection left in a transaction; tell whether it is usable again."""
    try:
        conn.rollback()
        conn.autocommit = True
    except Exception:
        return False
    return True


def _close_quietly(conn: "DeadlineConnection") -> None:
    try:
        conn.close()
    except Exception:  # already broken: nothing more to release
        return
