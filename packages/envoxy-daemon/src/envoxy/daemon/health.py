"""``/_health`` (liveness) and ``/_ready`` (readiness).

Readiness checks every configured client and the credentials concurrently, each
within ``readiness.timeout`` seconds (1 s by default):

=============  ============================================
kind           check
=============  ============================================
``redis``      ``PING`` over a client of its own (short timeouts)
``postgresql`` ``SELECT 1`` over a connection of its own (the ORM engine for
               another SQLAlchemy URL, e.g. SQLite)
``couchdb``    ``GET <bind>`` answers below 500
``mqtt``       a TCP connection to the broker
``zmq``        a TCP connection to ``host:port``
``amqp``       a TCP connection to ``host:port``
=============  ============================================

The checks use the settings the probe was given (``create_app(config)``), never the
global configuration, and keep their own connections, so an exhausted service pool
does not make the probe wait and the probe never takes a connection from a request.

A check is *critical* (its failure answers 503 ``not ready``) unless
``readiness.optional`` names it (``"<kind>:<key>"``, a kind, or ``"credentials"``):
an optional failure answers 200 ``degraded``. The result of a run is kept for
``readiness.cache_seconds`` (1 s) and concurrent probes share one run, so probes
cannot pile up. A check still running from an earlier run is not started again: it
reports ``timeout`` until it returns. The body names a short reason per failed check
(``timeout``, ``unreachable``, ``error``, or ``pending`` for credentials not fetched
yet); the details go to the log, once per change.
"""

import dataclasses
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from envoxy.exceptions import ConfigError
from envoxy.utils.config import as_float
from envoxy.utils.logs import log
from envoxy.views.outages import outage_kind

__all__ = [
    "CHECKS",
    "DEFAULT_CACHE_SECONDS",
    "DEFAULT_CHECK_TIMEOUT",
    "HEALTH_BODY",
    "ReadinessProbe",
    "ReadinessSettings",
]

#: seconds one readiness check may take
DEFAULT_CHECK_TIMEOUT = 1.0
#: seconds a readiness result is reused
DEFAULT_CACHE_SECONDS = 1.0
HEALTH_BODY: dict[str, str] = {"status": "healthy", "service": "envoxy"}

#: ``(key, settings, timeout)`` -> a callable that runs the check, raising on failure
CheckFactory = Callable[[str, Mapping[str, Any], float], Callable[[], None]]


@dataclass(frozen=True, slots=True)
class ReadinessSettings:
    """The ``readiness`` section of ``envoxy.json``.

    :param timeout: seconds each check may take.
    :param cache_seconds: seconds a result is reused (0 runs the checks on every probe).
    :param optional: check names (``"redis:cache"``), kinds (``"couchdb"``) or
        ``"credentials"`` whose failure only degrades the service.
    """

    #: the keys of the ``readiness`` section
    KEYS: ClassVar[frozenset[str]] = frozenset({"timeout", "cache_seconds", "optional"})

    timeout: float = DEFAULT_CHECK_TIMEOUT
    cache_seconds: float = DEFAULT_CACHE_SECONDS
    optional: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, section: Any) -> "ReadinessSettings":
        """Read the ``readiness`` section (absent: the defaults).

        :raises ConfigError: naming the setting for a wrong type or range.
        """
        if section is None or section == {}:
            return cls()
        if not isinstance(section, Mapping):
            raise ConfigError("envoxy.json 'readiness' must be an object, e.g. {\"timeout\": 1}")
        timeout = as_float(section.get("timeout", DEFAULT_CHECK_TIMEOUT), "readiness.timeout")
        if not 0 < timeout <= 30:
            raise ConfigError(f"readiness.timeout must be in (0, 30] seconds, not {timeout}")
        cache_seconds = as_float(
            section.get("cache_seconds", DEFAULT_CACHE_SECONDS), "readiness.cache_seconds"
        )
        if cache_seconds < 0:
            raise ConfigError(f"readiness.cache_seconds must be 0 or more, not {cache_seconds}")
        optional = section.get("optional") or []
        if isinstance(optional, str):
            optional = [optional]
        if not isinstance(optional, list | tuple) or not all(
            isinstance(name, str) for name in optional
        ):
            raise ConfigError(
                'readiness.optional must be a list of check names, e.g. ["couchdb", "redis:cache"]'
            )
        return cls(timeout=timeout, cache_seconds=cache_seconds, optional=frozenset(optional))

    def is_critical(self, name: str) -> bool:
        """Return whether a failure of check ``name`` (``"<kind>:<key>"``) is critical."""
        return name not in self.optional and name.partition(":")[0] not in self.optional


