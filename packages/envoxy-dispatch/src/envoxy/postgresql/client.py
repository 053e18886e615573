"""``PostgresClient``: raw SQL on PostgreSQL with bound parameters, one pool per key.

- ``query`` returns rows as dicts; statements without rows return ``[]`` and are
  committed at once (autocommit) unless a ``transaction`` is open for the key.
- Values are bound by psycopg2, never formatted into the SQL text.
- Each call ends within the key's ``timeout``
  (+ :data:`~envoxy.db.postgres.options.DEADLINE_GRACE`): the pool wait, connecting and
  the statements together. A server that sends no answer by then gets its connection
  closed (:mod:`envoxy.db.postgres.deadline`) and the call
  raises :class:`~envoxy.postgresql.exceptions.QueryTimeoutError`.
- ``transaction(key)`` gives the calling thread one connection for that key until
  the block ends: commit, or rollback and re-raise.
- Behind a transaction pooler (``"pooler": "transaction"``) nothing is set for the
  session: each statement outside a ``transaction`` block, and each ``transaction``
  block, starts with ``SET LOCAL`` of ``statement_timeout``, ``TimeZone``, ``DateStyle``
  and ``search_path``, sent in the same round trip (:mod:`envoxy.db.postgres.pooler`).
- Pools (:class:`~envoxy.postgresql.pool.ConnectionPool`) are built on the first call
  for a key and rebuilt in a forked child, however it was forked; the parent's
  connections are left alone (:class:`~envoxy.utils.registry.ClientRegistry`).
- SQLAlchemy sessions come from ``envoxy.db.orm`` (``session``, ``sa_*``).
"""

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from envoxy.db.exceptions import DatabaseException
from envoxy.db.postgres.options import DEADLINE_GRACE, connect_seconds
from envoxy.postgresql.exceptions import ConnectError, QueryError, QueryTimeoutError
from envoxy.postgresql.pool import ConnectionPool
from envoxy.postgresql.settings import POSTGRES_EXTRA, PostgresSettings, server_config
from envoxy.postgresql.typecasts import register_typecasts
from envoxy.utils.deprecation import deprecated_aliases
from envoxy.utils.imports import require
from envoxy.utils.logs import log
from envoxy.utils.observe import observed, register_pool
from envoxy.utils.registry import ClientRegistry

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session

    from envoxy.db.orm.session import EnvoxySessionManager
    from envoxy.db.postgres.deadline import DeadlineConnection

__all__ = ["Params", "PostgresClient", "Row"]

#: 0.7 names: ``Client(server_conf)`` is :class:`PostgresClient`; 0.7's pool class is
#: kept in :mod:`envoxy.postgresql.legacy`. Each warns once.
__getattr__ = deprecated_aliases(
    __name__,
    {
        "Client": ("envoxy.postgresql.client", "PostgresClient"),
        "SemaphoreThreadedConnectionPool": (
            "envoxy.postgresql.legacy",
            "SemaphoreThreadedConnectionPool",
        ),
    },
)

# SQLSTATE query_canceled: statement_timeout, or a cancel request.
_QUERY_CANCELED = "57014"

#: A result row: column name -> value.
Row = dict[str, Any]
#: Bound parameters: a mapping for ``%(name)s``, a sequence for ``%s``, or None.
Params = Mapping[str, Any] | Sequence[Any] | None


class _ThreadState(threading.local):
    """Per-thread state: the open transactions, server key -> connection."""

    transactions: "dict[str, DeadlineConnection] | None" = None


