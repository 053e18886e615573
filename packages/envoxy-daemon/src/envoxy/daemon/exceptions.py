"""Exceptions of ``envoxy.daemon``.

Hierarchy::

    EnvoxyError
    └── StartupError          envoxyd cannot start; the message is one line naming the cause
        ├── UsageError        the command line is incomplete (exit status 2)
        └── ViewLoadError     a module or package of views cannot be loaded

:class:`envoxy.exceptions.ConfigError`, :class:`envoxy.views.exceptions.ViewError` and
:class:`envoxy.auth.AuthPluginError` are startup errors too when raised while starting.
"""

from envoxy.exceptions import EnvoxyError

__all__ = ["StartupError", "UsageError", "ViewLoadError"]


class StartupError(EnvoxyError):
    """envoxyd cannot start. ``exit_code`` is the process exit status (1)."""

    exit_code = 1


class UsageError(StartupError):
    """The command line lacks something, e.g. ``--set conf=PATH``; exits with status 2."""

    exit_code = 2


class ViewLoadError(StartupError):
    """A ``modules`` file or ``packages`` entry cannot be imported or holds no views."""
