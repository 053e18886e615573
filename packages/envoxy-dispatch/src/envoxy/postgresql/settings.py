"""Connection settings of one ``psql_servers`` key, as ``psycopg2.connect`` arguments.

Either ``url`` (alias ``dsn``, a SQLAlchemy-style ``postgresql[+driver]://`` URL) or
``host``/``port`` (or ``hosts``, a list of ``host:port``)/``db``/``user``/``passwd``;
plus ``target_session_attrs``, ``schema`` (the ``search_path``), ``max_conn`` (within
the key's ``connection_budget``), ``timeout`` (the deadline of a call),
``conn_timeout`` (pool wait), ``health_check_on_release``, ``statement_timeout``
(server-side, default ``timeout``) and ``pooler`` (``"transaction"`` behind PgBouncer's
transaction pooling: settings per transaction, :mod:`envoxy.db.postgres.pooler`).
Numbers may be numeric strings. The ORM's ``pool_*`` keys share the section
(:data:`PostgresSettings.KEYS` lists them too).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

from envoxy.db.exceptions import DatabaseException
from envoxy.db.postgres.budget import DEFAULTS as BUDGET_DEFAULTS
from envoxy.db.postgres.budget import connection_budget
from envoxy.db.postgres.hosts import host_list, libpq_hosts, parse_host, target_session_attrs
from envoxy.db.postgres.options import (
    DEADLINE_GRACE,
    DEFAULT_TIMEOUT,
    resilience_kwargs,
    statement_limit,
)
from envoxy.db.postgres.pooler import pooler_mode, reject_startup_options, transaction_settings
from envoxy.postgresql.exceptions import UnknownServerError
from envoxy.utils.config import Config
from envoxy.utils.conversions import as_bool, as_float
from envoxy.utils.settings import integer, optional_str

__all__ = [
    "DEFAULT_CONN_TIMEOUT",
    "DEFAULT_HOST",
    "DEFAULT_MAX_CONN",
    "DEFAULT_PORT",
    "DEFAULT_TIMEOUT",
    "POSTGRES_EXTRA",
    "SECTION",
    "PostgresSettings",
    "server_config",
]

#: The ``envoxy.json`` section holding the PostgreSQL server keys.
SECTION = "psql_servers"
#: What to install when psycopg2 is missing.
POSTGRES_EXTRA = "envoxy-dispatch[postgres]"
DEFAULT_HOST = "localhost"
DEFAULT_PORT = 5432
#: Most connections one server key's pgsqlc pool holds at once (without ``connection_budget``).
DEFAULT_MAX_CONN = BUDGET_DEFAULTS["max_conn"]
#: Seconds to wait for a free pooled connection before ``PoolTimeoutError``.
DEFAULT_CONN_TIMEOUT = 5.0

_POSTGRES_SCHEMES = frozenset({"postgresql", "postgres"})
# Session settings every pgsqlc connection gets: UTC timestamps, ISO dates.
_SESSION_SETTINGS = {"TimeZone": "UTC", "DateStyle": "ISO"}
_SESSION_OPTIONS = " ".join(f"-c {name}={value}" for name, value in _SESSION_SETTINGS.items())


@dataclass(frozen=True, slots=True)
class PostgresSettings:
    """Validated settings of one server key.

    :param where: ``"psql_servers.<key>"``, used in messages.
    :param connect_kwargs: keyword arguments for ``psycopg2.connect``.
    :param timeout: seconds one call may take: the pool wait, connecting and the
        statement together (plus :data:`~envoxy.db.postgres.options.DEADLINE_GRACE`).
    :param schema: the schema to put on the ``search_path``, or None.
    :param max_conn: the pool size.
    :param conn_timeout: seconds to wait for a pooled connection, None to wait forever.
    :param health_check_on_release: check a connection's state when it is given back.
    :param pooler: ``"transaction"`` behind a transaction pooler, else None.
    :param transaction_sql: behind a transaction pooler, the ``SET LOCAL`` statements
        each transaction starts with (``statement_timeout``, ``TimeZone``, ``DateStyle``,
        ``search_path``); ``""`` otherwise.

    .. versionchanged:: 1.1
       ``from_config(key, conf)`` takes ``where=`` like every client's settings.
    """

    SECTION: ClassVar[str] = SECTION
    KEYS: ClassVar[frozenset[str]] = frozenset(
        {
            "url",
            "dsn",
            "host",
            "hosts",
            "port",
            "target_session_attrs",
            "pooler",
            "connection_budget",
            "db",
            "user",
            "passwd",
            "schema",
            "max_conn",
            "timeout",
            "conn_timeout",
            "health_check_on_release",
            "statement_timeout",
            # read by envoxy.db.orm for the SQLAlchemy engine of the same key
            "pool_size",
            "max_overflow",
            "pool_timeout",
            "pool_recycle",
        }
    )

    where: str
    connect_kwargs: dict[str, Any] = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT
    schema: str | None = None
    max_conn: int = DEFAULT_MAX_CONN
    conn_timeout: float | None = DEFAULT_CONN_TIMEOUT
    health_check_on_release: bool = True
    pooler: str | None = None
    transaction_sql: str = ""

    @classmethod
    def from_config(
        cls, key: str, conf: Mapping[str, Any], *, where: str | None = None
    ) -> "PostgresSettings":
        """Build the settings of server ``key`` from its ``psql_servers`` object.

        :param where: the location named in messages; default ``"psql_servers.<key>"``.
        :raises DatabaseException: ``url`` is not a PostgreSQL URL, or a value is out of range.
        :raises ConfigError: a value is not a number, naming the setting.
        """
        where = where or f"{SECTION}.{key}"
        url = conf.get("url") or conf.get("dsn")
        given = _url_kwargs(url, where) if url else _field_kwargs(conf, where)
        attrs = target_session_attrs(conf, where)
        if attrs:
            given["target_session_attrs"] = attrs
        timeout = _positive(conf.get("timeout"), DEFAULT_TIMEOUT, f"{where}.timeout")
        statement_timeout: float | None = None
        if conf.get("statement_timeout") is not None:
            statement_timeout = as_float(conf["statement_timeout"], f"{where}.statement_timeout")
        schema = optional_str(conf, "schema", where)
        pooler = pooler_mode(conf, where)
        transaction_sql = ""
        if pooler:
            reject_startup_options(given.get("options"), where)
            transaction_sql = transaction_settings(
                statement_limit(timeout, statement_timeout), schema, _SESSION_SETTINGS
            )
        else:
            # The URL's own options first: ours follow, and the last -c of a setting wins.
            given["options"] = f"{given.get('options', '')} {_SESSION_OPTIONS}".strip()
        kwargs = resilience_kwargs(timeout, statement_timeout, given, pooler=bool(pooler))
        kwargs.setdefault("application_name", "envoxy")
        conn_timeout: float | None = None
        if conf.get("conn_timeout", DEFAULT_CONN_TIMEOUT) is not None:
            conn_timeout = as_float(
                conf.get("conn_timeout", DEFAULT_CONN_TIMEOUT), f"{where}.conn_timeout"
            )
        return cls(
            where=where,
            connect_kwargs=kwargs,
            timeout=timeout,
            schema=schema,
            max_conn=connection_budget(conf, where).max_conn,
            conn_timeout=conn_timeout,
            health_check_on_release=as_bool(
                conf.get("health_check_on_release", True), f"{where}.health_check_on_release"
            ),
            pooler=pooler,
            transaction_sql=transaction_sql,
        )

    def worst_case(self) -> float:
        """Return the longest one ``query`` can take: ``timeout``, the client deadline's
        grace, and up to half a second of libpq's whole-second ``connect_timeout``."""
        return self.timeout + DEADLINE_GRACE + 0.5

    def describe(self) -> str:
        """Return ``where (host:port[,host:port...]/db)`` for messages; never the password."""
        hosts = str(self.connect_kwargs.get("host", DEFAULT_HOST)).split(",")
        ports = str(self.connect_kwargs.get("port", DEFAULT_PORT)).split(",")
        if len(ports) < len(hosts):  # one port for every host, as libpq reads it
            ports = ports[:1] * len(hosts)
        where = ",".join(f"{host}:{port}" for host, port in zip(hosts, ports, strict=False))
        return f"{self.where} ({where}/{self.connect_kwargs.get('dbname', '')})"


