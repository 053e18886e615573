"""What the launcher prepares in the uWSGI master, for the workers and the service mule.

The launcher parses ``envoxy.json`` and builds the app before uWSGI forks; the
processes it forks inherit this module's state, so no worker reads the file again.
"""

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envoxy.daemon.app import EnvoxyApp

__all__ = ["Runtime", "current", "install"]


@dataclass
class Runtime:
    """The prepared service.

    :param app: the WSGI app built in the master.
    :param listen_fds: duplicates of the listening sockets, kept for the service mule
        (which closes them for new connections when the service stops).
    :param health_url: ``http://host:port/_health`` of this service, for the watchdog.
    :param legacy_options: the envoxy 0.7 ``uwsgi.opt`` keys (``conf_content``,
        ``plugins``, ``credentials``), see :mod:`envoxy.daemon.legacy_uwsgi`.
    :param metrics_dir: the multiprocess metrics directory made by the master, or
        ``None`` (metrics off).
    """

    app: "EnvoxyApp"
    listen_fds: list[int] = field(default_factory=list)
    health_url: str | None = None
    legacy_options: dict[str, Any] = field(default_factory=dict)
    master_pid: int = field(default_factory=os.getpid)
    metrics_dir: str | None = None


_current: list[Runtime | None] = [None]


def install(runtime: Runtime | None) -> None:
    """Make ``runtime`` the prepared service of this process (``None`` forgets it)."""
    _current[0] = runtime


def current() -> Runtime | None:
    """Return the prepared service, or ``None`` outside envoxyd."""
    return _current[0]
