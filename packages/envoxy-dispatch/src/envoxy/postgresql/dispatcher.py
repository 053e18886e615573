"""``Dispatcher``: the ``pgsqlc`` facade, a class of static methods as in envoxy 0.7.

Every method is the bound method of one process-wide
:class:`~envoxy.postgresql.client.PostgresClient` (see
:class:`~envoxy.utils.facade.ClientFacade`).
"""

from envoxy.postgresql.client import PostgresClient
from envoxy.utils.facade import ClientFacade

__all__ = ["Dispatcher", "default_client"]

_default = PostgresClient()


class Dispatcher(ClientFacade[PostgresClient], client=_default):
    """``pgsqlc``: SQL on the servers of ``psql_servers``, plus SQLAlchemy sessions.

    See :class:`~envoxy.postgresql.client.PostgresClient` for each method and the errors
    it raises; ``client()`` returns that client itself.
    """

    query = staticmethod(_default.query)
    transaction = staticmethod(_default.transaction)
    session = staticmethod(_default.session)
    sa_manager = staticmethod(_default.sa_manager)
    sa_session = staticmethod(_default.sa_session)
    sa_transactional = staticmethod(_default.sa_transactional)
    close = staticmethod(_default.close)

    @staticmethod
    def client() -> PostgresClient:
        """Return the :class:`PostgresClient` behind ``pgsqlc``."""
        return _default


#: Return the process-wide :class:`PostgresClient` behind ``pgsqlc``.
default_client = Dispatcher.instance
