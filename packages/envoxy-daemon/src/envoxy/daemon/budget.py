"""The longest a client call can block a request, compared with uWSGI's ``harakiri``.

uWSGI kills a worker whose request runs past ``harakiri`` seconds: the caller gets an
empty reply and every other request of that worker is lost. A client call whose
worst case (every attempt timing out, every pause at its ceiling) is longer than
``harakiri`` can make that happen while a server is down or frozen. ``envoxyd`` logs a
warning at startup for each such client, with the numbers and the setting to change.

Each worst case is computed from the client's own settings class, the one the client
uses, so the numbers follow the defaults.
"""

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from envoxy.utils.logs import log

__all__ = ["CallBudget", "check_harakiri", "worst_cases"]


@dataclass(frozen=True, slots=True)
class CallBudget:
    """The worst case of one client's calls.

    :param name: ``"<section>.<key>"``.
    :param seconds: the longest one call can block (``inf`` for no timeout).
    :param how: how it adds up, e.g. ``"deadline 30 s"``.
    :param fix: the settings that shorten it.
    """

    name: str
    seconds: float
    how: str
    fix: str


def worst_cases(config: Mapping[str, Any]) -> list[CallBudget]:
    """Return the worst case of every configured client whose settings can be read.

    A client whose settings are invalid, or whose distribution is not installed, is
    skipped here: its first call reports that.
    """
    budgets: list[CallBudget] = []
    for section, estimate in _ESTIMATES.items():
        servers = config.get(section)
        if not isinstance(servers, Mapping):
            continue
        for key, conf in servers.items():
            if not isinstance(conf, Mapping):
                continue
            try:
                budgets.extend(estimate(str(key), conf))
            except Exception as exc:
                log.debug(f"no worst case for {section}.{key}: {type(exc).__name__}: {exc}")
    return budgets


def check_harakiri(config: Mapping[str, Any], harakiri: float | None) -> list[CallBudget]:
    """Log a warning for each client call that can outlive ``harakiri``; return those.

    :param config: the parsed ``envoxy.json``.
    :param harakiri: uWSGI's ``harakiri`` in seconds (``None`` or 0: disabled).
    """
    if not harakiri:
        return []
    over = [budget for budget in worst_cases(config) if budget.seconds > harakiri]
    for budget in over:
        worst = "no limit" if math.isinf(budget.seconds) else f"{budget.seconds:g} s"
        log.warning(
            f"{budget.name}: a call can block for {worst} ({budget.how}), longer than "
            f"uWSGI's harakiri of {harakiri:g} s: while that server is down or frozen, "
            f"workers are killed mid-request and callers get an empty reply. "
            f"Lower {budget.fix}, or raise --harakiri"
        )
    return over


def _zmq(key: str, conf: Mapping[str, Any]) -> Iterator[CallBudget]:
    from envoxy.zeromq.settings import ZmqServerSettings

    settings = ZmqServerSettings.from_config(key, conf)
    yield CallBudget(
        f"zmq_servers.{key}",
        settings.worst_case(),
        f"{settings.retries + 1} attempts of {settings.timeout:g} s with pauses, "
        f"bounded by the deadline of {settings.deadline:g} s",
        f"zmq_servers.{key}.deadline",
    )


def _redis(key: str, conf: Mapping[str, Any]) -> Iterator[CallBudget]:
    from envoxy.redis.settings import RedisSettings

    settings = RedisSettings.from_config(key, conf)
    yield CallBudget(
        f"redis_servers.{key}",
        settings.worst_case(),
        "pool_timeout + connect_timeout + socket_timeout",
        f"redis_servers.{key}.pool_timeout/connect_timeout/socket_timeout",
    )
    if key == "celery":  # the Celery broker: send_task publishes up to twice
        from envoxy.celery.settings import PUBLISH_ATTEMPTS, publish_worst_case

        yield CallBudget(
            "celeryc.send_task",
            publish_worst_case(conf),
            f"connect_timeout + {PUBLISH_ATTEMPTS} x socket_timeout of redis_servers.celery",
            "redis_servers.celery.socket_timeout/connect_timeout",
        )


def _couchdb(key: str, conf: Mapping[str, Any]) -> Iterator[CallBudget]:
    from envoxy.couchdb.settings import CouchDBSettings

    settings = CouchDBSettings.from_config(key, conf)
    yield CallBudget(
        f"couchdb_servers.{key}",
        settings.worst_case(),
        "timeout (pool wait) + connect attempts x connect_timeout + timeout (reply)",
        f"couchdb_servers.{key}.timeout/connect_timeout",
    )


def _mqtt(key: str, conf: Mapping[str, Any]) -> Iterator[CallBudget]:
    from envoxy.mqtt.settings import MqttServerSettings

    settings = MqttServerSettings.from_config(key, conf)
    yield CallBudget(
        f"mqtt_servers.{key}",
        settings.connect_timeout,
        "a publish waits up to connect_timeout for the connection",
        f"mqtt_servers.{key}.connect_timeout",
    )


def _postgresql(key: str, conf: Mapping[str, Any]) -> Iterator[CallBudget]:
    url = conf.get("url") or conf.get("dsn")
    if url and not str(url).startswith(("postgresql", "postgres:")):
        return  # another database, through SQLAlchemy only
    from envoxy.postgresql.settings import PostgresSettings

    settings = PostgresSettings.from_config(key, conf)
    yield CallBudget(
        f"psql_servers.{key}",
        settings.worst_case(),
        "pgsqlc: the deadline of a call (timeout), the pool wait and connecting included",
        f"psql_servers.{key}.timeout",
    )


_ESTIMATES: dict[str, Callable[[str, Mapping[str, Any]], Iterator[CallBudget]]] = {
    "zmq_servers": _zmq,
    "redis_servers": _redis,
    "couchdb_servers": _couchdb,
    "mqtt_servers": _mqtt,
    "psql_servers": _postgresql,
}
