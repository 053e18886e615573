"""CouchDB client of Envoxy: ``couchdbc``.

::

    from envoxy.couchdb import couchdbc

    couchdbc.post("main.users", {"_id": "ada", "age": 36})
    couchdbc.get("ada", "main.users")              # the document, or None
    couchdbc.find("main.users", fields=["_id"], params={"age__gte": 18, "page_size": 10})

Server keys come from the ``couchdb_servers`` section of ``envoxy.json``. Importing
this package imports neither httpx nor the configuration; the first call for a key
does. httpx is the ``envoxy-dispatch[couchdb]`` extra.
"""

from envoxy.couchdb.client import CouchDBClient, split_db
from envoxy.couchdb.dispatcher import Dispatcher, default_client
from envoxy.couchdb.exceptions import CouchDBConnectionError, CouchDBError, CouchDBTimeoutError
from envoxy.couchdb.mango import OPERATORS, find_body
from envoxy.couchdb.settings import CouchDBSettings

__all__ = [
    "OPERATORS",
    "CouchDBClient",
    "CouchDBConnectionError",
    "CouchDBError",
    "CouchDBSettings",
    "CouchDBTimeoutError",
    "Dispatcher",
    "couchdbc",
    "default_client",
    "find_body",
    "split_db",
]

#: The CouchDB facade: ``couchdbc.find/get/post/close``.
couchdbc = Dispatcher
