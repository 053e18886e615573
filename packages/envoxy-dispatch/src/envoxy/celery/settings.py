"""Celery settings computed from ``envoxy.json``.

- **Broker**: the first ``amqp_servers`` entry (or the one named), as
  ``amqp://user:password@host:port/vhost`` with the user, password and vhost
  percent-escaped, or ``amqps://`` verified with ``cert_path`` when it is set;
  otherwise ``redis_servers.celery``. With neither, :class:`ConfigError`.
- **Result backend**: ``redis_servers.celery`` (none without it).
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
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from envoxy.exceptions import ConfigError
from envoxy.utils.config import Config, as_float, as_int

__all__ = [
    "DEFAULT_AMQPS_PORT",
    "DEFAULT_AMQP_PORT",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_REDIS_DB",
    "DEFAULT_SOCKET_TIMEOUT",
    "PUBLISH_ATTEMPTS",
    "build_settings",
    "publish_worst_case",
]

DEFAULT_AMQP_PORT = 5672
DEFAULT_AMQPS_PORT = 5671
#: Seconds to open a broker or backend connection.
DEFAULT_CONNECT_TIMEOUT = 5.0
#: Seconds one broker or backend socket operation may take.
DEFAULT_SOCKET_TIMEOUT = 5.0
DEFAULT_REDIS_DB = 1
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
    (``redis_servers.celery``): a connect and :data:`PUBLISH_ATTEMPTS` socket waits.

    :raises ConfigError: a timeout is malformed.
    """
    connect, socket = _redis_timeouts(conf)
    return connect + PUBLISH_ATTEMPTS * socket


def _amqp_broker(key: str, conf: Mapping[str, Any]) -> dict[str, Any]:
    where = f"amqp_servers.{key}"
    host = conf.get("host")
    if not host:
        raise ConfigError(f"{where}.host is required")
    cert_path = conf.get("cert_path") or None
    scheme = "amqps" if cert_path else "amqp"
    default_port = DEFAULT_AMQPS_PORT if cert_path else DEFAULT_AMQP_PORT
    port = as_int(conf.get("port", default_port), f"{where}.port")
    vhost = quote(str(conf.get("vhost") or "/"), safe="")
    url = f"{scheme}://{_userinfo(conf)}{host}:{port}/{vhost}"
    settings: dict[str, Any] = {"broker_url": url}
    if cert_path:
        import ssl

        settings["broker_use_ssl"] = {"ca_certs": str(cert_path), "cert_reqs": ssl.CERT_REQUIRED}
    return settings


def _redis_url(conf: Mapping[str, Any]) -> str:
    where = f"redis_servers.{_REDIS_KEY}"
    bind = conf.get("bind")
    if bind:
        host, _, port_text = str(bind).rpartition(":")
        if not host:
            host, port_text = port_text, "6379"
    else:
        host, port_text = str(conf.get("host", "127.0.0.1")), str(conf.get("port", 6379))
    port = as_int(port_text, f"{where}.port")
    db = as_int(conf.get("db", DEFAULT_REDIS_DB), f"{where}.db")
    return f"redis://{_userinfo(conf)}{host}:{port}/{db}"


def _redis_timeouts(conf: Mapping[str, Any]) -> tuple[float, float]:
    where = f"redis_servers.{_REDIS_KEY}"
    connect = as_float(
        conf.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT), f"{where}.connect_timeout"
    )
    socket = as_float(conf.get("socket_timeout", DEFAULT_SOCKET_TIMEOUT), f"{where}.socket_timeout")
    return connect, socket


def _redis_broker(conf: Mapping[str, Any]) -> dict[str, Any]:
    connect, socket = _redis_timeouts(conf)
    return {
        "broker_url": _redis_url(conf),
        "broker_connection_timeout": connect,
        "broker_transport_options": {"socket_timeout": socket, "socket_connect_timeout": connect},
    }


def _redis_backend(conf: Mapping[str, Any]) -> dict[str, Any]:
    connect, socket = _redis_timeouts(conf)
    return {
        "result_backend": _redis_url(conf),
        "redis_socket_timeout": socket,
        "redis_socket_connect_timeout": connect,
    }


def _beat_settings() -> dict[str, Any]:
    mongodb_servers = Config.get("mongodb_servers")
    conf = mongodb_servers.get("celery") if isinstance(mongodb_servers, Mapping) else None
    if not isinstance(conf, Mapping):
        return {}
    host, port, db = conf.get("host"), conf.get("port"), conf.get("db")
    address = f"{host}:{port}" if port else f"{host}"
    return {
        "mongodb_scheduler_db": db,
        "mongodb_scheduler_url": f"mongodb://{_userinfo(conf)}{address}/{db or ''}",
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


def _userinfo(conf: Mapping[str, Any]) -> str:
    user, password = conf.get("user"), conf.get("passwd")
    if not user and not password:
        return ""
    escaped_user = quote(str(user or ""), safe="")
    if password is None:
        return f"{escaped_user}@"
    return f"{escaped_user}:{quote(str(password), safe='')}@"