class PostgresClient:
    """Run SQL on the PostgreSQL servers of ``psql_servers``, by server key.

    Nothing is read or opened until the first call for a key. ``pgsqlc`` is the
    process-wide instance; build another one only to isolate pools (tests).

    :param servers: the ``psql_servers`` mapping to use instead of ``envoxy.json``
        (also 0.7's ``Client(server_conf)`` call).

    .. versionchanged:: 1.1
       ``servers``, as ``MqttClient`` and ``ZmqClient`` take it.
    """

    def __init__(self, servers: Mapping[str, Any] | None = None) -> None:
        self._pools: ClientRegistry[ConnectionPool] = ClientRegistry(
            lambda key: _open_pool(key, servers), ConnectionPool.close, abandon=self._abandon
        )
        self._local = _ThreadState()

    @observed("postgresql", key=lambda self, server_key=None, *_, **__: _observed_key(server_key))
    def query(
        self, server_key: str | None = None, sql: str | None = None, params: Params = None
    ) -> list[Row]:
        """Run ``sql`` with bound ``params``; return the rows as dicts (``[]`` when none).

        Timestamps come back as UTC ``YYYY-MM-DDTHH:MM:SS.mmm+0000`` strings and dates as
        ISO strings. With ``params=None`` a ``%`` in ``sql`` is literal.

        Chunked reading: when ``params`` (a mapping) has ``chunk_size``, ``sql`` must use
        ``%(offset_limit)s`` (and should use ``LIMIT %(chunk_size)s``); it is re-run with
        ``offset_limit`` (from ``params``, default 0) growing by ``chunk_size`` until a
        page has fewer than ``chunk_size`` rows, and every row is returned.

        :param server_key: a key of ``psql_servers``; None uses the default key.
        :param sql: the statement, with ``%(name)s`` or ``%s`` placeholders.
        :param params: a mapping, a sequence or None.
        :raises DatabaseException: empty SQL, bad params or chunking, unknown key.
        :raises QueryError: PostgreSQL rejected the statement (``.pgcode``).
        :raises QueryTimeoutError: no answer within ``timeout`` (the connection is
            closed), or the server cancelled the statement (``statement_timeout``).
        :raises PoolTimeoutError: no connection became free within ``conn_timeout``.
        :raises ConnectError: the server could not be reached, or the connection broke.
        """
        if not sql:
            raise DatabaseException("Sql cannot be empty")
        if server_key is None:
            server_key = _default_server_key()
        kind = type(params)
        if kind is dict:
            chunked = "chunk_size" in params  # type: ignore[operator]
        elif kind is list or kind is tuple or params is None:
            chunked = False
        else:
            chunked = _check_params(params)
        transactions = self._local.transactions
        if transactions:
            conn = transactions.get(server_key)
            if conn is not None:
                return self._execute(conn, server_key, sql, params, chunked)
        pool = self._pools.get(server_key)
        deadline = time.monotonic() + pool.timeout
        conn = pool.acquire(deadline)
        conn.deadline = deadline + DEADLINE_GRACE
        try:
            return self._execute(conn, server_key, sql, params, chunked, pool.transaction_sql)
        finally:
            conn.deadline = None
            pool.release(conn)

    @contextmanager
    def transaction(self, server_key: str | None = None) -> Iterator["PostgresClient"]:
        """Run the block's queries for ``server_key`` in one transaction; yield the client.

        Queries of the same thread for that key use the transaction's connection;
        other keys and other threads use their pools. The block commits on success,
        or rolls back and re-raises. Getting the connection, each statement and the
        commit have ``timeout`` seconds each.

        :raises DatabaseException: ``"Nested transactions are not supported"`` when a
            transaction for the key is already open in this thread.
        :raises QueryError: the commit failed (it was rolled back).
        """
        if server_key is None:
            server_key = _default_server_key()
        transactions = self._local.transactions
        if transactions is None:
            transactions = self._local.transactions = {}
        if server_key in transactions:
            raise DatabaseException("Nested transactions are not supported")
        pool = self._pools.get(server_key)
        conn = pool.acquire(time.monotonic() + pool.timeout)
        try:
            conn.autocommit = False
            if pool.transaction_sql:  # BEGIN, then this transaction's own settings
                with conn.cursor() as cursor:
                    cursor.execute(pool.transaction_sql)
        except Exception as exc:  # closed meanwhile: give its slot back
            pool.release(conn, discard=True)
            raise _wrap_error(exc, server_key, "BEGIN") from exc
        transactions[server_key] = conn
        committed = False
        try:
            yield self
            try:
                conn.commit()
            except Exception as exc:
                raise _wrap_error(exc, server_key, "COMMIT") from exc
            committed = True
        finally:
            del transactions[server_key]
            if not committed:
                _rollback_quietly(conn, server_key)
            pool.release(conn, discard=not _restore_autocommit(conn))

    def session(self, server_key: str | None = None) -> "Session":
        """Return a new SQLAlchemy ``Session`` bound to ``server_key`` (default key when None).

        The caller commits and closes it (or uses it as a context manager).
        """
        return self.sa_manager(server_key).create_session()

    def sa_manager(self, server_key: str | None = None) -> "EnvoxySessionManager":
        """Return the ``envoxy.db.orm`` session manager of ``server_key`` (``get_manager``)."""
        from envoxy.db.orm.session import get_manager

        return get_manager(server_key)

    def sa_session(self, server_key: str | None = None) -> Any:
        """Return ``envoxy.db.orm``'s ``session_scope(server_key)``: commit or roll back, close."""
        from envoxy.db.orm.session import session_scope

        return session_scope(server_key)

    def sa_transactional(self, server_key: str | None = None) -> "Callable[..., Any]":
        """Return ``envoxy.db.orm``'s ``transactional(server_key)`` decorator."""
        from envoxy.db.orm.session import transactional

        return transactional(server_key)

    def pool(self, server_key: str | None = None) -> ConnectionPool:
        """Return the connection pool of ``server_key`` (default key when None), built on
        first use; its ``size`` and ``idle`` counts are there for monitoring.

        .. versionadded:: 1.1
        """
        return self._pools.get(_default_server_key() if server_key is None else server_key)

    def close(self) -> None:
        """Close every pool's idle connections and forget the keys; idempotent.

        Connections in use close when given back. The next call for a key reads its
        settings again.
        """
        self._pools.close()

    def _abandon(self, pool: ConnectionPool) -> None:
        """In a forked child: let go of a parent's pool and of the parent's transactions."""
        pool.abandon()
        self._local = _ThreadState()

    def _execute(
        self,
        conn: "DeadlineConnection",
        server_key: str,
        sql: str,
        params: Params,
        chunked: bool,
        settings_sql: str = "",
    ) -> list[Row]:
        """Run ``sql``; ``settings_sql`` (the ``SET LOCAL`` statements of a key behind a
        transaction pooler) goes first, in the same round trip and implicit transaction."""
        statement = sql
        if settings_sql:
            statement = (settings_sql if params is None else settings_sql.replace("%", "%%")) + sql
        try:
            with conn.cursor() as cursor:
                if chunked:
                    return _read_chunks(cursor, statement, params)  # type: ignore[arg-type]
                if params is None:
                    cursor.execute(statement)
                else:
                    cursor.execute(statement, params)
                return _rows(cursor)
        except DatabaseException:
            raise
        except (KeyError, IndexError, TypeError) as exc:
            # psycopg2 reports parameters that do not fit the placeholders this way.
            raise DatabaseException(
                f"psql_servers.{server_key}: params do not match the placeholders of the "
                f"SQL ({type(exc).__name__}: {exc}); use %(name)s with a dict or %s with a "
                "sequence, and %% for a literal % when params are given"
            ) from exc
        except Exception as exc:
            error = _wrap_error(exc, server_key, sql)
            if error is exc:
                raise
            raise error from exc


