"""Connection settings of one Redis server, read from an ``envoxy.json`` mapping.

The same keys serve ``redis_servers.<key>`` (``redisc``, and Celery's
``redis_servers.celery``) and the ``cache`` section (``envoxy.cache``): ``bind``
(``host:port``) or ``host``/``port``, ``db``, ``ttl``, ``user``/``passwd``,
``connect_timeout``, ``socket_timeout``, ``max_connections`` and ``pool_timeout``;
and where the key lives when it is not one plain server: ``url``, ``sentinels`` +
``service_name``, ``cluster``, TLS (:mod:`envoxy.redis.topology`). Numbers may be
numeric strings. A timeout set to ``null`` means "no timeout", stated explicitly; a
missing one takes its default.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from envoxy.exceptions import ConfigError
from envoxy.redis.topology import KEYS as TOPOLOGY_KEYS
from envoxy.redis.topology import PLAIN, RedisTopology
from envoxy.utils.conversions import as_int
from envoxy.utils.imports import require
from envoxy.utils.retry import Backoff
from envoxy.utils.settings import host_port, integer, optional_str, timeout

if TYPE_CHECKING:
    import redis

__all__ = [
    "BACKOFF",
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
    "SECTION",
    "RedisSettings",
]

#: The ``envoxy.json`` section holding the Redis server keys.
SECTION = "redis_servers"
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
#: A command that fails to connect is retried this many times, after a pause of
#: :data:`BACKOFF`.
RETRY_ATTEMPTS = 3
#: The pauses between those retries: full jitter under 0.1 s, 0.2 s, 0.4 s (at most 1 s).
BACKOFF = Backoff(base=0.1, cap=1.0)


@dataclass(frozen=True, slots=True)
class RedisSettings:
    """Validated settings of one Redis server.

    :param where: the config location, e.g. ``"redis_servers.cache"``, used in messages.
    Timeouts are seconds, ``None`` meaning no timeout.

    .. versionchanged:: 1.1
       ``from_config(key, conf)``, the one signature of every client (was ``(conf, where)``).
    """

    SECTION: ClassVar[str] = SECTION
    KEYS: ClassVar[frozenset[str]] = frozenset(
        {
            "bind",
            "host",
            "port",
            "db",
            "ttl",
            "user",
            "passwd",
            "connect_timeout",
            "socket_timeout",
            "max_connections",
            "pool_timeout",
            *TOPOLOGY_KEYS,
        }
    )

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
    topology: RedisTopology = PLAIN

    @classmethod
    def from_config(
        cls, key: str, conf: Mapping[str, Any], *, where: str | None = None
    ) -> "RedisSettings":
        """Build the settings of server ``key`` from its ``redis_servers`` object.

        :param where: the location named in messages (``"cache"`` for that section);
            default ``"redis_servers.<key>"``.
        :raises ConfigError: a value has the wrong type or range, naming ``where.<setting>``.
        """
        where = where or f"{SECTION}.{key}"
        if not isinstance(conf, Mapping):
            raise ConfigError(f"{where} must be an object, not {type(conf).__name__}")
        host, port = host_port(conf, where, default_host=DEFAULT_HOST, default_port=DEFAULT_PORT)
        ttl = as_int(conf.get("ttl", DEFAULT_TTL) or 0, f"{where}.ttl")  # null: no expiry
        if ttl < 0:
            raise ConfigError(f"{where}.ttl must be 0 (no expiry) or a positive number of seconds")
        return cls(
            where=where,
            host=host,
            port=port,
            db=integer(conf, "db", DEFAULT_DB, where),
            ttl=ttl,
            user=optional_str(conf, "user", where),
            password=optional_str(conf, "passwd", where),
            connect_timeout=timeout(conf, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, where),
            socket_timeout=timeout(conf, "socket_timeout", DEFAULT_SOCKET_TIMEOUT, where),
            max_connections=integer(
                conf, "max_connections", DEFAULT_MAX_CONNECTIONS, where, minimum=1
            ),
            pool_timeout=timeout(conf, "pool_timeout", DEFAULT_POOL_TIMEOUT, where),
            topology=RedisTopology.from_config(conf, where),
        )

    def create_client(self) -> "redis.Redis":
        """Return a ``redis.Redis`` over a new blocking pool built from these settings.

        Connections are opened on first command. A command whose connection fails is
        retried :data:`RETRY_ATTEMPTS` times after the pauses of :data:`BACKOFF` (full
        jitter, so many workers do not reconnect in step), so a restarted server is
        picked up again without the caller's help.

        :raises MissingDependencyError: redis-py is not installed (``envoxy-dispatch[redis]``).
        """
        redis_module = require("redis", REDIS_EXTRA)
        retry = require("redis.retry", REDIS_EXTRA)
        retry_policy = retry.Retry(
            _RedisBackoff(BACKOFF),
            RETRY_ATTEMPTS,
            supported_errors=(redis_module.ConnectionError,),
        )
        if not self.topology.plain:  # a URL, TLS, Sentinel or a Cluster
            return self.topology.create_client(self, retry_policy)
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
            retry=retry_policy,
        )
        client: redis.Redis = redis_module.Redis(connection_pool=pool)
        return client

    def worst_case(self) -> float:
        """Return the longest one command can block, in seconds (``inf`` without a timeout):
        the wait for a pooled connection, a connect, and the wait for the reply. A
        timeout is never retried; refused or broken connections are, after a pause of
        at most 1 s each."""
        parts = (self.pool_timeout, self.connect_timeout, self.socket_timeout)
        if any(part is None for part in parts):
            return math.inf
        worst = sum(part for part in parts if part is not None) + RETRY_ATTEMPTS * BACKOFF.cap
        # Behind Sentinel a new connection first asks each sentinel in turn.
        discovery = len(self.topology.sentinels) * (self.connect_timeout or 0.0)
        return worst + discovery

    def describe(self) -> str:
        """Return ``where (host:port/db)`` for log lines and messages (no credentials)."""
        if self.topology.plain:
            return f"{self.where} ({self.host}:{self.port}/{self.db})"
        return f"{self.where} ({self.topology.describe(self.host, self.port, self.db)})"


class _RedisBackoff:
    """:data:`BACKOFF` seen through redis-py's backoff interface (``compute``, ``reset``)."""

    __slots__ = ("compute",)

    def __init__(self, backoff: Backoff) -> None:
        self.compute = backoff.delay

    def reset(self) -> None:
        """Nothing to reset: the pauses depend on the failure count alone."""
