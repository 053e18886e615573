"""PostgreSQL client of Envoxy: ``pgsqlc``.

::

    from envoxy.postgresql import pgsqlc

    pgsqlc.query("main", "SELECT * FROM aux_user WHERE id = %(id)s", {"id": 7})
    with pgsqlc.transaction("main") as db:
        db.query("main", "INSERT INTO aux_log (text) VALUES (%s)", ["hello"])
    session = pgsqlc.session("main")   # a SQLAlchemy Session

Server keys come from the ``psql_servers`` section of ``envoxy.json``. Importing this
package imports neither psycopg2 nor the configuration; the first call for a key
does. psycopg2 and the driver layer it shares with the ORM (``envoxy.db.postgres``,
from envoxy-orm) are the ``envoxy-dispatch[postgres]`` extra: without it, importing
this package raises :class:`~envoxy.exceptions.MissingDependencyError` naming it.
"""

# ruff: noqa: E402 - the extra is checked before the modules that need it are imported
from envoxy.utils.imports import require as _require

_require("envoxy.db.postgres.options", "envoxy-dispatch[postgres]")

from envoxy.db.exceptions import DatabaseException
from envoxy.postgresql.client import PostgresClient
from envoxy.postgresql.dispatcher import Dispatcher, default_client
from envoxy.postgresql.exceptions import (
    ConnectError,
    PoolTimeoutError,
    QueryError,
    QueryTimeoutError,
    UnknownServerError,
)
from envoxy.postgresql.settings import PostgresSettings

__all__ = [
    "ConnectError",
    "DatabaseException",
    "Dispatcher",
    "PoolTimeoutError",
    "PostgresClient",
    "PostgresSettings",
    "QueryError",
    "QueryTimeoutError",
    "UnknownServerError",
    "default_client",
    "pgsqlc",
]

#: The PostgreSQL facade: ``pgsqlc.query/transaction/session/sa_*/close``.
pgsqlc = Dispatcher
