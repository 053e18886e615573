"""Preparing the service in the uWSGI master: configuration, logging, views, app.

:func:`prepare` runs once, before uWSGI forks. Every problem it finds is a startup
error with a one-line message.
"""

import os
from typing import Any

from envoxy.daemon.exceptions import UsageError
from envoxy.daemon.runtime import Runtime, install
from envoxy.exceptions import ConfigError

__all__ = ["TEST_MODE", "health_url", "prepare"]

TEST_MODE = "test"


def prepare(conf_path: str | None, mode: str | None = None) -> Runtime:
    """Read the configuration once, configure logging, load the views and build the app.

    :param conf_path: the ``--set conf=`` path (``ENVOXY_CONFIG`` is used when ``None``).
    :param mode: the ``--set mode=`` value; ``test`` needs no configuration.
    :returns: the installed :class:`~envoxy.daemon.runtime.Runtime`.
    :raises UsageError: when no configuration is named and the mode is not ``test``.
    :raises ConfigError: when the file is missing or invalid.
    :raises envoxy.exceptions.EnvoxyError: for any other startup error (views, plugin).
    """
    from envoxy.utils.config import CONFIG_ENV_VAR, Config
    from envoxy.utils.log_setup import configure_logging

    path = conf_path or os.environ.get(CONFIG_ENV_VAR) or None
    if path is None and mode != TEST_MODE:
        raise UsageError(
            "no configuration file: pass --set conf=PATH (or set ENVOXY_CONFIG), or --set mode=test"
        )
    if path is not None:
        path = os.path.abspath(path)
        if not os.path.isfile(path):
            source = "--set conf=" if conf_path else CONFIG_ENV_VAR
            raise ConfigError(f"configuration file {path} does not exist (from {source})")
        Config.set_daemon_path(path)
    configure_logging(force=True)
    from envoxy.daemon.app import create_app
    from envoxy.daemon.known_keys import warn_unknown_keys
    from envoxy.daemon.legacy_uwsgi import install_stand_in, legacy_options
    from envoxy.daemon.settings import config_snapshot

    if path is not None:
        warn_unknown_keys(Config.document())
    legacy = legacy_options(Config.document() if path is not None else {})
    # view modules written for envoxy 0.7 import uwsgi at their top: uWSGI is not running
    install_stand_in(legacy)
    snapshot = config_snapshot() if path is not None else {}
    metrics_dir = _metrics_directory(snapshot)
    app = create_app(snapshot, mode=mode, config_path=path)
    runtime = Runtime(app=app, legacy_options=legacy, metrics_dir=metrics_dir)
    install(runtime)
    return runtime


def _metrics_directory(snapshot: Any) -> str | None:
    """Create the multiprocess metrics directory (before prometheus_client is imported),
    unless ``metrics.enabled`` is false."""
    from envoxy.daemon.metrics_dir import prepare_directory
    from envoxy.daemon.settings import MetricsSettings

    settings = MetricsSettings.from_config(snapshot.get("metrics"))
    if not settings.enabled:
        return None
    try:
        return prepare_directory(settings.directory)
    except OSError as exc:
        raise ConfigError(
            f"metrics.directory {settings.directory!r} is not usable ({exc.strerror}); "
            "point it at a writable directory or set metrics.enabled to false"
        ) from None


def health_url(http_bind: str | None, uwsgi_options: Any) -> str | None:
    """Return the ``/_health`` URL of this service, from ``boot[0].http.bind`` or the
    ``--http-socket``/``--http`` option (``None`` for a UNIX socket or no address)."""
    address = http_bind
    if not address:
        for name in ("http-socket", "http"):
            value = uwsgi_options.get(name) if uwsgi_options else None
            if isinstance(value, list | tuple):
                value = value[0] if value else None
            if isinstance(value, bytes):
                value = value.decode()
            if value:
                address = str(value)
                break
    if not address or "/" in address or ":" not in address:
        return None
    host, _, port = address.rpartition(":")
    port = port.split(",")[0]
    if host in ("", "0.0.0.0", "*", "[::]", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port}/_health"
