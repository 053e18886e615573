"""``Dispatcher``: the ``couchdbc`` facade, a class of static methods as in envoxy 0.7.

Every method delegates to one process-wide :class:`~envoxy.couchdb.client.CouchDBClient`.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from envoxy.couchdb.client import CouchDBClient

__all__ = ["Dispatcher", "default_client"]

_default = CouchDBClient()


def default_client() -> CouchDBClient:
    """Return the process-wide :class:`CouchDBClient` behind ``couchdbc``."""
    return _default


class Dispatcher:
    """``couchdbc``: Mango queries and documents on the servers of ``couchdb_servers``.

    See :class:`~envoxy.couchdb.client.CouchDBClient` for the errors each method raises.
    """

    @staticmethod
    def find(
        db: str,
        fields: Sequence[str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Run a Mango query on ``"<key>.<database>"``; return the matching docs."""
        return _default.find(db, fields, params)

    @staticmethod
    def get(id: str, db: str) -> dict[str, Any] | None:
        """Return the document ``id`` of ``"<key>.<database>"``, or None when missing."""
        return _default.get(id, db)

    @staticmethod
    def post(db: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Create a document in ``"<key>.<database>"``; return CouchDB's answer."""
        return _default.post(db, payload)

    @staticmethod
    def create_index(db: str, fields: Sequence[str], name: str | None = None) -> dict[str, Any]:
        """Create a Mango index on ``fields`` of ``"<key>.<database>"`` (``find`` with
        ``order_by`` needs one); an existing one answers ``"exists"``."""
        return _default.create_index(db, fields, name)

    @staticmethod
    def close() -> None:
        """Close every HTTP pool; the next call reconnects. Safe to call repeatedly."""
        _default.close()
