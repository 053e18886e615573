"""Connection settings of one Redis server, read from an ``envoxy.json`` mapping.

The same keys serve ``redis_servers.<key>`` (``redisc``) and the ``cache`` section
(``envoxy.cache``): ``bind`` (``host:port``) or ``host``/``port``, ``db``, ``ttl``,
``user``/``passwd``, ``connect_timeout``, ``socket_timeout``, ``max_connections`` and
``pool_timeout``. Numbers may be numeric strings. A timeout set to ``null`` means
"no timeout", stated explicitly; a missing one takes its default.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envoxy.exceptions import ConfigError
from envoxy.utils.config import as_float, as_int
from envoxy.utils.imports import require

if TYPE_CHECKING:
    import redis

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_DB",
    "DEFAULT_HOST",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_POOL_TIMEOUT",
    "DEFAULT_PORT",
    "DEFAULT_SOCKET_TIMEOUT",
    "DEFAULT_TTL",
    "REDIS_EXTRA",
    "RETRY_ATTEMPTS",
    "RedisSettings",
]

#: What to install when redis-py is missing.
REDIS_EXTRA = "envoxy-dispatch[redis]"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 6379
DEFAULT_DB = 1
#: Seconds a value lives when ``set`` gets no ``ttl``; 0 means no expiry.
DEFAULT_TTL = 3600
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_SOCKET_TIMEOUT = 5.0
DEFAULT_MAX_CONNECTIONS = 50
#: Seconds to wait for a free pooled connection when all ``max_connections`` are busy.
DEFAULT_POOL_TIMEOUT = 5.0
#: A command that fails to connect is retried this many times, with a capped backoff.
RETRY_ATTEMPTS = 3
_BACKOFF_BASE = 0.05
_BACKOFF_CAP = 1.0


@dataclass(frozen=True, slots=True)
class RedisSettings:
    """Validated settings of one Redis server.

    :param where: the config location, e.g. ``"redis_servers.cache"``, used in messages.
    Timeouts are seconds, ``None`` meaning no timeout.
    """

    where: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    db: int = DEFAULT_DB
    ttl: int = DEFAULT_TTL
    user: str | None = None
    password: str | None = None
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT
    socket_timeout: float | None = DEFAULT_SOCKET_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    pool_timeout: float | None = DEFAULT_POOL_TIMEOUT

    @classmethod
    def from_config(cls, conf: Mapping[str, Any], where: str) -> "RedisSettings":
        """Build settings from a config mapping.

        :param conf: the ``redis_servers.<key>`` (or ``cache``) object.
        :param where: its location, named in error messages.
        :raises ConfigError: a value has the wrong type or range, naming ``where.<setting>``.
        """
        if not isinstance(conf, Mapping):
            raise ConfigError(f"{where} must be an object, not {type(conf).__name__}")
        host, port = _host_and_port(conf, where)
        ttl = as_int(conf.get("ttl", DEFAULT_TTL) or 0, f"{where}.ttl")
        if ttl < 0:
            raise ConfigError(f"{where}.ttl must be 0 (no expiry) or a positive number of seconds")
        max_connections = as_int(
            conf.get("max_connections", DEFAULT_MAX_CONNECTIONS), f"{where}.max_connections"
        )
        if max_connections < 1:
            raise ConfigError(f"{where}.max_connections must be at least 1")
        return cls(
            where=where,
            host=host,
            port=port,
            db=as_int(conf.get("db", DEFAULT_DB), f"{where}.db"),
            ttl=ttl,
            user=_optional_str(conf, "user", where),
            password=_optional_str(conf, "passwd", where),
            connect_timeout=_timeout(conf, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, where),
            socket_timeout=_timeout(conf, "socket_timeout", DEFAULT_SOCKET_TIMEOUT, where),
            max_connections=max_connections,
            pool_timeout=_timeout(conf, "pool_timeout", DEFAULT_POOL_TIMEOUT, where),
        )

    def create_client(self) -> "redis.Redis":
        """Return a ``redis.Redis`` over a new blocking pool built from these settings.

        Connections are opened on first command. A command whose connection fails is
        retried :data:`RETRY_ATTEMPTS` times with an exponential backoff capped at 1 s,
        so a restarted server is picked up again without the caller's help.

        :raises MissingDependencyError: redis-py is not installed (``envoxy-dispatch[redis]``).
        """
        redis_module = require("redis", REDIS_EXTRA)
        backoff = require("redis.backoff", REDIS_EXTRA)
        retry = require("redis.retry", REDIS_EXTRA)
        pool = redis_module.BlockingConnectionPool(
            max_connections=self.max_connections,
            timeout=self.pool_timeout,
            host=self.host,
            port=self.port,
            db=self.db,
            username=self.user,
            password=self.password,
            socket_connect_timeout=self.connect_timeout,
            socket_timeout=self.socket_timeout,
            socket_keepalive=True,
            retry=retry.Retry(
                backoff.ExponentialBackoff(cap=_BACKOFF_CAP, base=_BACKOFF_BASE),
                RETRY_ATTEMPTS,
                supported_errors=(redis_module.ConnectionError,),
            ),
        )
        client: redis.Redis = redis_module.Redis(connection_pool=pool)
        return client

    def worst_case(self) -> float:
        """Return the longest one command can block, in seconds (``inf`` without a timeout):
        the wait for a pooled connection, a connect, and the wait for the reply. A
        timeout is never retried; refused or broken connections are, at once or after a
        pause of at most 1 s each."""
        parts = (self.pool_timeout, self.connect_timeout, self.socket_timeout)
        if any(part is None for part in parts):
            return math.inf
        return sum(part for part in parts if part is not None) + RETRY_ATTEMPTS * _BACKOFF_CAP

    def describe(self) -> str:
        """Return ``where (host:port/db)`` for log lines and messages (no credentials)."""
        return f"{self.where} ({self.host}:{self.port}/{self.db})"


def _host_and_port(conf: Mapping[str, Any], where: str) -> tuple[str, int]:
    bind = conf.get("bind")
    if bind:
        if not isinstance(bind, str):
            raise ConfigError(f"{where}.bind must be a 'host:port' string, not {bind!r}")
        host, separator, port = bind.rpartition(":")
        if not separator or not host:
            # A bare host name: the port comes from "port" or the default.
            host, port = bind, conf.get("port", DEFAULT_PORT)
        return host.strip("[]"), as_int(port, f"{where}.bind port")
    host = conf.get("host") or DEFAULT_HOST
    return str(host), as_int(conf.get("port", DEFAULT_PORT), f"{where}.port")


def _optional_str(conf: Mapping[str, Any], name: str, where: str) -> str | None:
    value = conf.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{name} must be a string")
    return value


def _timeout(conf: Mapping[str, Any], name: str, default: float, where: str) -> float | None:
    if name not in conf:
        return default
    value = conf[name]
    if value is None:
        return None
    seconds = as_float(value, f"{where}.{name}")
    if seconds <= 0:
        raise ConfigError(
            f"{where}.{name} must be a positive number of seconds, or null for no timeout"
        )
    return seconds
