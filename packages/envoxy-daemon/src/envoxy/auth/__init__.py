"""Envoxy authentication: the service's own credentials and the ``plugins.auth`` contract.

- :func:`authenticate` (= :func:`authenticate_container`) POSTs the ``credentials``
  section to its server and returns the answer; envoxyd calls it in the background.
- :func:`load_auth_plugin` / :func:`auth_class` give the plugin's ``Auth`` class used by
  :func:`envoxy.decorators.auth_required` and :func:`envoxy.decorators.auth_anonymous_allowed`.
"""

from envoxy.auth.credentials import authenticate_container as authenticate_container
from envoxy.auth.exceptions import AuthenticationError as AuthenticationError
from envoxy.auth.exceptions import AuthPluginError as AuthPluginError
from envoxy.auth.plugin import auth_class as auth_class
from envoxy.auth.plugin import load_auth_plugin as load_auth_plugin
from envoxy.auth.plugin import set_auth_class as set_auth_class

authenticate = authenticate_container

__all__ = [
    "AuthPluginError",
    "AuthenticationError",
    "auth_class",
    "authenticate",
    "authenticate_container",
    "load_auth_plugin",
    "set_auth_class",
]
