"""Where one Redis key lives: a server, a URL, a Sentinel set or a Cluster, with or without TLS.

The same keys serve ``redis_servers.<key>`` (``redisc``, and Celery's
``redis_servers.celery``) and the ``cache`` section::

    {"url": "rediss://:pw@redis.internal:6380/0", "ca_cert": "/etc/ssl/redis-ca.pem",
     "client_cert": "/etc/ssl/app.pem", "client_key": "/etc/ssl/app.key"}
    {"sentinels": ["s1:26379", "s2:26379", "s3:26379"], "service_name": "main", "passwd": "pw"}
    {"cluster": true, "bind": "node-a:6379", "passwd": "pw"}

- ``url``: ``redis://``, ``rediss://`` (TLS) or ``unix://``; it names the host, port,
  database and credentials (the other keys of the entry give timeouts and pool sizes).
- ``sentinels`` (a list of ``host:port``, or one comma-separated string) and
  ``service_name``: the master is asked from the sentinels and followed through
  failovers (:mod:`envoxy.redis.sentinel`). ``sentinel_passwd`` when the sentinels
  themselves require a password (``user``/``passwd`` are the Redis servers').
- ``cluster: true``: a Redis Cluster, found from the ``bind``/``host``/``port`` (or
  ``url``) node; keys are routed to their slot, multi-key commands must share a hash tag
  (``{user:1}:a``). A cluster has only database 0.
- TLS: ``rediss://``, or ``tls: true`` with the other shapes; ``ca_cert`` (the CA to
  trust, default the system's), ``client_cert`` and ``client_key`` (mutual TLS). The
  server's name is checked against its certificate.

Built with redis-py's own ``from_url``, :class:`redis.sentinel.Sentinel` and
:class:`redis.cluster.RedisCluster`. Importing this module imports no redis-py.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envoxy.exceptions import ConfigError
from envoxy.utils.conversions import as_bool, as_int
from envoxy.utils.imports import require

if TYPE_CHECKING:
    import redis

    from envoxy.redis.settings import RedisSettings

__all__ = ["KEYS", "PLAIN", "RedisTopology", "TlsFiles", "close_client"]

#: The ``envoxy.json`` keys this module reads.
KEYS = frozenset(
    {
        "url",
        "sentinels",
        "service_name",
        "sentinel_passwd",
        "cluster",
        "tls",
        "ca_cert",
        "client_cert",
        "client_key",
    }
)
_REDIS_EXTRA = "envoxy-dispatch[redis]"
_URL_SCHEMES = ("redis://", "rediss://", "unix://")
DEFAULT_SENTINEL_PORT = 26379


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """TLS of a key: the CA to trust (None: the system's) and a client certificate."""

    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None

    def kwargs(self) -> dict[str, Any]:
        """redis-py's ``ssl_*`` connection arguments (certificates required and checked)."""
        arguments: dict[str, Any] = {"ssl_cert_reqs": "required"}
        if self.ca_cert:
            arguments["ssl_ca_certs"] = self.ca_cert
        if self.client_cert:
            arguments["ssl_certfile"] = self.client_cert
            arguments["ssl_keyfile"] = self.client_key
        return arguments


@dataclass(frozen=True, slots=True)
class RedisTopology:
    """The shape of one key: ``server`` (host/port), ``url``, ``sentinel`` or ``cluster``.

    :param kind: which of the four.
    :param url: the ``url`` setting, when given.
    :param sentinels: ``(host, port)`` of each sentinel (``sentinel`` only).
    :param service_name: the master's name at the sentinels.
    :param sentinel_password: the sentinels' own password, if they require one.
    :param tls: the TLS files, None for plain TCP.
    """

    kind: str = "server"
    url: str | None = None
    sentinels: tuple[tuple[str, int], ...] = ()
    service_name: str | None = None
    sentinel_password: str | None = None
    tls: TlsFiles | None = None

    @classmethod
    def from_config(cls, conf: Mapping[str, Any], where: str) -> "RedisTopology":
        """Read the shape of ``conf`` (see the module doc).

        :raises ConfigError: keys that do not go together, a missing ``service_name``,
            a malformed ``url`` or sentinel address, or a client certificate without its key.
        """
        url = _optional_text(conf, "url", where)
        if url is not None and not url.startswith(_URL_SCHEMES):
            raise ConfigError(
                f"{where}.url must start with redis://, rediss:// or unix://, not "
                f"{url.split('://', 1)[0]!r}://"
            )
        cluster = as_bool(conf.get("cluster", False), f"{where}.cluster")
        given_sentinels = conf.get("sentinels")
        tls = _tls(conf, where, url)
        if given_sentinels:
            if url is not None or cluster:
                raise ConfigError(
                    f"{where}: sentinels go alone; drop url/cluster (the sentinels name the master)"
                )
            service_name = _optional_text(conf, "service_name", where)
            if not service_name:
                raise ConfigError(
                    f"{where}.service_name is required with sentinels: the master's name in "
                    "the sentinels' configuration (sentinel monitor <name> ...)"
                )
            return cls(
                kind="sentinel",
                sentinels=_addresses(given_sentinels, f"{where}.sentinels"),
                service_name=service_name,
                sentinel_password=_optional_text(conf, "sentinel_passwd", where),
                tls=tls,
            )
        if conf.get("service_name"):
            raise ConfigError(f"{where}.service_name needs sentinels (a list of 'host:port')")
        if cluster:
            db = conf.get("db")
            if db is not None and as_int(db, f"{where}.db") != 0:
                raise ConfigError(
                    f"{where}.db must be 0 (or absent) with cluster: a cluster has db 0 only"
                )
            return cls(kind="cluster", url=url, tls=tls)
        if url is not None:
            if tls is not None and not url.startswith("rediss://"):
                raise ConfigError(
                    f"{where}.url: TLS needs a rediss:// URL, not {url.split(':', 1)[0]}://"
                )
            return cls(kind="url", url=url, tls=tls)
        return cls(tls=tls)

    @property
    def plain(self) -> bool:
        """One server from host/port without TLS: the pool of :class:`RedisSettings`."""
        return self.kind == "server" and self.tls is None

    def describe(self, host: str, port: int, db: int) -> str:
        """Say where the key lives, for log lines and messages (no credentials)."""
        if self.kind == "sentinel":
            sentinels = ",".join(f"{host}:{port}" for host, port in self.sentinels)
            return f"sentinel {self.service_name} via {sentinels}"
        if self.url is not None:
            place = _url_without_credentials(self.url)
            return f"cluster via {place}" if self.kind == "cluster" else place
        scheme = "rediss" if self.tls else "redis"
        if self.kind == "cluster":
            return f"cluster via {scheme}://{host}:{port}"
        return f"{scheme}://{host}:{port}/{db}"

    def create_client(self, settings: "RedisSettings", retry: Any) -> "redis.Redis":
        """Return the client of this shape with the pool bounds and timeouts of ``settings``.

        ``retry`` is the redis-py ``Retry`` of the key. The return type is
        ``redis.Redis`` or ``redis.cluster.RedisCluster`` (same commands).

        :raises MissingDependencyError: redis-py is not installed.
        """
        redis_module = require("redis", _REDIS_EXTRA)
        common: dict[str, Any] = {
            "username": settings.user,
            "password": settings.password,
            "socket_connect_timeout": settings.connect_timeout,
            "socket_timeout": settings.socket_timeout,
            "socket_keepalive": True,
            "retry": retry,
        }
        pool_bounds = {
            "max_connections": settings.max_connections,
            "timeout": settings.pool_timeout,
        }
        tls = self.tls.kwargs() if self.tls is not None else {}
        if self.kind == "sentinel":
            return self._sentinel_client(settings, common, pool_bounds, tls)
        if self.kind == "cluster":
            return self._cluster_client(settings, common, pool_bounds, tls)
        if self.kind == "url":
            assert self.url is not None
            # The URL's host, port, db and credentials; the entry's timeouts and bounds.
            del common["username"], common["password"]
            pool = redis_module.BlockingConnectionPool.from_url(
                self.url, **common, **pool_bounds, **(tls if self.url.startswith("rediss") else {})
            )
        else:
            connection_class = redis_module.SSLConnection if tls else redis_module.Connection
            pool = redis_module.BlockingConnectionPool(
                host=settings.host,
                port=settings.port,
                db=settings.db,
                connection_class=connection_class,
                **common,
                **pool_bounds,
                **tls,
            )
        client: redis.Redis = redis_module.Redis(connection_pool=pool)
        return client

    def _sentinel_client(
        self,
        settings: "RedisSettings",
        common: dict[str, Any],
        pool_bounds: dict[str, Any],
        tls: dict[str, Any],
    ) -> "redis.Redis":
        sentinel_module = require("redis.sentinel", _REDIS_EXTRA)
        from envoxy.redis.sentinel import BlockingSentinelPool

        sentinel_kwargs: dict[str, Any] = {
            "socket_connect_timeout": settings.connect_timeout,
            "socket_timeout": settings.socket_timeout,
        }
        if self.sentinel_password:
            sentinel_kwargs["password"] = self.sentinel_password
        sentinel = sentinel_module.Sentinel(list(self.sentinels), sentinel_kwargs=sentinel_kwargs)
        client: redis.Redis = sentinel.master_for(
            self.service_name,
            connection_pool_class=BlockingSentinelPool,
            db=settings.db,
            ssl=bool(tls),
            **common,
            **pool_bounds,
            **tls,
        )
        return client

    def _cluster_client(
        self,
        settings: "RedisSettings",
        common: dict[str, Any],
        pool_bounds: dict[str, Any],
        tls: dict[str, Any],
    ) -> "redis.Redis":
        redis_module = require("redis", _REDIS_EXTRA)
        cluster_module = require("redis.cluster", _REDIS_EXTRA)
        options: dict[str, Any] = {
            **common,
            **pool_bounds,
            "connection_pool_class": redis_module.BlockingConnectionPool,
        }
        if tls:
            options.update(ssl=True, **tls)
        # RedisCluster learns the slots from a node at once: an unreachable cluster fails
        # here, as a connection error of the call that built the client.
        try:
            if self.url is not None:
                del options["username"], options["password"]
                cluster = cluster_module.RedisCluster.from_url(self.url, **options)
            else:
                cluster = cluster_module.RedisCluster(
                    host=settings.host, port=settings.port, **options
                )
        except Exception as exc:
            from envoxy.redis.exceptions import translate_redis_error

            error = translate_redis_error(exc, f"{settings.where}: connecting to the cluster")
            if error is exc:
                raise
            raise error from exc
        client: redis.Redis = cluster
        return client


#: One server from host/port, without TLS.
PLAIN = RedisTopology()


def close_client(client: Any) -> None:
    """Close a client of any shape: every connection, and a Sentinel pool's watch thread."""
    pool = getattr(client, "connection_pool", None)  # a RedisCluster has one per node
    client.close()
    if pool is None:
        return
    close = getattr(pool, "close", None)  # a Sentinel pool's stops its watch
    if callable(close):
        close()
    else:
        pool.disconnect()


def _tls(conf: Mapping[str, Any], where: str, url: str | None) -> TlsFiles | None:
    wanted = as_bool(conf.get("tls", False), f"{where}.tls") or bool(
        url and url.startswith("rediss://")
    )
    files = {
        name: _optional_text(conf, name, where) for name in ("ca_cert", "client_cert", "client_key")
    }
    if not wanted:
        given = [name for name, value in files.items() if value]
        if given:
            raise ConfigError(
                f"{where}: {', '.join(given)} given without TLS; use a rediss:// url or tls: true"
            )
        return None
    if bool(files["client_cert"]) != bool(files["client_key"]):
        raise ConfigError(f"{where}: client_cert and client_key go together (mutual TLS)")
    return TlsFiles(**files)


def _addresses(given: Any, where: str) -> tuple[tuple[str, int], ...]:
    entries: Sequence[Any] = given.split(",") if isinstance(given, str) else given
    if not isinstance(entries, list | tuple) or not entries:
        raise ConfigError(f"{where} must be a non-empty list of 'host:port' strings")
    addresses = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, str) or not entry.strip():
            raise ConfigError(f"{where}[{index}] must be a 'host:port' string, not {entry!r}")
        host, separator, port = entry.strip().rpartition(":")
        if not separator:
            host, port = entry.strip(), str(DEFAULT_SENTINEL_PORT)
        addresses.append((host.strip("[]"), as_int(port, f"{where}[{index}] port")))
    return tuple(addresses)


def _optional_text(conf: Mapping[str, Any], name: str, where: str) -> str | None:
    value = conf.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{name} must be a string, not {type(value).__name__}")
    return value


def _url_without_credentials(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2].partition('?')[0]}"
