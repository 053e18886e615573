"""The database dispatchers under their envoxy 0.7 names.

``PgDispatcher``, ``CouchDBDispatcher`` and ``RedisDBDispatcher`` are the classes
``pgsqlc``, ``couchdbc`` and ``redisc`` (``envoxy.postgresql``, ``envoxy.couchdb``,
``envoxy.redis``); code that imported them from here keeps working. Importing this
module imports no driver and reads no configuration.
"""

from envoxy.couchdb.dispatcher import Dispatcher as CouchDBDispatcher
from envoxy.postgresql.dispatcher import Dispatcher as PgDispatcher
from envoxy.redis.dispatcher import Dispatcher as RedisDBDispatcher

__all__ = ["CouchDBDispatcher", "PgDispatcher", "RedisDBDispatcher"]
