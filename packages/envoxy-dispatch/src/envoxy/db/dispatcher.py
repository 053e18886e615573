"""The database dispatchers under their envoxy 0.7 names.

``PgDispatcher``, ``CouchDBDispatcher`` and ``RedisDBDispatcher`` are the classes
``pgsqlc``, ``couchdbc`` and ``redisc`` (``envoxy.postgresql``, ``envoxy.couchdb``,
``envoxy.redis``); code that imported them from here keeps working. Importing this
module imports no driver and reads no configuration.

0.7's connector singletons (``Connector``, ``PgConnector``, ``CouchConnector``,
``RedisConnector``) still resolve from here, warning once: see :mod:`envoxy.db.legacy`.
"""

from envoxy.couchdb.dispatcher import Dispatcher as CouchDBDispatcher
from envoxy.postgresql.dispatcher import Dispatcher as PgDispatcher
from envoxy.redis.dispatcher import Dispatcher as RedisDBDispatcher
from envoxy.utils.deprecation import deprecated_aliases

__all__ = ["CouchDBDispatcher", "PgDispatcher", "RedisDBDispatcher"]

__getattr__ = deprecated_aliases(
    __name__,
    {
        "Connector": (
            "envoxy.db.legacy",
            "Connector",
            "envoxy.postgresql.pgsqlc, envoxy.couchdb.couchdbc and envoxy.redis.redisc",
        ),
        "PgConnector": ("envoxy.db.legacy", "PgConnector", "envoxy.postgresql.pgsqlc"),
        "CouchConnector": ("envoxy.db.legacy", "CouchConnector", "envoxy.couchdb.couchdbc"),
        "RedisConnector": ("envoxy.db.legacy", "RedisConnector", "envoxy.redis.redisc"),
    },
)
