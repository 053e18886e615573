"""Sessions per server key of ``psql_servers`` in envoxy.json.

Example::

    from envoxy.db.orm.session import session_scope, transactional

    with session_scope("primary") as session:      # or session_scope() for the default
        session.add(Product(name="pen"))

    @transactional()
    def rename(product_id: str, name: str, session: Session) -> None: ...

``get_manager(key)`` builds one :class:`EnvoxySessionManager` per key, on first
use and thread-safely, from ``psql_servers[key]``: its ``url`` (alias ``dsn``), or
a ``postgresql+psycopg2://`` URL from ``host``/``port`` (or ``hosts``, a list of
``host:port``)/``db``/``user``/``passwd`` (see :func:`build_url`);
``target_session_attrs``; ``pool_size`` and ``max_overflow`` (within the key's
``connection_budget``, :mod:`envoxy.db.postgres.budget`), ``pool_timeout`` and
``pool_recycle``; ``schema`` as the PostgreSQL ``search_path``. With
``"pooler": "transaction"`` (PgBouncer's transaction pooling) no startup ``options``
and no session ``SET`` are sent: every transaction starts with ``SET LOCAL`` of
``statement_timeout`` and ``search_path`` (:mod:`envoxy.db.postgres.pooler`).

On PostgreSQL through psycopg2, ``timeout`` (default 5 s) bounds every round trip of
a session (connect, each statement, commit, rollback): the connections are
:class:`~envoxy.db.postgres.deadline.DeadlineConnection` objects, whose socket is shut down
when the server sends no answer in time (SQLAlchemy then raises ``OperationalError``
and drops the connection); ``statement_timeout`` (default ``timeout``), keepalives and
``tcp_user_timeout`` come from :mod:`envoxy.db.postgres.options`. Instead of a ``SELECT 1``
pre-ping, which would hang on a frozen server, a pooled connection is checked on
checkout by polling its socket, and dropped when the server has closed it.
"""

import functools
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import URL, event, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.orm import Session

from envoxy.db.exceptions import DatabaseException
from envoxy.db.orm.drivers import normalize_url
from envoxy.db.orm.manager import EnvoxySessionManager
from envoxy.exceptions import ConfigError
from envoxy.utils.redaction import safe_repr

__all__ = [
    "SECTION",
    "EnvoxySessionManager",
    "build_url",
    "dispose_all",
    "dispose_manager",
    "engine_kwargs_from_settings",
    "get_default_server_key",
    "get_manager",
    "session_scope",
    "transactional",
    "validate_server_key",
]

#: The envoxy.json section holding the PostgreSQL servers.
SECTION = "psql_servers"

#: Pool settings besides ``pool_size`` and ``max_overflow`` (those come from the key's
#: connection budget, :func:`~envoxy.db.postgres.budget.connection_budget`).
_POOL_SETTINGS = {"pool_timeout": 30, "pool_recycle": 1800}

_managers: dict[str, EnvoxySessionManager] = {}
_managers_lock = threading.Lock()


def build_url(settings: Mapping[str, Any]) -> URL:
    """Return the SQLAlchemy URL of one ``psql_servers`` entry.

    ``url`` (or its alias ``dsn``) wins; otherwise a ``postgresql+psycopg2`` URL is
    built from ``host`` (``localhost``), ``port`` (5432), ``db``, ``user`` and
    ``passwd``, with the credentials escaped. A ``hosts`` list becomes SQLAlchemy's
    multi-host form (``?host=db-a:5432&host=db-b:5433``).

    :param settings: the entry, e.g. ``Config.server("psql_servers", "default")``.
    :raises ConfigError: ``url`` is not a valid SQLAlchemy URL, or a port is not a number.
    """
    from envoxy.db.postgres.hosts import host_list
    from envoxy.utils.config import as_int

    given = settings.get("url") or settings.get("dsn")
    if given:
        try:
            return make_url(str(given))
        except ArgumentError:
            # neither the value nor SQLAlchemy's message (which quotes it): it may hold a password
            raise ConfigError(
                f"{SECTION} url {safe_repr(given)} is not a SQLAlchemy URL "
                "(e.g. postgresql+psycopg2://user:pass@host:5432/db)"
            ) from None
    hosts = host_list(settings, SECTION)
    if hosts is not None:
        return URL.create(
            "postgresql+psycopg2",
            username=settings.get("user") or None,
            password=settings.get("passwd") or None,
            database=settings.get("db") or None,
            query={"host": tuple(_host_port(host, port) for host, port in hosts)},
        )
    return URL.create(
        "postgresql+psycopg2",
        username=settings.get("user") or None,
        password=settings.get("passwd") or None,
        host=settings.get("host") or "localhost",
        port=as_int(settings.get("port", 5432), f"{SECTION}.port"),
        database=settings.get("db") or None,
    )


