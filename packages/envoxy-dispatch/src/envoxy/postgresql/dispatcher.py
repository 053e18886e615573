"""``Dispatcher``: the ``pgsqlc`` facade, a class of static methods as in envoxy 0.7.

Every method delegates to one process-wide
:class:`~envoxy.postgresql.client.PostgresClient`.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from envoxy.postgresql.client import Params, PostgresClient, Row

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from envoxy.db.orm.session import EnvoxySessionManager

__all__ = ["Dispatcher", "default_client"]

_default = PostgresClient()


def default_client() -> PostgresClient:
    """Return the process-wide :class:`PostgresClient` behind ``pgsqlc``."""
    return _default


class Dispatcher:
    """``pgsqlc``: SQL on the servers of ``psql_servers``, plus SQLAlchemy sessions.

    See :class:`~envoxy.postgresql.client.PostgresClient` for the errors each method raises.
    """

    @staticmethod
    def query(
        server_key: str | None = None, sql: str | None = None, params: Params = None
    ) -> list[Row]:
        """Run ``sql`` with bound ``params``; return the rows as dicts."""
        return _default.query(server_key, sql, params)

    @staticmethod
    def transaction(server_key: str | None = None) -> AbstractContextManager[PostgresClient]:
        """Open a transaction for ``server_key`` in this thread (commit or roll back)."""
        return _default.transaction(server_key)

    @staticmethod
    def client() -> PostgresClient:
        """Return the :class:`PostgresClient` behind ``pgsqlc``."""
        return _default

    @staticmethod
    def session(server_key: str | None = None) -> "Session":
        """Return a new SQLAlchemy ``Session`` for ``server_key`` (default key when None)."""
        return _default.session(server_key)

    @staticmethod
    def sa_manager(server_key: str | None = None) -> "EnvoxySessionManager":
        """Return the ``envoxy.db.orm`` session manager of ``server_key``."""
        return _default.sa_manager(server_key)

    @staticmethod
    def sa_session(server_key: str | None = None) -> Any:
        """Return a ``session_scope`` context manager for ``server_key``."""
        return _default.sa_session(server_key)

    @staticmethod
    def sa_transactional(server_key: str | None = None) -> Callable[..., Any]:
        """Return a ``transactional`` decorator for ``server_key``."""
        return _default.sa_transactional(server_key)

    @staticmethod
    def close() -> None:
        """Close every pool; the next call reconnects. Safe to call repeatedly."""
        _default.close()
