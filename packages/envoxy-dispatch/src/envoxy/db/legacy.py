"""envoxy 0.7's connector singletons, kept so that old code runs.

Reached through their old paths (``envoxy.db.dispatcher.PgConnector`` ...), which warn
once. Each connector's ``postgres``, ``couchdb`` and ``redis`` are the process-wide
clients behind ``pgsqlc``, ``couchdbc`` and ``redisc``: the same pools, connected on
first use (there is nothing to start).
"""

from envoxy.couchdb.client import CouchDBClient
from envoxy.couchdb.dispatcher import default_client as couchdb_client
from envoxy.postgresql.client import PostgresClient
from envoxy.postgresql.dispatcher import default_client as postgres_client
from envoxy.redis.client import RedisClient
from envoxy.redis.dispatcher import default_client as redis_client
from envoxy.utils.singleton import Singleton

__all__ = ["Connector", "CouchConnector", "PgConnector", "RedisConnector"]


class Connector(Singleton):
    """0.7's ``Connector``: ``Connector.instance().postgres.query(...)`` and the like.

    .. deprecated:: 1.0
       Use ``pgsqlc``, ``couchdbc`` and ``redisc``.
    """

    @property
    def postgres(self) -> PostgresClient:
        """The client behind ``pgsqlc``."""
        return postgres_client()

    @property
    def couchdb(self) -> CouchDBClient:
        """The client behind ``couchdbc``."""
        return couchdb_client()

    @property
    def redis(self) -> RedisClient:
        """The client behind ``redisc``."""
        return redis_client()

    def start_postgres_conn(self) -> None:
        """Nothing to start: the client connects a key on its first call."""

    def start_couchdb_conn(self) -> None:
        """Nothing to start: the client connects a key on its first call."""

    def start_redis_conn(self) -> None:
        """Nothing to start: the client connects a key on its first call."""


class CouchConnector(Connector):
    """0.7's ``CouchConnector``: use ``couchdbc``."""


class PgConnector(Connector):
    """0.7's ``PgConnector``: use ``pgsqlc``."""


class RedisConnector(Connector):
    """0.7's ``RedisConnector``: use ``redisc``."""
