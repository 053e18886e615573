"""One migration at a time per namespace: a PostgreSQL advisory lock around each run.

Several replicas of a service often run ``envoxy-alembic upgrade head`` at the same
time. On PostgreSQL, ``upgrade``, ``downgrade`` and ``stamp`` first take a
session-level advisory lock whose key is derived from the namespace's version table
(:func:`lock_key`), on the very connection Alembic migrates on. The others wait (up
to ``ENVOXY_ALEMBIC_LOCK_TIMEOUT`` seconds); once they hold the lock Alembic reads
the current revision again, finds the schema at head and does nothing. SQLite and
offline ``--sql`` runs take no lock.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from envoxy.tools.alembic.exceptions import MigrationLockTimeoutError
from envoxy.tools.alembic.settings import LOCK_TIMEOUT_VARIABLE

__all__ = ["LOCKING_COMMANDS", "lock_key", "migration_lock"]

#: Alembic commands that change the schema or the version table, hence take the lock.
LOCKING_COMMANDS = frozenset({"upgrade", "downgrade", "stamp"})

#: SQLSTATE of ``lock_not_available``, raised when ``lock_timeout`` expires.
_LOCK_NOT_AVAILABLE = "55P03"
_HOLDER_SQL = text(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND classid = CAST(:high AS oid) AND objid = CAST(:low AS oid) AND objsubid = 1"
    " LIMIT 1"
)


def lock_key(version_table: str) -> int:
    """Return the advisory lock key (a signed 64-bit integer) of a version table.

    Derived from the name alone, so every replica and every envoxy-alembic version
    agree on it; a different namespace (version table) gets a different key.
    """
    digest = hashlib.blake2b(f"envoxy-alembic:{version_table}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def migration_lock(connection: Connection, version_table: str, timeout: float) -> Iterator[None]:
    """Hold the advisory lock of ``version_table`` on ``connection`` (PostgreSQL only).

    The lock is session-level, so it outlives the transactions Alembic opens and
    commits on the same connection; it is released when the block ends (and by the
    server if the connection dies). Enter it with no transaction open: the ones it
    needs are committed before the block runs.

    :param connection: the connection Alembic will migrate on.
    :param version_table: the namespace's version table, which names the lock.
    :param timeout: seconds to wait for another run to finish.
    :raises MigrationLockTimeoutError: the lock is still held after ``timeout``; the
        message names the lock and the PostgreSQL pid holding it.
    """
    if connection.dialect.name != "postgresql":
        yield
        return
    key = lock_key(version_table)
    _acquire(connection, key, version_table, timeout)
    try:
        yield
    finally:
        _release(connection, key)


def _acquire(connection: Connection, key: int, version_table: str, timeout: float) -> None:
    acquired = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
    if acquired.scalar():
        connection.commit()
        return
    holder = _holder(connection, key)
    connection.commit()
    print(
        f"envoxy-alembic: waiting up to {timeout:g} s for the migration lock of "
        f"{version_table} (held by {holder})",
        file=sys.stderr,
        flush=True,
    )
    try:
        # Local to this transaction: lock_timeout bounds the wait, and a server-wide
        # statement_timeout must not cut it shorter.
        connection.execute(
            text(
                "SELECT set_config('lock_timeout', :wait, true),"
                " set_config('statement_timeout', '0', true)"
            ),
            {"wait": f"{max(1, round(timeout * 1000))}ms"},
        )
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        connection.commit()
    except DBAPIError as exc:
        connection.rollback()
        if _sqlstate(exc) != _LOCK_NOT_AVAILABLE:
            raise
        holder = _holder(connection, key)
        connection.commit()
        raise MigrationLockTimeoutError(
            f"timed out after {timeout:g} s waiting for the migration lock of {version_table} "
            f"(PostgreSQL advisory lock {key}, held by {holder}): another migration of this "
            f"namespace is still running; retry when it ends, or raise {LOCK_TIMEOUT_VARIABLE} "
            "(seconds)"
        ) from exc


def _release(connection: Connection, key: int) -> None:
    try:
        if connection.in_transaction():
            connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        connection.commit()
    except SQLAlchemyError:
        pass  # the connection is gone or broken: the server released the lock with it


def _holder(connection: Connection, key: int) -> str:
    """Describe who holds the lock: ``backend pid N``, or ``another session``."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    pid = connection.execute(
        _HOLDER_SQL, {"high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF}
    ).scalar()
    return f"backend pid {pid}" if pid is not None else "another session"


def _sqlstate(exc: DBAPIError) -> str | None:
    original = exc.orig
    return getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)