def _open_pool(server_key: str, servers: Mapping[str, Any] | None) -> ConnectionPool:
    """Build the pool of ``server_key`` (connects on use)."""
    settings = PostgresSettings.from_config(server_key, server_config(server_key, servers))
    psycopg2 = require("psycopg2", POSTGRES_EXTRA)
    from envoxy.db.postgres.deadline import deadline_connection_class

    factory = deadline_connection_class(settings.timeout, settings.where)
    pool = ConnectionPool(
        lambda seconds: _connect(psycopg2, settings, factory, seconds),
        retry_on=(psycopg2.OperationalError,),
        max_size=settings.max_conn,
        acquire_timeout=settings.conn_timeout,
        check_on_release=settings.health_check_on_release,
        describe=settings.describe(),
        timeout=settings.timeout,
        transaction_sql=settings.transaction_sql,
    )
    pooled = " behind a transaction pooler" if settings.pooler else ""
    log.trace(
        f"pgsqlc: pool of {settings.max_conn} for {settings.describe()}{pooled} "
        "ready (connects on use)"
    )
    register_pool("postgresql", server_key, pool.stats)
    return pool


def _check_params(params: Params) -> bool:
    """Validate ``params`` of an unusual type; return whether it asks for chunked reading."""
    if isinstance(params, Mapping):
        return "chunk_size" in params
    if isinstance(params, str | bytes) or not isinstance(params, Sequence):
        raise DatabaseException(
            f"params must be a dict, a sequence or None, not {type(params).__name__}"
        )
    return False


