"""The WSGI entry point uWSGI loads: ``--module "envoxy.daemon.wsgi:load()"``.

Under envoxyd the app was built by the launcher before uWSGI started; :func:`load`
only hands it over and prepares the fork: it keeps duplicates of the listening
sockets for the service mule and starts each worker's background work after the
fork. Called from a plain ``uwsgi``/``pyuwsgi`` command, it prepares the service
itself from ``--set conf=`` (or ``ENVOXY_CONFIG``) and ``--set mode=``. The module
attribute ``application`` does the same on first access, for WSGI servers that use
``getattr`` (uWSGI reads the module dictionary: give it ``load()``). Importing this
module does nothing.
"""

import gc
import os
from typing import Any

from envoxy.daemon import legacy_uwsgi
from envoxy.daemon.app import EnvoxyApp
from envoxy.daemon.boot import health_url, prepare
from envoxy.daemon.ledger import forget_ledgers
from envoxy.daemon.runtime import Runtime, current
from envoxy.utils.identity import set_process_tag
from envoxy.utils.logs import after_fork

__all__ = ["application", "attach", "load"]

#: the service's WSGI app, built on first access (see :func:`load`)
application: EnvoxyApp


def attach(runtime: Runtime) -> None:
    """Bind ``runtime`` to the running uWSGI (in the master, before the fork)."""
    import uwsgi

    options = getattr(uwsgi, "opt", {})
    if "http" not in options:
        # --http runs a router in front of the workers: its socket is not ours to close
        runtime.listen_fds = [os.dup(fd) for fd in getattr(uwsgi, "sockets", [])]
    runtime.health_url = health_url(runtime.app.settings.http_bind, options)
    legacy_uwsgi.bind(runtime.legacy_options)

    def post_fork() -> None:
        # uWSGI forks from C without Python's at-fork hooks: forget the master's pid and
        # queued log lines first (else every worker's lines carry the master's pid)
        after_fork()
        forget_ledgers()
        # each worker qualifies the replica's client ids (w<N>: stable across respawns)
        worker = uwsgi.worker_id()
        set_process_tag(f"w{worker}" if worker > 0 else "")
        runtime.app.start_background()

    uwsgi.post_fork_hook = post_fork
    if uwsgi.worker_id() == 0:
        # in the master: what is loaded now is never collected, so the workers keep
        # sharing those pages (copy-on-write) and their collections scan less
        gc.freeze()
    else:
        # loaded in a worker already (--lazy-apps): its fork has happened
        post_fork()


def load() -> EnvoxyApp:
    """Return the service's WSGI app, preparing it when the launcher did not.

    :raises envoxy.exceptions.EnvoxyError: for a startup error (see :func:`prepare`).
    """
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


def __getattr__(name: str) -> Any:
    if name == "application":
        app = load()
        globals()["application"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
