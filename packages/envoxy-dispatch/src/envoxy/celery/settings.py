"""Celery settings computed from ``envoxy.json``.

- **Broker**: the first ``amqp_servers`` entry (or the one named, :class:`AmqpSettings`),
  as ``amqp://user:password@host:port/vhost`` with the user, password and vhost
  percent-escaped, or ``amqps://`` verified with ``cert_path`` when it is set;
  otherwise ``redis_servers.celery``. With neither, :class:`ConfigError`.
- **Result backend**: ``redis_servers.celery`` (none without it), read by the
  :class:`~envoxy.redis.settings.RedisSettings` that ``redisc`` reads it with.
- **Redis shapes**: ``redis_servers.celery`` may be a ``url`` (``rediss://`` too), a
  Sentinel set (``sentinels`` + ``service_name``: kombu's and Celery's ``sentinel://``
  with ``master_name``) and use TLS (``broker_use_ssl``/``redis_backend_use_ssl``); a
  Redis Cluster is refused, as neither kombu nor Celery's backend speaks it.
- **Tasks**: ``task_modules``, plus each of ``packages`` and its ``.tasks`` module
  when there is one; ``default_task_queue`` routes ``<module>.*`` to that queue.
- **Beat**: ``mongodb_servers.celery`` gives the celerybeat-mongo settings.
- **Timeouts**: broker and backend connections use ``connect_timeout`` and
  ``socket_timeout`` (5 s by default). Publishing a task (``send_task``) is tried
  :data:`PUBLISH_ATTEMPTS` times at most (a dropped broker connection is re-opened once,
  at once), so a frozen broker fails a call after about ``connect_timeout +
  2 x socket_timeout`` (Celery's default retries 4 times with pauses).
"""

import importlib.util
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote

from envoxy.exceptions import ConfigError
from envoxy.redis.settings import DEFAULT_CONNECT_TIMEOUT, DEFAULT_DB, RedisSettings
from envoxy.redis.topology import TlsFiles
from envoxy.utils.config import Config
from envoxy.utils.settings import integer, optional_str

__all__ = [
    "DEFAULT_AMQPS_PORT",
    "DEFAULT_AMQP_PORT",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_REDIS_DB",
    "DEFAULT_SOCKET_TIMEOUT",
    "MONGODB_KEYS",
    "PUBLISH_ATTEMPTS",
    "TOP_LEVEL_KEYS",
    "AmqpSettings",
    "build_settings",
    "publish_worst_case",
]

