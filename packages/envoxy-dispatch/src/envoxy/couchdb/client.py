"""``CouchDBClient``: Mango queries and documents over pooled HTTP, one client per key.

``db`` arguments are ``"<server key>.<database>"``, split at the first dot. Each
server key gets one ``httpx.Client`` (connection pool, basic auth, connect and read
timeouts, 3 retries of failed connects), built on the first call for the key and
rebuilt in a forked child (see :class:`~envoxy.utils.registry.ClientRegistry`).
"""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from envoxy.couchdb.exceptions import CouchDBConnectionError, CouchDBError, CouchDBTimeoutError
from envoxy.couchdb.mango import find_body
from envoxy.couchdb.settings import SECTION, CouchDBSettings
from envoxy.utils.deprecation import deprecated_aliases
from envoxy.utils.encoders import envoxy_json_dumps, envoxy_json_loads
from envoxy.utils.logs import log
from envoxy.utils.observe import observed
from envoxy.utils.registry import ClientRegistry
from envoxy.utils.settings import server_conf

if TYPE_CHECKING:
    import httpx

__all__ = ["CouchDBClient", "split_db"]

#: 0.7's ``envoxy.couchdb.client.Client(server_conf)`` is :class:`CouchDBClient` (warns once).
__getattr__ = deprecated_aliases(__name__, {"Client": ("envoxy.couchdb.client", "CouchDBClient")})

_JSON_HEADERS = {"Content-Type": "application/json"}


def split_db(db: str) -> tuple[str, str]:
    """Split ``"<server key>.<database>"`` at the first dot.

    :raises ValueError: ``db`` has no dot, or an empty key or database.
    """
    server_key, separator, database = db.partition(".") if isinstance(db, str) else ("", "", "")
    if not separator or not server_key or not database:
        raise ValueError(f"db must be '<server key>.<database>' (e.g. 'main.users'), not {db!r}")
    return server_key, database


