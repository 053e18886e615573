"""The database dispatchers under their envoxy 0.7 names.

``PgDispatcher``, ``CouchDBDispatcher`` and ``RedisDBDispatcher`` are the classes
``pgsqlc``, ``couchdbc`` and ``redisc`` (``envoxy.postgresql``, ``envoxy.couchdb``,
``envoxy.redis``); code that imported them from here keeps working. Importing this
module imports no driver and reads no configuration.

0.7's connector singletons (``Connector``, ``PgConnector``, ``CouchConnector``,
``RedisConnector``) still resolve from here, warning once: their ``postgres``,
``couchdb`` and ``redis`` are the process-wide clients behind ``pgsqlc``, ``couchdbc``
and ``redisc`` (the same pools, connected on first use: there is nothing to start).
"""

from envoxy.couchdb.client import CouchDBClient
from envoxy.couchdb.dispatcher import Dispatcher as CouchDBDispatcher
from envoxy.postgresql.client import PostgresClient
from envoxy.postgresql.dispatcher import Dispatcher as PgDispatcher
from envoxy.redis.client import RedisClient
from envoxy.redis.dispatcher import Dispatcher as RedisDBDispatcher
from envoxy.utils.deprecation import deprecated_aliases
from envoxy.utils.singleton import Singleton

__all__ = ["CouchDBDispatcher", "PgDispatcher", "RedisDBDispatcher"]

__getattr__ = deprecated_aliases(
    __name__,
    {
        "Connector": (
            "envoxy.db.dispatcher",
            "_Connector",
            "envoxy.postgresql.pgsqlc, envoxy.couchdb.couchdbc and envoxy.redis.redisc",
        ),
        "PgConnector": ("envoxy.db.dispatcher", "_PgConnector", "envoxy.postgresql.pgsqlc"),
        "CouchConnector": ("envoxy.db.dispatcher", "_CouchConnector", "envoxy.couchdb.couchdbc"),
        "RedisConnector": ("envoxy.db.dispatcher", "_RedisConnector", "envoxy.redis.redisc"),
    },
)


class _Connector(Singleton):
    """0.7's ``Connector``: ``Connector.instance().postgres.query(...)`` and the like.

    .. deprecated:: 1.0
       Use ``pgsqlc``, ``couchdbc`` and ``redisc``.
    """

    @property
    def postgres(self) -> PostgresClient:
        """The client behind ``pgsqlc``."""
        return PgDispatcher.instance()

    @property
    def couchdb(self) -> CouchDBClient:
        """The client behind ``couchdbc``."""
        return CouchDBDispatcher.instance()

    @property
    def redis(self) -> RedisClient:
        """The client behind ``redisc``."""
        return RedisDBDispatcher.instance()

    def start_postgres_conn(self) -> None:
        """Nothing to start: the client connects a key on its first call."""

    def start_couchdb_conn(self) -> None:
        """Nothing to start: the client connects a key on its first call."""

    def start_redis_conn(self) -> None:
        """Nothing to start: the client connects a key on its first call."""


class _CouchConnector(_Connector):
    """0.7's ``CouchConnector``: use ``couchdbc``."""


class _PgConnector(_Connector):
    """0.7's ``PgConnector``: use ``pgsqlc``."""


class _RedisConnector(_Connector):
    """0.7's ``RedisConnector``: use ``redisc``."""