class ReadinessProbe:
    """Run the readiness checks of the configured clients.

    :param clients: check kind -> server key -> server settings.
    :param credentials: returns ``None`` when the credentials are ready, else a short
        reason (``None`` when the service has no ``credentials`` section).
    :param settings: the ``readiness`` settings.
    """

    def __init__(
        self,
        clients: Mapping[str, Mapping[str, Mapping[str, Any]]],
        credentials: Callable[[], str | None] | None = None,
        settings: ReadinessSettings | None = None,
    ) -> None:
        self.settings = settings or ReadinessSettings()
        self.credentials = credentials
        self._checks: dict[str, Callable[[], None]] = {}
        self._factories: dict[str, tuple[CheckFactory, str, Mapping[str, Any]]] = {}
        for kind, servers in clients.items():
            factory = CHECKS.get(kind)
            if factory is not None:
                for key, conf in servers.items():
                    self._factories[f"{kind}:{key}"] = (factory, key, conf)
        self._running: dict[str, Future[float]] = {}
        self._running_lock = threading.Lock()
        self._reported: dict[str, str] = {}
        self._lock = threading.Lock()
        self._result: tuple[float, bool, dict[str, Any]] | None = None

    def run(self) -> tuple[bool, dict[str, Any]]:
        """Return whether the service is ready (no critical check failed) and the body.

        The body is ``{"status": "ready"|"degraded"|"not ready", "checks": {name:
        {"status": "ok"|"error", "reason"?, "latency_ms", "critical"}}}``. A result
        younger than ``cache_seconds`` is returned as is.
        """
        with self._lock:  # one run at a time; the others wait and share its result
            cached = self._result
            now = time.monotonic()
            if cached is not None and now - cached[0] < self.settings.cache_seconds:
                return cached[1], cached[2]
            ready, body = self._run_checks()
            self._result = (time.monotonic(), ready, body)
            return ready, body

    def _run_checks(self) -> tuple[bool, dict[str, Any]]:
        timeout = self.settings.timeout
        checks: dict[str, dict[str, Any]] = {}
        if self.credentials is not None:
            started = time.perf_counter()
            reason = self.credentials()
            checks["credentials"] = self._entry(
                "credentials", reason, time.perf_counter() - started, None
            )
        pending: dict[str, Future[float]] = {}
        for name in self._factories:
            with self._running_lock:
                running = self._running.get(name)
            pending[name] = running if running is not None else self._start(name)
        deadline = time.monotonic() + timeout
        for name, future in pending.items():
            try:
                latency = future.result(max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                checks[name] = self._entry(name, "timeout", timeout, None)
            except Exception as exc:
                checks[name] = self._entry(name, outage_kind(exc), _elapsed(future), exc)
            else:
                checks[name] = self._entry(name, None, latency, None)
        critical_failed = any(c["status"] != "ok" and c["critical"] for c in checks.values())
        degraded = any(c["status"] != "ok" for c in checks.values())
        status = "not ready" if critical_failed else "degraded" if degraded else "ready"
        return not critical_failed, {"status": status, "checks": checks}

    def _start(self, name: str) -> "Future[float]":
        future: Future[float] = Future()
        future.started = time.perf_counter()  # type: ignore[attr-defined]
        with self._running_lock:
            self._running[name] = future

        def run() -> None:
            try:
                check = self._check(name)  # a bad setting fails the check, not the probe
                started = time.perf_counter()
                check()
                future.set_result(time.perf_counter() - started)
            except BaseException as exc:
                future.set_exception(exc)
            finally:
                with self._running_lock:
                    if self._running.get(name) is future:
                        del self._running[name]

        # a daemon thread per check run (at most one per check at a time): a check
        # that hangs past its timeout never holds up the worker's exit
        threading.Thread(target=run, name=f"envoxy-ready-{name}", daemon=True).start()
        return future

    def _check(self, name: str) -> Callable[[], None]:
        check = self._checks.get(name)
        if check is None:
            factory, key, conf = self._factories[name]
            check = self._checks[name] = factory(key, conf, self.settings.timeout)
        return check

    def _entry(
        self, name: str, reason: str | None, seconds: float, error: BaseException | None
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {"status": "ok" if reason is None else "error"}
        if reason is not None:
            entry["reason"] = reason
        entry["latency_ms"] = round(seconds * 1000, 1)
        entry["critical"] = self.settings.is_critical(name)
        state = reason or "ok"
        if self._reported.get(name, "ok") != state:
            self._reported[name] = state
            if reason is None:
                log.info(f"/_ready: {name} is ok again")
            else:
                detail = f": {type(error).__name__}: {error}" if error is not None else ""
                log.warning(f"/_ready: {name} failed ({reason}){detail}")
        return entry


def _elapsed(future: "Future[float]") -> float:
    started = getattr(future, "started", None)
    return time.perf_counter() - started if started is not None else 0.0


# -- checks: each factory builds, once per probe, a callable bounded by ``timeout`` --


def _redis_check(key: str, conf: Mapping[str, Any], timeout: float) -> Callable[[], None]:
    from envoxy.redis.settings import RedisSettings

    settings = dataclasses.replace(
        RedisSettings.from_config(key, conf),
        connect_timeout=timeout,
        socket_timeout=timeout,
        pool_timeout=timeout,
        max_connections=2,
    )
    holder: dict[str, Any] = {}

    def check() -> None:
        client = holder.get("client")
        if client is None:
            client = holder["client"] = settings.create_client()
        client.ping()

    return check


def _postgresql_check(key: str, conf: Mapping[str, Any], timeout: float) -> Callable[[], None]:
    """``SELECT 1`` over a connection of the probe's own.

    ``psql_servers`` entries may name any SQLAlchemy URL (SQLite for a service's
    embedded default); those are checked through a SQLAlchemy engine.
    """
    url = conf.get("url") or conf.get("dsn")
    if url and not str(url).startswith(("postgresql", "postgres:")):
        return _sqlalchemy_check(str(url))
    from envoxy.postgresql.settings import POSTGRES_EXTRA, PostgresSettings
    from envoxy.utils.imports import require

    settings = PostgresSettings.from_config(key, conf)
    kwargs = dict(settings.connect_kwargs)
    kwargs["connect_timeout"] = max(1, math.ceil(timeout))  # libpq takes whole seconds
    milliseconds = max(1, int(timeout * 1000))
    probe = "SELECT 1"
    if settings.pooler:  # a transaction pooler refuses startup options: per transaction
        probe = f"SET LOCAL statement_timeout = {milliseconds}; SELECT 1"
    else:
        options = f"{kwargs.get('options', '')} -c statement_timeout={milliseconds}"
        kwargs["options"] = options.strip()
    holder: dict[str, Any] = {}

    def check() -> None:
        psycopg2 = require("psycopg2", POSTGRES_EXTRA)
        from envoxy.db.postgres.deadline import deadline_connection_class

        conn = holder.get("conn")
        if conn is None or conn.closed or holder.get("pid") != os.getpid():
            # A frozen server fails the check within timeout + 0.5 s instead of hanging it.
            factory = deadline_connection_class(timeout, settings.where)
            conn = holder["conn"] = psycopg2.connect(**kwargs, connection_factory=factory)
            holder["pid"] = os.getpid()
            conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(probe)
                cursor.fetchone()
        except Exception:
            holder.pop("conn", None)
            conn.close()
            raise

    return check


def _sqlalchemy_check(url: str) -> Callable[[], None]:
    # a non-PostgreSQL URL is the ORM's (SQLite for an embedded default): SQLAlchemy
    # comes with envoxy-orm, which envoxy-daemon does not require
    from envoxy.utils.imports import require

    sqlalchemy = require("sqlalchemy", "envoxy-orm")
    holder: dict[str, Any] = {}

    def check() -> None:
        engine = holder.get("engine")
        if engine is None:
            engine = holder["engine"] = sqlalchemy.create_engine(url)
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))

    return check