class CouchDBClient:
    """Query and write documents on the CouchDB servers of ``couchdb_servers``.

    Nothing is read or opened until the first call for a key. ``couchdbc`` is the
    process-wide instance; build another one only to isolate pools (tests).

    :param servers: the ``couchdb_servers`` mapping to use instead of ``envoxy.json``
        (also 0.7's ``Client(server_conf)`` call).

    .. versionchanged:: 1.1
       ``servers``, as ``MqttClient`` and ``ZmqClient`` take it.
    """

    def __init__(self, servers: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._clients: ClientRegistry[tuple[str, httpx.Client]] = ClientRegistry(
            lambda key: _open(key, servers), lambda entry: entry[1].close()
        )

    def find(
        self,
        db: str,
        fields: Sequence[str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Run a Mango query (``POST /<database>/_find``) and return its ``docs``.

        :param db: ``"<server key>.<database>"``.
        :param fields: the fields to return, or None for whole documents.
        :param params: filters (``field``, ``field__gt``, …; ops eq, ne, gt, gte, lt,
            lte, in, nin) and paging (``page_size``, ``page_start_index``, ``order_by``
            as ``"-field"``/``"field"`` or a list). It is not modified.
        :raises ValueError: ``db`` has no dot, or bad paging values.
        :raises ConfigError: the server key is not in ``couchdb_servers``.
        :raises CouchDBError: a non-2xx answer (``.status``, ``.reason``), or no answer.
        """
        server_key, database = split_db(db)
        body = find_body(fields, params)
        answer = self._request(server_key, "POST", f"/{_quote(database)}/_find", body)
        docs: list[dict[str, Any]] = answer.get("docs", [])
        return docs

    def get(self, id: str, db: str) -> dict[str, Any] | None:
        """Return the document ``id`` of ``db``, or None when it does not exist (404).

        :raises ValueError: ``db`` has no dot.
        :raises ConfigError: the server key is not in ``couchdb_servers``.
        :raises CouchDBError: another non-2xx answer, or no answer.
        """
        server_key, database = split_db(db)
        path = f"/{_quote(database)}/{_quote(id)}"
        return self._request(server_key, "GET", path, None, missing_ok=True)

    def post(self, db: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Create a document in ``db`` (``POST /<database>``) and return the answer JSON.

        :param payload: the document; anything ``envoxy_json_dumps`` encodes.
        :raises TypeError: ``payload`` cannot be encoded; nothing is sent.
        :raises ValueError: ``db`` has no dot.
        :raises ConfigError: the server key is not in ``couchdb_servers``.
        :raises CouchDBError: a non-2xx answer (e.g. 409 conflict), or no answer.
        """
        server_key, database = split_db(db)
        answer: dict[str, Any] = self._request(server_key, "POST", f"/{_quote(database)}", payload)
        return answer

    def create_index(
        self, db: str, fields: Sequence[str], name: str | None = None
    ) -> dict[str, Any]:
        """Create a Mango index on ``fields`` (``POST /<database>/_index``) and return the
        answer (``"result"`` is ``"created"``, or ``"exists"`` when it was already there).

        ``find`` with ``order_by`` needs an index on the sorted fields: CouchDB refuses
        to sort otherwise. Calling it at every start is safe.

        :param fields: the indexed fields, in order.
        :param name: the index name (CouchDB derives one when None).
        :raises ValueError: ``db`` has no dot, or ``fields`` is empty.
        :raises ConfigError: the server key is not in ``couchdb_servers``.
        :raises CouchDBError: a non-2xx answer (e.g. the database does not exist), or no answer.

        .. versionadded:: 1.1
        """
        server_key, database = split_db(db)
        if isinstance(fields, str) or not fields:
            raise ValueError(f"fields must be a non-empty list of field names, not {fields!r}")
        body: dict[str, Any] = {"index": {"fields": list(fields)}, "type": "json"}
        if name:
            body["name"] = name
        answer: dict[str, Any] = self._request(
            server_key, "POST", f"/{_quote(database)}/_index", body
        )
        return answer

    def client(self, server_key: str) -> "httpx.Client":
        """Return the ``httpx.Client`` of ``server_key`` (its base URL is ``bind``)."""
        return self._clients.get(server_key)[1]

    def close(self) -> None:
        """Close every HTTP pool and forget the keys; safe to call repeatedly."""
        self._clients.close()

    @observed("couchdb")
    def _request(
        self,
        server_key: str,
        method: str,
        path: str,
        body: Any,
        *,
        missing_ok: bool = False,
    ) -> Any:
        where, http = self._clients.get(server_key)
        content = envoxy_json_dumps(body) if body is not None else None
        try:
            response = http.request(
                method, path, content=content, headers=_JSON_HEADERS if content else None
            )
        except Exception as exc:
            error = _transport_error(exc, where, method, path)
            if error is exc:
                raise
            raise error from exc
        status = response.status_code
        if missing_ok and status == 404:
            return None
        if not 200 <= status < 300:
            reason = _reason(response)
            raise CouchDBError(
                f"{where}: {method} {path} answered {status}: {reason}",
                status=status,
                reason=reason,
            )
        return envoxy_json_loads(response.content) if response.content else {}


def _open(server_key: str, servers: Mapping[str, Any] | None) -> "tuple[str, httpx.Client]":
    """Build the HTTP pool of ``server_key`` (connects on use)."""
    settings = CouchDBSettings.from_config(server_key, server_conf(SECTION, server_key, servers))
    client = settings.create_client()
    log.trace(f"couchdbc: client for {settings.where} ({settings.base_url}) ready")
    return settings.where, client


def _quote(segment: str) -> str:
    return quote(segment, safe="")


def _reason(response: "httpx.Response") -> str:
    try:
        answer = envoxy_json_loads(response.content)
    except ValueError:
        return response.text.strip() or response.reason_phrase
    if isinstance(answer, Mapping):
        return str(answer.get("reason") or answer.get("error") or response.reason_phrase)
    return response.reason_phrase


def _transport_error(exc: Exception, where: str, method: str, path: str) -> Exception:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return CouchDBTimeoutError(
            f"{where}: {method} {path} timed out ({type(exc).__name__}); raise "
            "connect_timeout/timeout or check the server",
            reason=str(exc),
        )
    if isinstance(exc, httpx.TransportError):
        return CouchDBConnectionError(
            f"{where}: {method} {path} failed: {exc}; check that CouchDB runs at bind",
            reason=str(exc),
        )
    return exc