def server_config(server_key: str, servers: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """Return the ``psql_servers`` object of ``server_key``.

    The string ``psql_servers.default`` names the default key and is never a server.

    :param servers: the ``psql_servers`` mapping to read instead of ``envoxy.json``.
    :raises UnknownServerError: the key is missing or not an object; names the known keys.
    """
    if servers is None:
        servers = Config.get(SECTION)
    conf = servers.get(server_key) if isinstance(servers, Mapping) else None
    if not isinstance(conf, Mapping):
        known = sorted(key for key, value in (servers or {}).items() if isinstance(value, Mapping))
        raise UnknownServerError(
            f"{SECTION}.{server_key} is not configured (known server keys: "
            f"{', '.join(known) or 'none'}); add it to the {SECTION} section of envoxy.json"
        )
    return conf


def _url_kwargs(url: Any, where: str) -> dict[str, Any]:
    if not isinstance(url, str):
        raise DatabaseException(f"{where}.url must be a string URL")
    parts = urlsplit(url)
    scheme = parts.scheme.partition("+")[0]
    if scheme not in _POSTGRES_SCHEMES:
        raise DatabaseException(
            f"{where}.url is a {parts.scheme or 'schemeless'} URL; pgsqlc speaks PostgreSQL "
            "only: use postgresql://user:password@host:port/database"
        )
    pairs = parse_qsl(parts.query)
    kwargs: dict[str, Any] = {name: value for name, value in pairs if name != "host"}
    query_hosts = [value for name, value in pairs if name == "host"]
    try:
        port = parts.port
    except ValueError as exc:
        raise DatabaseException(f"{where}.url has an invalid port: {exc}") from exc
    if query_hosts:  # SQLAlchemy's multi-host form: ?host=db-a:5432&host=db-b:5433
        default_port = port or DEFAULT_PORT
        hosts = [parse_host(host, default_port, f"{where}.url host") for host in query_hosts]
        kwargs.update(libpq_hosts(hosts))
    else:
        if parts.hostname:
            kwargs["host"] = parts.hostname
        if port:
            kwargs["port"] = port
    if parts.username:
        kwargs["user"] = unquote(parts.username)
    if parts.password:
        kwargs["password"] = unquote(parts.password)
    database = unquote(parts.path.lstrip("/"))
    if database:
        kwargs["dbname"] = database
    return kwargs


def _positive(value: Any, default: float, name: str) -> float:
    """Return ``value`` (``default`` when None) as a positive number of seconds."""
    seconds = default if value is None else as_float(value, name)
    if seconds <= 0:
        raise DatabaseException(
            f"{name} must be a positive number of seconds, not {value!r}: every call "
            "needs a deadline (raise it for long statements)"
        )
    return seconds


def _field_kwargs(conf: Mapping[str, Any], where: str) -> dict[str, Any]:
    hosts = host_list(conf, where)
    kwargs: dict[str, Any]
    if hosts is not None:
        kwargs = libpq_hosts(hosts)
    else:
        kwargs = {
            "host": optional_str(conf, "host", where) or DEFAULT_HOST,
            "port": integer(conf, "port", DEFAULT_PORT, where),
        }
    for name, argument in (("db", "dbname"), ("user", "user"), ("passwd", "password")):
        value = optional_str(conf, name, where)
        if value is not None:
            kwargs[argument] = value
    return kwargs