def _couchdb_check(key: str, conf: Mapping[str, Any], timeout: float) -> Callable[[], None]:
    bind = str(conf.get("bind") or "")
    if not bind:
        raise ConfigError(f"couchdb_servers.{key}.bind is not set")

    def check() -> None:
        import httpx

        answer = httpx.get(bind, timeout=timeout)
        if answer.status_code >= 500:
            raise ConnectionError(f"{answer.status_code} from the server")

    return check


def _mqtt_check(key: str, conf: Mapping[str, Any], timeout: float) -> Callable[[], None]:
    parts = urlsplit(str(conf.get("bind") or ""))
    if not parts.hostname:
        raise ConfigError(f"mqtt_servers.{key}.bind is not a mqtt[s]://host[:port] URL")
    default_port = 8883 if parts.scheme == "mqtts" else 1883
    return _tcp_check(parts.hostname, parts.port or default_port, timeout)


def _host_port_check(default_port: int | None) -> CheckFactory:
    def factory(key: str, conf: Mapping[str, Any], timeout: float) -> Callable[[], None]:
        host = conf.get("host")
        port = conf.get("port") or default_port
        if not host or not port:
            raise ConfigError(f"server {key!r} needs host and port")
        return _tcp_check(str(host), int(port), timeout)

    return factory


def _amqp_check(key: str, conf: Mapping[str, Any], timeout: float) -> Callable[[], None]:
    default = 5671 if conf.get("cert_path") else 5672
    return _host_port_check(default)(key, conf, timeout)


def _tcp_check(host: str, port: int, timeout: float) -> Callable[[], None]:
    def check() -> None:
        with socket.create_connection((host, port), timeout=timeout):
            pass

    return check


#: check kind -> factory ``(key, settings, timeout)`` of the check callable
CHECKS: dict[str, CheckFactory] = {
    "redis": _redis_check,
    "postgresql": _postgresql_check,
    "couchdb": _couchdb_check,
    "mqtt": _mqtt_check,
    "zmq": _host_port_check(None),
    "amqp": _amqp_check,
}