def _rows(cursor: Any) -> list[Row]:
    description = cursor.description
    if description is None:
        return []
    rows = cursor.fetchall()
    if not rows:
        return []
    names = [column[0] for column in description]
    return [dict(zip(names, row)) for row in rows]  # noqa: B905 (same length by construction)


def _read_chunks(cursor: Any, sql: str, params: Mapping[str, Any]) -> list[Row]:
    if "%(offset_limit)s" not in sql:
        raise DatabaseException(
            "chunk_size is set but the SQL has no %(offset_limit)s placeholder; "
            "add e.g. LIMIT %(chunk_size)s OFFSET %(offset_limit)s"
        )
    chunk_size = params["chunk_size"]
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise DatabaseException(f"chunk_size must be a positive integer, not {chunk_size!r}")
    page_params = dict(params)
    offset = page_params.setdefault("offset_limit", 0)
    rows: list[Row] = []
    while True:
        cursor.execute(sql, page_params)
        page = _rows(cursor)
        rows.extend(page)
        if len(page) < chunk_size:
            return rows
        offset += chunk_size
        page_params["offset_limit"] = offset


def _connect(
    psycopg2: Any, settings: PostgresSettings, factory: type, seconds: float | None
) -> "DeadlineConnection":
    """Open one connection within ``seconds``: autocommit, UTC/ISO casts, ``search_path``
    (behind a transaction pooler, ``search_path`` is set per transaction instead)."""
    kwargs = settings.connect_kwargs
    if seconds is not None:
        kwargs = {**kwargs, "connect_timeout": connect_seconds(seconds)}
    conn: DeadlineConnection = psycopg2.connect(**kwargs, connection_factory=factory)
    try:
        conn.autocommit = True
        register_typecasts(conn)
        if settings.schema and not settings.pooler:
            from psycopg2 import sql

            with conn.cursor() as cursor:
                cursor.execute(
                    sql.SQL("SET search_path TO {}").format(sql.Identifier(settings.schema))
                )
    except BaseException:
        conn.close()
        raise
    return conn


def _wrap_error(exc: Exception, server_key: str, sql: str) -> Exception:
    """Return the Envoxy error for a psycopg2 error, or ``exc`` itself for any other."""
    import psycopg2

    from envoxy.db.postgres.deadline import DeadlineError

    if not isinstance(exc, psycopg2.Error):
        return exc
    statement = " ".join(sql.split())[:200]
    message = str(exc).strip() or type(exc).__name__
    if isinstance(exc, DeadlineError):
        return QueryTimeoutError(f"{message} (SQL: {statement!r})")
    if exc.pgcode == _QUERY_CANCELED:
        return QueryTimeoutError(
            f"psql_servers.{server_key}: {message} (SQL: {statement!r}); the server "
            f"cancelled it: raise psql_servers.{server_key}.statement_timeout (or timeout) "
            "for longer statements",
            exc.pgcode,
        )
    if isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError) and exc.pgcode is None:
        return ConnectError(
            f"psql_servers.{server_key}: the connection broke while running {statement!r}: "
            f"{message}; the next call reconnects"
        )
    return QueryError(f"psql_servers.{server_key}: {message} (SQL: {statement!r})", exc.pgcode)


def _rollback_quietly(conn: "DeadlineConnection", server_key: str) -> None:
    try:
        conn.rollback()
    except Exception as exc:  # the connection is gone; the pool drops it on release
        log.warning(f"pgsqlc: rollback on psql_servers.{server_key} failed: {exc}")


def _restore_autocommit(conn: "DeadlineConnection") -> bool:
    try:
        conn.autocommit = True
    except Exception:  # broken, or still inside a failed transaction
        return False
    return True


def _observed_key(server_key: str | None) -> str:
    return server_key or _default_server_key()


def _default_server_key() -> str:
    from envoxy.db.orm.session import get_default_server_key

    key: str = get_default_server_key()
    return key
