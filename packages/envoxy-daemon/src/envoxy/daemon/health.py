"""``/_health`` (liveness) and ``/_ready`` (readiness).

Readiness checks every configured client and the credentials concurrently, each
within :data:`CHECK_TIMEOUT` seconds:

=============  ============================================
kind           check
=============  ============================================
``redis``      ``redisc.client(key).ping()``
``postgresql`` ``pgsqlc.query(key, "SELECT 1")``
``couchdb``    ``GET <bind>`` answers below 500
``mqtt``       a TCP connection to the broker
``zmq``        a TCP connection to ``host:port``
``amqp``       a TCP connection to ``host:port``
=============  ============================================
"""

import socket
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any
from urllib.parse import urlsplit

__all__ = ["CHECKS", "CHECK_TIMEOUT", "HEALTH_BODY", "ReadinessProbe"]

#: seconds one readiness check may take
CHECK_TIMEOUT = 2.0
HEALTH_BODY: dict[str, str] = {"status": "healthy", "service": "envoxy"}

Check = Callable[[str, Mapping[str, Any]], None]


class ReadinessProbe:
    """Run the readiness checks of the configured clients.

    :param clients: check kind -> server key -> server settings.
    :param credentials: returns ``None`` when the credentials are ready, else the reason
        (``None`` when the service has no ``credentials`` section).
    :param timeout: seconds allowed to each check.
    """

    def __init__(
        self,
        clients: Mapping[str, Mapping[str, Mapping[str, Any]]],
        credentials: Callable[[], str | None] | None = None,
        timeout: float = CHECK_TIMEOUT,
    ) -> None:
        self.clients = clients
        self.credentials = credentials
        self.timeout = timeout
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def run(self) -> tuple[bool, dict[str, str]]:
        """Run every check; return whether all passed and ``"<kind>:<key>" -> "ok"|"error: …"``."""
        results: dict[str, str] = {}
        if self.credentials is not None:
            reason = self.credentials()
            results["credentials"] = "ok" if reason is None else f"error: {reason}"
        futures: dict[str, Future[None]] = {}
        executor = self._pool()
        for kind, servers in self.clients.items():
            check = CHECKS.get(kind)
            if check is None:
                continue
            for key, conf in servers.items():
                futures[f"{kind}:{key}"] = executor.submit(check, key, conf)
        if futures:
            wait(futures.values(), timeout=self.timeout)
        for name, future in futures.items():
            if not future.done():
                results[name] = f"error: no answer within {self.timeout:g} s"
                continue
            error = future.exception()
            results[name] = "ok" if error is None else f"error: {_reason(error)}"
        return all(value == "ok" for value in results.values()), results

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=8, thread_name_prefix="envoxy-ready"
                )
            return self._executor


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _tcp_connect(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=CHECK_TIMEOUT):
        pass


def _check_redis(key: str, conf: Mapping[str, Any]) -> None:
    from envoxy.redis import redisc

    redisc.client(key).ping()


def _check_postgresql(key: str, conf: Mapping[str, Any]) -> None:
    """``SELECT 1`` through pgsqlc, or through the ORM engine for another database.

    ``psql_servers`` entries may name any SQLAlchemy URL (SQLite for a service's
    embedded default); pgsqlc speaks PostgreSQL only, the ORM session manager any.
    """
    url = conf.get("url") or conf.get("dsn")
    if url and not str(url).startswith(("postgresql", "postgres:")):
        from sqlalchemy import text

        from envoxy.db.orm.session import get_manager

        with get_manager(key).engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return
    from envoxy.postgresql import pgsqlc

    pgsqlc.query(key, "SELECT 1")


def _check_couchdb(key: str, conf: Mapping[str, Any]) -> None:
    import httpx

    bind = str(conf.get("bind") or "")
    if not bind:
        raise ValueError(f"couchdb_servers.{key}.bind is not set")
    answer = httpx.get(bind, timeout=CHECK_TIMEOUT)
    if answer.status_code >= 500:
        raise ConnectionError(f"{answer.status_code} from the server")


def _check_mqtt(key: str, conf: Mapping[str, Any]) -> None:
    parts = urlsplit(str(conf.get("bind") or ""))
    if not parts.hostname:
        raise ValueError(f"mqtt_servers.{key}.bind is not a mqtt[s]://host[:port] URL")
    default_port = 8883 if parts.scheme == "mqtts" else 1883
    _tcp_connect(parts.hostname, parts.port or default_port)


def _check_host_port(default_port: int | None) -> Check:
    def check(key: str, conf: Mapping[str, Any]) -> None:
        host = conf.get("host")
        port = conf.get("port") or default_port
        if not host or not port:
            raise ValueError(f"server {key!r} needs host and port")
        _tcp_connect(str(host), int(port))

    return check


def _check_amqp(key: str, conf: Mapping[str, Any]) -> None:
    default = 5671 if conf.get("cert_path") else 5672
    _check_host_port(default)(key, conf)


#: check kind -> check function ``(key, settings)`` raising on failure
CHECKS: dict[str, Check] = {
    "redis": _check_redis,
    "postgresql": _check_postgresql,
    "couchdb": _check_couchdb,
    "mqtt": _check_mqtt,
    "zmq": _check_host_port(None),
    "amqp": _check_amqp,
}
