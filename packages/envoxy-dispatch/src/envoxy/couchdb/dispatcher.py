"""``Dispatcher``: the ``couchdbc`` facade, a class of static methods as in envoxy 0.7.

Every method is the bound method of one process-wide
:class:`~envoxy.couchdb.client.CouchDBClient` (see :class:`~envoxy.utils.facade.ClientFacade`).
"""

from envoxy.couchdb.client import CouchDBClient
from envoxy.utils.facade import ClientFacade

__all__ = ["Dispatcher", "default_client"]

_default = CouchDBClient()


class Dispatcher(ClientFacade[CouchDBClient], client=_default):
    """``couchdbc``: Mango queries and documents on the servers of ``couchdb_servers``.

    See :class:`~envoxy.couchdb.client.CouchDBClient` for each method and the errors it raises.
    """

    find = staticmethod(_default.find)
    get = staticmethod(_default.get)
    post = staticmethod(_default.post)
    create_index = staticmethod(_default.create_index)
    client = staticmethod(_default.client)
    close = staticmethod(_default.close)


#: Return the process-wide :class:`CouchDBClient` behind ``couchdbc``.
default_client = Dispatcher.instance
