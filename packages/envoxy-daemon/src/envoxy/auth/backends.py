"""Deprecated 0.7 module of the auth helpers; each name warns once and names its replacement.

- ``authenticate_container(credentials)``: :func:`envoxy.auth.credentials.authenticate_container`
  (it raises :class:`~envoxy.auth.exceptions.AuthenticationError` where 0.7 exited the process);
- ``get_auth_module()``: :func:`envoxy.auth.plugin.auth_class`, the ``plugins.auth`` class
  (the 0.7 ``module_name`` argument is gone);
- ``get_topic(endpoint)``: :func:`envoxy.views.routing.topic_of`.

``AuthBackendMixin`` is not kept: it was the 0.7 decorators' own helper, and
``@auth_required``/``@auth_anonymous_allowed`` now call the plugin themselves.

.. deprecated:: 1.0
"""

from envoxy.utils.deprecation import deprecated_aliases

__getattr__ = deprecated_aliases(
    __name__,
    {
        "authenticate_container": ("envoxy.auth.credentials", "authenticate_container"),
        "get_auth_module": ("envoxy.auth.plugin", "auth_class"),
        "get_topic": ("envoxy.views.routing", "topic_of"),
    },
)
