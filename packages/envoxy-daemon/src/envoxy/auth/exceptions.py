"""Exceptions of ``envoxy.auth``.

Hierarchy::

    EnvoxyError
    ├── AuthenticationError   the credentials server refused or could not be reached
    └── AuthPluginError       ``plugins.auth`` is missing, cannot be imported or has no ``Auth``
"""

from envoxy.exceptions import EnvoxyError

__all__ = ["AuthPluginError", "AuthenticationError"]


class AuthenticationError(EnvoxyError):
    """The service's own credentials could not be obtained.

    The message names the setting or the server at fault, never the secret.
    """


class AuthPluginError(EnvoxyError):
    """The auth plugin named by ``plugins.auth`` cannot be used by ``@auth_required``."""