def engine_kwargs_from_settings(
    settings: Mapping[str, Any], url: URL, key: str = "default"
) -> dict[str, Any]:
    """Return ``create_engine`` options from a ``psql_servers`` entry.

    Pool sizes for every URL (``pool_size`` and ``max_overflow`` within the key's
    connection budget); for PostgreSQL the libpq options of
    :func:`~envoxy.db.postgres.options.resilience_kwargs` (the URL's query wins) and
    ``target_session_attrs``, and through psycopg2 also the deadline connections and
    no pre-ping (see the module doc; :func:`_create_manager` adds the checkout poll).
    Behind a transaction pooler no ``options`` go to the server.

    :param settings: the entry.
    :param url: its URL (from :func:`build_url`).
    :param key: its server key, for messages.
    :raises ConfigError: a numeric setting is not a number, ``timeout`` is not positive,
        the pools do not fit in ``connection_budget``, or ``options`` are given to a key
        behind a transaction pooler.
    """
    from envoxy.db.postgres.budget import connection_budget
    from envoxy.db.postgres.hosts import target_session_attrs
    from envoxy.db.postgres.options import DEFAULT_TIMEOUT, resilience_kwargs
    from envoxy.db.postgres.pooler import pooler_mode, reject_startup_options
    from envoxy.utils.config import as_float, as_int

    where = f"{SECTION}.{key}"
    budget = connection_budget(settings, where)
    options: dict[str, Any] = {
        name: as_int(settings.get(name, default), f"{SECTION}.{name}")
        for name, default in _POOL_SETTINGS.items()
    }
    options["pool_size"] = budget.pool_size
    options["max_overflow"] = budget.max_overflow
    if url.get_backend_name() != "postgresql":
        return options
    pooler = pooler_mode(settings, where) is not None
    given = {name: value for name, value in url.query.items() if isinstance(value, str)}
    if pooler:
        reject_startup_options(given.get("options"), where)
    timeout = settings.get("timeout")
    seconds = DEFAULT_TIMEOUT if timeout is None else as_float(timeout, f"{SECTION}.timeout")
    if seconds <= 0:
        raise ConfigError(
            f"{SECTION}.timeout must be a positive number of seconds, not {timeout!r}"
        )
    statement_timeout = settings.get("statement_timeout")
    connect_args = resilience_kwargs(
        seconds,
        None
        if statement_timeout is None
        else as_float(statement_timeout, f"{SECTION}.statement_timeout"),
        given,
        pooler=pooler,
    )
    attrs = target_session_attrs(settings, where)
    if attrs:
        connect_args["target_session_attrs"] = attrs
    # The URL's query reaches psycopg2 by itself: pass only what it lacks (and options,
    # merged above), since connect_args would override it.
    connect_args = {
        name: value
        for name, value in connect_args.items()
        if name == "options" or name not in url.query
    }
    if url.get_driver_name() == "psycopg2":
        from envoxy.db.postgres.deadline import deadline_connection_class

        connect_args["connection_factory"] = deadline_connection_class(seconds, f"{SECTION}.{key}")
        options["pool_pre_ping"] = False
    options["connect_args"] = connect_args
    return options


def get_default_server_key() -> str:
    """Return ``psql_servers.default`` when it names a server, else the first server key.

    :raises DatabaseException: ``psql_servers`` has no server.
    """
    servers = _servers()
    default = servers.get("default")
    if isinstance(default, str) and isinstance(servers.get(default), dict):
        return default
    for key, entry in servers.items():
        if isinstance(entry, dict):
            return str(key)
    raise DatabaseException(
        f"no PostgreSQL server configured: add an object under {SECTION} in envoxy.json"
    )


def validate_server_key(key: str) -> bool:
    """Return whether ``key`` names a server of ``psql_servers``."""
    return isinstance(_servers().get(key), dict)


def get_manager(key: str | None = None) -> EnvoxySessionManager:
    """Return the session manager of server ``key`` (default: :func:`get_default_server_key`).

    Created once per key, thread-safely; use :func:`dispose_manager` to drop it.

    :raises DatabaseException: the key names no server, or its settings are invalid.
    """
    key = key or get_default_server_key()
    manager = _managers.get(key)
    if manager is not None:
        return manager
    with _managers_lock:
        manager = _managers.get(key)
        if manager is None:
            manager = _managers[key] = _create_manager(key)
    return manager


def dispose_manager(key: str) -> None:
    """Close the pooled connections of server ``key`` and forget its manager (no-op if none)."""
    with _managers_lock:
        manager = _managers.pop(key, None)
    if manager is not None:
        manager.dispose()


