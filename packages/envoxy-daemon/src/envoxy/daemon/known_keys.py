"""Every key of ``envoxy.json`` that some part of Envoxy reads, and the startup warning
for the others.

The table is data collected from the owners: each client's settings class declares its
``KEYS`` (``RedisSettings.KEYS``...), the daemon its sections. :func:`warn_unknown_keys`
runs once in the master, after logging is configured::

    envoxy.json: unknown key 'log_level' is ignored; did you mean 'log'?

A service's own top-level sections are left alone (0.7 services read custom sections);
only a top-level key that looks like a slip of a known one is reported (see
:mod:`envoxy.utils.config_keys`). Inside a known section every unknown key is reported.
"""

from collections.abc import Mapping
from typing import Any

from envoxy.utils.config_keys import KnownKeys, UnknownKey, unknown_keys
from envoxy.utils.logs import log

__all__ = ["known_sections", "known_top_level", "warn_unknown_keys"]


def warn_unknown_keys(document: Mapping[str, Any]) -> list[UnknownKey]:
    """Log one warning per key of ``document`` that nothing reads; return them.

    :param document: the parsed ``envoxy.json``.
    """
    found = unknown_keys(document, known_sections(), known_top_level())
    for unknown in found:
        log.warning(unknown.message())
    return found


def known_sections() -> list[KnownKeys]:
    """Return what is read inside each known section of ``envoxy.json``."""
    from envoxy.auth.credentials import CREDENTIAL_FIELDS
    from envoxy.cache.backend import KEYS as CACHE_KEYS
    from envoxy.celery.settings import MONGODB_KEYS, AmqpSettings
    from envoxy.couchdb.settings import CouchDBSettings
    from envoxy.daemon.health import ReadinessSettings
    from envoxy.daemon.settings import ZmqBackendSettings
    from envoxy.mqtt.settings import MqttServerSettings
    from envoxy.postgresql.settings import PostgresSettings
    from envoxy.redis.settings import RedisSettings
    from envoxy.utils.log_setup import LOG_KEYS
    from envoxy.zeromq.settings import WORKERS_SECTION, ZmqServerSettings, ZmqWorkerSettings

    servers = (
        RedisSettings,
        PostgresSettings,
        CouchDBSettings,
        MqttServerSettings,
        ZmqServerSettings,
        AmqpSettings,
    )
    return [
        *(KnownKeys(settings.SECTION, settings.KEYS, per_server=True) for settings in servers),
        KnownKeys("mongodb_servers", MONGODB_KEYS, per_server=True),
        KnownKeys("log", LOG_KEYS),
        KnownKeys("$log", LOG_KEYS),
        KnownKeys("cache", CACHE_KEYS),
        KnownKeys("credentials", frozenset({"server", "timeout", *CREDENTIAL_FIELDS})),
        KnownKeys("default_zmq_backend", ZmqBackendSettings.KEYS),
        KnownKeys("readiness", ReadinessSettings.KEYS),
        KnownKeys("plugins", frozenset({"auth"})),
        KnownKeys(WORKERS_SECTION, ZmqWorkerSettings.KEYS),
    ]


def known_top_level() -> frozenset[str]:
    """Return every top-level key of ``envoxy.json`` that Envoxy reads."""
    from envoxy.celery.settings import TOP_LEVEL_KEYS
    from envoxy.daemon.settings import KNOWN_SECTIONS

    return frozenset({*KNOWN_SECTIONS, *TOP_LEVEL_KEYS})
