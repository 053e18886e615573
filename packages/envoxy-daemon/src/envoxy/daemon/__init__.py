"""envoxyd: uWSGI serving Envoxy views.

Modules:

- :mod:`envoxy.daemon.app`: ``create_app(config) -> EnvoxyApp``, the WSGI app;
- :mod:`envoxy.daemon.launcher`: the ``envoxyd`` command;
- :mod:`envoxy.daemon.boot` / :mod:`envoxy.daemon.wsgi`: preparing the service in the
  master and handing it to uWSGI;
- :mod:`envoxy.daemon.service`: the service mule (MQTT views, watchdog, shutdown);
- :mod:`envoxy.daemon.loader`: loading view classes;
- :mod:`envoxy.daemon.settings`: the settings read from ``envoxy.json``;
- :mod:`envoxy.daemon.health`, :mod:`~envoxy.daemon.cors`, :mod:`~envoxy.daemon.proxy`,
  :mod:`~envoxy.daemon.reqlog`, :mod:`~envoxy.daemon.credentials`,
  :mod:`~envoxy.daemon.mqtt`: one feature each;
- :mod:`envoxy.daemon.metrics` / :mod:`~envoxy.daemon.metrics_dir`: ``/_metrics`` and
  its multiprocess directory; :mod:`~envoxy.daemon.tracing`: OpenTelemetry (``[otel]``).

Importing this package imports nothing else.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envoxy.daemon.app import EnvoxyApp as EnvoxyApp
    from envoxy.daemon.app import create_app as create_app

__all__ = ["EnvoxyApp", "create_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from envoxy.daemon import app

        return getattr(app, name)
    raise AttributeError(f"module 'envoxy.daemon' has no attribute {name!r}")