DEFAULT_AMQP_PORT = 5672
DEFAULT_AMQPS_PORT = 5671
#: Seconds one broker or backend socket operation may take (as ``redisc``'s default).
DEFAULT_SOCKET_TIMEOUT = 5.0
DEFAULT_REDIS_DB = DEFAULT_DB
#: The keys of ``mongodb_servers.celery`` (the celerybeat-mongo schedule store).
MONGODB_KEYS = frozenset({"host", "port", "user", "passwd", "db"})
#: The top-level keys of ``envoxy.json`` read here.
TOP_LEVEL_KEYS = frozenset(
    {
        "amqp_servers",
        "redis_servers",
        "mongodb_servers",
        "task_modules",
        "packages",
        "default_task_queue",
    }
)
#: Attempts to publish one task message: the first, and one more on a fresh connection.
PUBLISH_ATTEMPTS = 2
#: Celery's ``task_publish_retry_policy``: one retry, at once.
PUBLISH_RETRY_POLICY: dict[str, float] = {
    "max_retries": PUBLISH_ATTEMPTS - 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
_REDIS_KEY = "celery"


def build_settings(server_key: str | None = None) -> dict[str, Any]:
    """Return the Celery settings (lower-case names) for the current ``envoxy.json``.

    :param server_key: the ``amqp_servers`` key of the broker (default: the first).
    :raises ConfigError: when no broker is configured, the named key is unknown, or a
        setting is malformed.
    """
    amqp_servers = Config.get("amqp_servers")
    redis_servers = Config.get("redis_servers")
    redis_conf = redis_servers.get(_REDIS_KEY) if isinstance(redis_servers, Mapping) else None
    settings: dict[str, Any] = {
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": DEFAULT_CONNECT_TIMEOUT,
        "task_publish_retry_policy": dict(PUBLISH_RETRY_POLICY),
    }
    if amqp_servers or server_key is not None:
        key = server_key or next(iter(amqp_servers))
        settings.update(_amqp_broker(key, Config.server("amqp_servers", key)))
    elif isinstance(redis_conf, Mapping):
        settings.update(_redis_broker(redis_conf))
    else:
        raise ConfigError(
            "celeryc needs a broker: add an amqp_servers entry or redis_servers.celery "
            "to envoxy.json"
        )
    if isinstance(redis_conf, Mapping):
        settings.update(_redis_backend(redis_conf))
    settings.update(_beat_settings())
    settings.update(_task_settings())
    return settings


def publish_worst_case(conf: Mapping[str, Any]) -> float:
    """Return the longest ``send_task`` can block on the Redis broker ``conf``
    (``redis_servers.celery``): a connect and :data:`PUBLISH_ATTEMPTS` socket waits
    (``inf`` when a timeout is ``null``).

    :raises ConfigError: a setting is malformed.
    """
    redis = RedisSettings.from_config(_REDIS_KEY, conf)
    if redis.connect_timeout is None or redis.socket_timeout is None:
        return math.inf
    return redis.connect_timeout + PUBLISH_ATTEMPTS * redis.socket_timeout


@dataclass(frozen=True, slots=True)
class AmqpSettings:
    """The settings of one ``amqp_servers`` key: the Celery broker.

    ``cert_path`` switches to ``amqps`` (port 5671 by default), verifying the broker
    with that CA bundle.
    """

    SECTION: ClassVar[str] = "amqp_servers"
    KEYS: ClassVar[frozenset[str]] = frozenset(
        {"host", "port", "user", "passwd", "vhost", "cert_path"}
    )

    where: str
    host: str
    port: int
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    vhost: str = "/"
    cert_path: str | None = None

    @classmethod
    def from_config(
        cls, key: str, conf: Mapping[str, Any], *, where: str | None = None
    ) -> "AmqpSettings":
        """Read one ``amqp_servers.<key>`` entry.

        :raises ConfigError: ``host`` is missing or ``port`` is not an integer.
        """
        where = where or f"{cls.SECTION}.{key}"
        if not conf.get("host"):
            raise ConfigError(f"{where}.host is required")
        cert_path = optional_str(conf, "cert_path", where)
        default_port = DEFAULT_AMQPS_PORT if cert_path else DEFAULT_AMQP_PORT
        return cls(
            where=where,
            host=str(conf["host"]),
            port=integer(conf, "port", default_port, where),
            user=optional_str(conf, "user", where),
            password=optional_str(conf, "passwd", where),
            vhost=optional_str(conf, "vhost", where) or "/",
            cert_path=cert_path,
        )

    def broker_settings(self) -> dict[str, Any]:
        """Return Celery's ``broker_url`` (and ``broker_use_ssl`` with ``cert_path``)."""
        scheme = "amqps" if self.cert_path else "amqp"
        userinfo = _userinfo(self.user, self.password)
        url = f"{scheme}://{userinfo}{self.host}:{self.port}/{quote(self.vhost, safe='')}"
        settings: dict[str, Any] = {"broker_url": url}
        if self.cert_path:
            import ssl

            settings["broker_use_ssl"] = {
                "ca_certs": self.cert_path,
                "cert_reqs": ssl.CERT_REQUIRED,
            }
        return settings


def _amqp_broker(key: str, conf: Mapping[str, Any]) -> dict[str, Any]:
    return AmqpSettings.from_config(key, conf).broker_settings()


def _redis_url(redis: RedisSettings) -> str:
    host = f"[{redis.host}]" if ":" in redis.host else redis.host
    return f"redis://{_userinfo(redis.user, redis.password)}{host}:{redis.port}/{redis.db}"


def _redis_broker(conf: Mapping[str, Any]) -> dict[str, Any]:
    redis = RedisSettings.from_config(_REDIS_KEY, conf)
    url, options, ssl_options = _redis_connection(redis)
    settings: dict[str, Any] = {
        "broker_url": url,
        "broker_connection_timeout": redis.connect_timeout,
        "broker_transport_options": {
            "socket_timeout": redis.socket_timeout,
            "socket_connect_timeout": redis.connect_timeout,
            **options,
        },
    }
    if ssl_options:
        settings["broker_use_ssl"] = ssl_options
    return settings


def _redis_backend(conf: Mapping[str, Any]) -> dict[str, Any]:
    redis = RedisSettings.from_config(_REDIS_KEY, conf)
    url, options, ssl_options = _redis_connection(redis)
    settings: dict[str, Any] = {
        "result_backend": url,
        "redis_socket_timeout": redis.socket_timeout,
        "redis_socket_connect_timeout": redis.connect_timeout,
    }
    if options:
        settings["result_backend_transport_options"] = options
    if ssl_options:
        settings["redis_backend_use_ssl"] = ssl_options
    return settings


def _redis_connection(redis: RedisSettings) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """Return the URL, the transport options and the SSL options of ``redis_servers.celery``
    for kombu and Celery's Redis backend (see the module doc).

    :raises ConfigError: a Redis Cluster.
    """
    topology = redis.topology
    if topology.kind == "cluster":
        raise ConfigError(
            f"{redis.where}: Celery's Redis broker and result backend do not speak Redis "
            "Cluster; point it at a Sentinel set (sentinels + service_name) or a single server"
        )
    ssl_options = _ssl_options(topology.tls) if topology.tls is not None else None
    if topology.kind == "url":
        assert topology.url is not None
        return topology.url, {}, ssl_options
    if topology.kind == "sentinel":
        userinfo = _userinfo(redis.user, redis.password)
        url = ";".join(
            f"sentinel://{userinfo}{_host(host)}:{port}/{redis.db}"
            for host, port in topology.sentinels
        )
        sentinel_kwargs: dict[str, Any] = {
            "socket_timeout": redis.socket_timeout,
            "socket_connect_timeout": redis.connect_timeout,
        }
        if topology.sentinel_password:
            sentinel_kwargs["password"] = topology.sentinel_password
        options = {"master_name": topology.service_name, "sentinel_kwargs": sentinel_kwargs}
        return url, options, ssl_options
    url = _redis_url(redis)
    if ssl_options:
        url = "rediss" + url[len("redis") :]
    return url, {}, ssl_options


def _ssl_options(tls: TlsFiles) -> dict[str, Any]:
    import ssl

    options: dict[str, Any] = {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    if tls.ca_cert:
        options["ssl_ca_certs"] = tls.ca_cert
    if tls.client_cert:
        options["ssl_certfile"] = tls.client_cert
        options["ssl_keyfile"] = tls.client_key
    return options


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _beat_settings() -> dict[str, Any]:
    mongodb_servers = Config.get("mongodb_servers")
    conf = mongodb_servers.get("celery") if isinstance(mongodb_servers, Mapping) else None
    if not isinstance(conf, Mapping):
        return {}
    host, port, db = conf.get("host"), conf.get("port"), conf.get("db")
    address = f"{host}:{port}" if port else f"{host}"
    userinfo = _userinfo(conf.get("user"), conf.get("passwd"))
    return {
        "mongodb_scheduler_db": db,
        "mongodb_scheduler_url": f"mongodb://{userinfo}{address}/{db or ''}",
    }


def _task_settings() -> dict[str, Any]:
    include = [str(name) for name in _as_list(Config.get("task_modules"), "task_modules")]
    for package in _as_list(Config.get("packages"), "packages"):
        include.append(str(package))
        tasks_module = f"{package}.tasks"
        if _module_exists(tasks_module):
            include.append(tasks_module)
    settings: dict[str, Any] = {"include": list(dict.fromkeys(include))}
    queue = Config.get("default_task_queue")
    if queue:
        settings["task_routes"] = {f"{module}.*": {"queue": str(queue)} for module in include}
    return settings


def _as_list(value: Any, name: str) -> list[Any]:
    if not value:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ConfigError(f"{name} must be a list of module names, got {value!r}")
    return list(value)


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def _userinfo(user: Any, password: Any) -> str:
    if not user and not password:
        return ""
    escaped_user = quote(str(user or ""), safe="")
    if password is None:
        return f"{escaped_user}@"
    return f"{escaped_user}:{quote(str(password), safe='')}@"