def dispose_all() -> None:
    """Dispose every manager created by :func:`get_manager`."""
    with _managers_lock:
        managers = list(_managers.values())
        _managers.clear()
    for manager in managers:
        manager.dispose()


@contextmanager
def session_scope(key: str | None = None) -> Iterator[Session]:
    """Yield a session of server ``key``: committed at the end, rolled back on error, closed.

    :raises DatabaseException: as :func:`get_manager`.
    """
    with get_manager(key).session_scope() as session:
        yield session


def transactional[**P, R](key: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Return a decorator running the function in a session of server ``key``.

    The manager is looked up at call time, not when decorating. The function receives
    ``session=`` unless the caller passes a ``Session`` itself.
    """

    def decorator(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            return get_manager(key).transactional()(function)(*args, **kwargs)

        return wrapper

    return decorator


def _servers() -> dict[str, Any]:
    from envoxy.utils.config import Config

    servers = Config.get(SECTION)
    if not isinstance(servers, dict):
        raise DatabaseException(
            f"{SECTION} in envoxy.json must be an object of server keys, "
            f"got {type(servers).__name__}"
        )
    return servers


def _create_manager(key: str) -> EnvoxySessionManager:
    from envoxy.utils.config import Config

    try:
        settings = Config.server(SECTION, key)
        url = normalize_url(build_url(settings))
        engine_kwargs = engine_kwargs_from_settings(settings, url, key)
    except ConfigError as exc:
        raise DatabaseException(str(exc)) from exc
    manager = EnvoxySessionManager(url=url, engine_kwargs=engine_kwargs)
    schema = settings.get("schema")
    pooler = url.get_backend_name() == "postgresql" and _behind_pooler(settings, key)
    if pooler:
        event.listen(manager.engine, "begin", _transaction_setter(settings, key))
    elif schema and url.get_backend_name() == "postgresql":
        event.listen(manager.engine, "connect", _search_path_setter(str(schema)), insert=True)
    if "connection_factory" in engine_kwargs.get("connect_args", {}):
        event.listen(manager.engine, "checkout", _drop_if_closed)
    return manager


def _drop_if_closed(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    """Make SQLAlchemy reconnect when the server closed a pooled connection (no round trip).

    Replaces ``pool_pre_ping``: its ``SELECT 1`` would wait for the deadline on a
    frozen server, then reconnect and wait again.
    """
    from envoxy.utils.deadlines import socket_closed_by_peer

    if dbapi_connection.closed or socket_closed_by_peer(dbapi_connection.fileno()):
        raise DisconnectionError("the server closed this pooled connection")


def _search_path_setter(schema: str) -> Callable[[Any, Any], None]:
    """Return a ``connect`` listener setting the session ``search_path`` (SQLAlchemy's recipe)."""

    def set_search_path(dbapi_connection: Any, connection_record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT set_config('search_path', %s, false)", (schema,))
        finally:
            cursor.close()
            dbapi_connection.autocommit = autocommit

    return set_search_path


def _behind_pooler(settings: Mapping[str, Any], key: str) -> bool:
    from envoxy.db.postgres.pooler import pooler_mode

    return pooler_mode(settings, f"{SECTION}.{key}") is not None


def _transaction_setter(settings: Mapping[str, Any], key: str) -> Callable[[Any], None]:
    """Return a ``begin`` listener that starts each transaction with ``SET LOCAL`` of
    ``statement_timeout`` and ``search_path`` (a key behind a transaction pooler).

    They run through SQLAlchemy (``exec_driver_sql``), so a failure is wrapped and the
    connection invalidated like any statement's; psycopg2 sends its ``BEGIN`` first, and
    the transaction's statements follow on the same server connection.
    """
    from envoxy.db.postgres.options import DEFAULT_TIMEOUT, statement_limit
    from envoxy.db.postgres.pooler import transaction_settings
    from envoxy.utils.config import as_float

    timeout = settings.get("timeout")
    seconds = DEFAULT_TIMEOUT if timeout is None else as_float(timeout, f"{SECTION}.timeout")
    statement_timeout = settings.get("statement_timeout")
    limit = statement_limit(
        seconds,
        None
        if statement_timeout is None
        else as_float(statement_timeout, f"{SECTION}.{key}.statement_timeout"),
    )
    schema = settings.get("schema")
    # SQLAlchemy hands psycopg2 a parameter set, so a % must be doubled.
    sql = transaction_settings(limit, str(schema) if schema else None).replace("%", "%%")

    def set_locals(connection: Any) -> None:
        if sql:
            connection.exec_driver_sql(sql)

    return set_locals


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
