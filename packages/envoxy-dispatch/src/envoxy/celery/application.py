"""The process's Celery application, created on first use and configured lazily.

:func:`get_app` builds ``Celery("envoxy")`` whose configuration source is a
mapping computed from ``envoxy.json`` the first time Celery reads a setting, so
creating the app reads no configuration and opens no connection, and
``celery -A envoxy.celery worker`` (which looks up ``envoxy.celery.app``) runs
with the file named by ``ENVOXY_CONFIG``.
"""

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from envoxy.celery.propagation import connect_signals
from envoxy.celery.settings import build_settings
from envoxy.utils.imports import require

__all__ = ["broker_key", "close_app", "get_app", "initialize"]

_EXTRA = "envoxy-dispatch[celery]"
_lock = threading.Lock()
_app: Any = None


def get_app() -> Any:
    """Return the process's ``celery.Celery`` app, creating it (unconfigured) on first use.

    :raises MissingDependencyError: when Celery is not installed.
    """
    app = _app
    if app is None:
        app = _create_app()
    return app


def initialize(server_key: str | None = None) -> Any:
    """Configure the app now from ``envoxy.json`` and return it.

    Called again (e.g. after ``Config.set_file_path``), it re-reads the file,
    replaces the settings (those the file no longer gives return to Celery's defaults),
    drops pooled broker connections and the result backend.

    :param server_key: the ``amqp_servers`` key of the broker (default: the first;
        ``redis_servers.celery`` when there is no ``amqp_servers``).
    :raises ConfigError: when no broker is configured or a setting is malformed.
    """
    app = get_app()
    source: _EnvoxySettings = app._config_source
    if not app.configured:
        source.select(server_key)
        app.conf.broker_url  # noqa: B018 - reading a setting loads the configuration
        return app
    previous = set(source)
    settings = source.select(server_key)
    for stale in previous - settings.keys():  # e.g. Sentinel options of a former broker
        app.conf.pop(stale, None)
    app.conf.update(settings)
    _drop_connections(app)
    _drop_backend(app)
    return app


def broker_key() -> str:
    """Return the server key of the broker: the ``amqp_servers`` key in use, else
    ``celery`` (``redis_servers.celery``). For metrics and logs."""
    app = _app
    source = getattr(app, "_config_source", None) if app is not None else None
    chosen = getattr(source, "_server_key", None)
    if chosen:
        return str(chosen)
    from envoxy.utils.config import Config

    servers = Config.get("amqp_servers")
    if isinstance(servers, Mapping) and servers:
        return str(next(iter(servers)))
    return "celery"


def close_app() -> None:
    """Close the pooled connections of the app when it exists (idempotent)."""
    app = _app
    if app is not None:
        _drop_connections(app)


def _drop_connections(app: Any) -> None:
    """Close the app's broker connections and its producer pool.

    ``Celery.close()`` forgets the connection pool but not the producer pool, whose
    producers keep publishing to the broker they were made for (after a new broker URL,
    to the old broker).
    """
    amqp = app.__dict__.get("amqp")
    producers = getattr(amqp, "_producer_pool", None) if amqp is not None else None
    if producers is not None:
        amqp._producer_pool = None
        producers.force_close_all()
    app.close()


def _drop_backend(app: Any) -> None:
    """Forget the app's result backend, so the next result uses the new settings.

    Celery caches the backend object (per thread when it is not thread-safe) and never
    rebuilds it after ``conf.update``.
    """
    app._backend_cache = None
    app._local = threading.local()


class _EnvoxySettings(Mapping[str, Any]):
    """A mapping of Celery settings computed from ``envoxy.json`` on first read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server_key: str | None = None
        self._settings: dict[str, Any] | None = None

    def select(self, server_key: str | None) -> dict[str, Any]:
        """Recompute the settings for ``server_key`` and return them."""
        with self._lock:
            self._server_key = server_key
            self._settings = build_settings(server_key)
            return self._settings

    def _loaded(self) -> dict[str, Any]:
        settings = self._settings
        if settings is None:
            with self._lock:
                if self._settings is None:
                    self._settings = build_settings(self._server_key)
                settings = self._settings
        return settings

    def __getitem__(self, name: str) -> Any:
        return self._loaded()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


def _create_app() -> Any:
    global _app
    with _lock:
        if _app is None:
            celery = require("celery", _EXTRA)
            app = celery.Celery("envoxy")
            app.config_from_object(_EnvoxySettings())
            connect_signals(celery)
            _app = app
        return _app
