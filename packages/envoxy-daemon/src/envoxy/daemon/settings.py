"""The daemon's settings, read once from the parsed ``envoxy.json``.

:class:`DaemonSettings` is built in the master before the workers fork, from a plain
mapping (the top level of ``envoxy.json``); workers and the service mule inherit it.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from envoxy.daemon.health import ReadinessSettings
from envoxy.exceptions import ConfigError
from envoxy.utils.config import as_bool, as_float, as_int
from envoxy.views.jsonbody import DEFAULT_MAX_JSON_DEPTH, DEFAULT_MAX_JSON_ELEMENTS

__all__ = [
    "CLIENT_SECTIONS",
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_SHUTDOWN_GRACE",
    "KNOWN_SECTIONS",
    "OTEL_EXPORTERS",
    "DaemonSettings",
    "MetricsSettings",
    "OtelSettings",
    "ZmqBackendSettings",
    "config_snapshot",
]

DEFAULT_SHUTDOWN_GRACE = 30
DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024
DEFAULT_BODY_TIMEOUT = 30.0  # seconds a request body may take to arrive whole

#: ``*_servers`` section -> readiness check kind
CLIENT_SECTIONS: dict[str, str] = {
    "redis_servers": "redis",
    "psql_servers": "postgresql",
    "couchdb_servers": "couchdb",
    "mqtt_servers": "mqtt",
    "zmq_servers": "zmq",
    "amqp_servers": "amqp",
}

#: every top-level key the daemon reads (the others are ignored)
KNOWN_SECTIONS: tuple[str, ...] = (
    "log",
    "$log",
    "boot",
    "keep_alive",
    "shutdown_grace",
    "debug",
    "modules",
    "packages",
    "enable_cors",
    "cors_origins",
    "credentials",
    "plugins",
    "default_zmq_backend",
    "max_body_size",
    "max_json_depth",
    "max_json_elements",
    "body_timeout",
    "cache",
    "readiness",
    "metrics",
    "otel",
    *CLIENT_SECTIONS,
)


@dataclass(frozen=True, slots=True)
class ZmqBackendSettings:
    """``default_zmq_backend``: the catch-all proxy to a ZeroMQ service.

    :param path_prefix: the URL prefix served (``/`` by default).
    :param server_key: the ``zmq_servers`` key called.
    """

    #: the keys of the ``default_zmq_backend`` section
    KEYS: ClassVar[frozenset[str]] = frozenset({"enabled", "path_prefix", "server_key"})

    path_prefix: str
    server_key: str


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """``metrics``: the Prometheus route ``/_metrics``.

    :param enabled: serve ``/_metrics`` and count requests (default true).
    :param directory: where envoxyd creates the multiprocess directory (default:
        ``/dev/shm`` when writable, else the system's temporary directory; a tmpfs is best).
    """

    enabled: bool = True
    directory: str | None = None

    @classmethod
    def from_config(cls, section: Any) -> "MetricsSettings":
        """Read the ``metrics`` section (``None`` or missing: the defaults).

        :raises ConfigError: for a section that is not an object or a bad value.
        """
        if section is None or section == {}:
            return cls()
        if not isinstance(section, Mapping):
            raise ConfigError("envoxy.json 'metrics' must be an object, e.g. {\"enabled\": false}")
        directory = section.get("directory")
        if directory is not None and not isinstance(directory, str):
            raise ConfigError(f"envoxy.json 'metrics.directory' must be a path, got {directory!r}")
        return cls(
            enabled=as_bool(section.get("enabled", True), "metrics.enabled"),
            directory=directory or None,
        )


@dataclass(frozen=True, slots=True)
class OtelSettings:
    """``otel``: OpenTelemetry tracing (needs ``envoxy-daemon[otel]``).

    :param enabled: trace requests, client calls and MQTT handlers (default false).
    :param service_name: the ``service.name`` resource (default ``boot[0].name``, else
        ``envoxy``).
    :param exporter: ``otlp`` (OTLP over HTTP; endpoint and headers from the standard
        ``OTEL_EXPORTER_OTLP_*`` variables), ``console`` (stdout) or ``none``.
    """

    enabled: bool = False
    service_name: str = "envoxy"
    exporter: str = "otlp"

    @classmethod
    def from_config(cls, section: Any, default_name: str | None) -> "OtelSettings":
        """Read the ``otel`` section.

        :raises ConfigError: for a section that is not an object or an unknown exporter.
        """
        if section is None or section == {}:
            return cls(service_name=default_name or "envoxy")
        if not isinstance(section, Mapping):
            raise ConfigError("envoxy.json 'otel' must be an object, e.g. {\"enabled\": true}")
        exporter = str(section.get("exporter") or "otlp").strip().lower()
        if exporter not in OTEL_EXPORTERS:
            raise ConfigError(
                f"envoxy.json 'otel.exporter' must be one of {', '.join(OTEL_EXPORTERS)}, "
                f"got {exporter!r}"
            )
        return cls(
            enabled=as_bool(section.get("enabled", False), "otel.enabled"),
            service_name=str(section.get("service_name") or default_name or "envoxy"),
            exporter=exporter,
        )


#: the exporters ``otel.exporter`` accepts
OTEL_EXPORTERS = ("otlp", "console", "none")


@dataclass(frozen=True, slots=True)
class DaemonSettings:
    """What the daemon reads from ``envoxy.json`` (see docs/ENVOXYD.md for each key)."""

    mode: str | None = None
    config_dir: str = "."
    modules: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    debug: bool = False
    keep_alive: int = 0
    shutdown_grace: int = DEFAULT_SHUTDOWN_GRACE
    enable_cors: bool = False
    cors_origins: tuple[str, ...] = ()
    credentials: Mapping[str, Any] | None = None
    auth_plugin: str | None = None
    zmq_backend: ZmqBackendSettings | None = None
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    max_json_elements: int = DEFAULT_MAX_JSON_ELEMENTS
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    http_bind: str | None = None
    clients: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    readiness: ReadinessSettings = field(default_factory=ReadinessSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    otel: OtelSettings = field(default_factory=OtelSettings)

    @property
    def test_mode(self) -> bool:
        """True under ``--set mode=test``: only ``/_health``, ``/_ready`` and ``GET /``."""
        return self.mode == "test"

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        *,
        config_path: str | None = None,
        mode: str | None = None,
    ) -> "DaemonSettings":
        """Read the settings from the top level of ``envoxy.json``.

        :param config: the parsed file (missing keys take their defaults).
        :param config_path: the file's path; relative ``modules`` are taken from its directory.
        :param mode: the ``--set mode=`` value (``test`` serves only the health routes).
        :raises ConfigError: for a value of the wrong type, or both ``modules`` and ``packages``.
        """
        modules = _string_list(config, "modules")
        packages = _string_list(config, "packages")
        if modules and packages and mode != "test":
            raise ConfigError(
                "envoxy.json sets both 'modules' and 'packages'; keep only one of them"
            )
        boot = _first_boot(config)
        keep_alive = _get(config, "keep_alive")
        if keep_alive is None:
            keep_alive = boot.get("keep_alive", 0)
        http_section = boot.get("http")
        http: Mapping[str, Any] = http_section if isinstance(http_section, Mapping) else {}
        credentials = _get(config, "credentials")
        plugins = _get(config, "plugins") or {}
        if not isinstance(plugins, Mapping):
            raise ConfigError('envoxy.json \'plugins\' must be an object, e.g. {"auth": "/path"}')
        clients = {
            kind: _servers(config, section)
            for section, kind in CLIENT_SECTIONS.items()
            if _servers(config, section)
        }
        return cls(
            mode=mode,
            config_dir=os.path.dirname(os.path.abspath(config_path)) if config_path else ".",
            modules=tuple(modules),
            packages=tuple(packages),
            debug=as_bool(_get(config, "debug") or False, "debug"),
            keep_alive=as_int(keep_alive or 0, "keep_alive"),
            shutdown_grace=as_int(
                _default(_get(config, "shutdown_grace"), DEFAULT_SHUTDOWN_GRACE), "shutdown_grace"
            ),
            enable_cors=as_bool(_get(config, "enable_cors") or False, "enable_cors"),
            cors_origins=tuple(_string_list(config, "cors_origins")),
            credentials=dict(credentials)
            if isinstance(credentials, Mapping) and credentials
            else None,
            auth_plugin=str(plugins["auth"]) if plugins.get("auth") else None,
            zmq_backend=_zmq_backend(config),
            max_body_size=as_int(
                _default(_get(config, "max_body_size"), DEFAULT_MAX_BODY_SIZE), "max_body_size"
            ),
            max_json_depth=_positive(config, "max_json_depth", DEFAULT_MAX_JSON_DEPTH),
            max_json_elements=_positive(config, "max_json_elements", DEFAULT_MAX_JSON_ELEMENTS),
            body_timeout=_seconds(config, "body_timeout", DEFAULT_BODY_TIMEOUT),
            http_bind=str(http["bind"]) if http.get("bind") else None,
            clients=clients,
            readiness=ReadinessSettings.from_config(_get(config, "readiness")),
            metrics=MetricsSettings.from_config(_get(config, "metrics")),
            otel=OtelSettings.from_config(
                _get(config, "otel"),
                str(boot["name"]) if isinstance(boot.get("name"), str) and boot["name"] else None,
            ),
        )


def config_snapshot() -> dict[str, Any]:
    """Return the known top-level sections of the file loaded by
    :class:`envoxy.utils.config.Config` (missing sections are left out).

    :raises ConfigError: when the file is missing or malformed.
    """
    from envoxy.utils.config import Config

    snapshot: dict[str, Any] = {}
    for name in KNOWN_SECTIONS:
        value = Config.get(name)
        if value != {} and value is not None:
            snapshot[name] = value
    return snapshot


def _get(config: Mapping[str, Any], key: str) -> Any:
    value = config.get(key)
    # Config.get gives a new {} for a missing key: treat it as absent for scalar settings
    return None if value == {} else value


def _seconds(config: Mapping[str, Any], name: str, default: float) -> float:
    value = as_float(_default(_get(config, name), default), name)
    if value <= 0:
        raise ConfigError(f"envoxy.json '{name}' must be a number of seconds above 0, not {value}")
    return value


def _default(value: Any, default: Any) -> Any:
    return default if value is None or value == "" else value


def _positive(config: Mapping[str, Any], key: str, default: int) -> int:
    value = as_int(_default(_get(config, key), default), key)
    if value < 1:
        raise ConfigError(f"envoxy.json '{key}' must be a positive integer, got {value}")
    return value


def _string_list(config: Mapping[str, Any], key: str) -> list[str]:
    value = _get(config, key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"envoxy.json '{key}' must be a list of strings, got {value!r}")
    return list(value)


def _first_boot(config: Mapping[str, Any]) -> Mapping[str, Any]:
    boot = _get(config, "boot")
    if isinstance(boot, list) and boot and isinstance(boot[0], Mapping):
        return boot[0]
    return {}


def _servers(config: Mapping[str, Any], section: str) -> dict[str, Any]:
    value = _get(config, section)
    if not isinstance(value, Mapping):
        return {}
    # psql_servers.default may be a string naming the default key: never a server
    return {key: conf for key, conf in value.items() if isinstance(conf, Mapping)}


def _zmq_backend(config: Mapping[str, Any]) -> ZmqBackendSettings | None:
    section = _get(config, "default_zmq_backend")
    if not isinstance(section, Mapping) or not as_bool(
        section.get("enabled", False), "default_zmq_backend.enabled"
    ):
        return None
    servers = _servers(config, "zmq_servers")
    server_key = section.get("server_key") or next(iter(servers), None)
    if not server_key:
        raise ConfigError(
            "default_zmq_backend is enabled but zmq_servers is empty; "
            "add a zmq_servers entry or set default_zmq_backend.server_key"
        )
    prefix = str(section.get("path_prefix") or "/")
    if not prefix.startswith("/"):
        prefix = "/" + prefix
    if not prefix.endswith("/"):
        prefix += "/"
    return ZmqBackendSettings(path_prefix=prefix, server_key=str(server_key))
