"""The WSGI module uWSGI loads: ``--module envoxy.daemon.wsgi:application``.

Under envoxyd the app was built by the launcher before uWSGI started; this module
only hands it over and prepares the fork: it keeps duplicates of the listening
sockets for the service mule and starts each worker's background work after the
fork. Loaded by a plain ``uwsgi``/``pyuwsgi`` command, it prepares the service
itself from ``--set conf=`` (or ``ENVOXY_CONFIG``) and ``--set mode=``.
"""

import os
from typing import Any

from envoxy.daemon.app import EnvoxyApp
from envoxy.daemon.boot import health_url, prepare
from envoxy.daemon.runtime import Runtime, current

__all__ = ["application", "attach"]


def attach(runtime: Runtime) -> None:
    """Bind ``runtime`` to the running uWSGI (in the master, before the fork)."""
    import uwsgi

    options = getattr(uwsgi, "opt", {})
    if "http" not in options:
        # --http runs a router in front of the workers: its socket is not ours to close
        runtime.listen_fds = [os.dup(fd) for fd in getattr(uwsgi, "sockets", [])]
    runtime.health_url = health_url(runtime.app.settings.http_bind, options)

    def post_fork() -> None:
        runtime.app.start_background()

    uwsgi.post_fork_hook = post_fork


def _load() -> EnvoxyApp:
    runtime = current()
    if runtime is None:
        import uwsgi

        options: Any = getattr(uwsgi, "opt", {})
        runtime = prepare(_option(options, "conf"), _option(options, "mode"))
    attach(runtime)
    return runtime.app


def _option(options: Any, name: str) -> str | None:
    value = options.get(name)
    if isinstance(value, list | tuple):
        value = value[-1] if value else None
    if isinstance(value, bytes):
        value = value.decode()
    return value or None


application = _load()
