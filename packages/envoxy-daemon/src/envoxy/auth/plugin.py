"""The auth plugin named by ``plugins.auth``.

``plugins.auth`` is either a directory, from which the module ``auth`` is imported,
or an importable module name. The module exposes a class ``Auth`` with

- ``authenticate(self, request, topic=..., **kwargs)`` (for ``@auth_required``),
- ``anonymous(self, request, topic=..., **kwargs)`` (for ``@auth_anonymous_allowed``),
- optionally ``exception``: the exception class meaning "not allowed" (its ``status``
  401 or 403 is answered, anything else gives 401).

A truthy dict returned by either method is merged into the handler's keyword arguments.
"""

import importlib
import os
import sys
import threading
from typing import Any

from envoxy.auth.exceptions import AuthPluginError

__all__ = ["auth_class", "load_auth_plugin", "set_auth_class"]

_lock = threading.Lock()
_current: list[type | None] = [None]


def load_auth_plugin(spec: str) -> type:
    """Import the plugin ``spec`` (a directory or a module name) and return its ``Auth`` class.

    :raises AuthPluginError: when it cannot be imported or has no usable ``Auth`` class.
    """
    spec = str(spec)
    if os.path.isdir(spec):
        directory = os.path.abspath(spec)
        if directory not in sys.path:
            sys.path.insert(0, directory)
        module_name = "auth"
    else:
        module_name = spec
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise AuthPluginError(
            f"plugins.auth {spec!r} cannot be imported ({type(exc).__name__}: {exc}); "
            "set plugins.auth to a directory holding auth.py or to a module name"
        ) from exc
    cls = getattr(module, "Auth", None)
    if not isinstance(cls, type) or not callable(getattr(cls, "authenticate", None)):
        raise AuthPluginError(
            f"plugins.auth {spec!r} ({module.__name__}) has no class Auth with an "
            "authenticate(self, request, topic=..., **kwargs) method"
        )
    return cls


def set_auth_class(cls: type | None) -> None:
    """Use ``cls`` as the ``Auth`` class of the auth decorators (``None`` to forget it)."""
    with _lock:
        _current[0] = cls


def auth_class() -> type:
    """Return the ``Auth`` class, loading ``plugins.auth`` from the configuration on first use.

    :raises AuthPluginError: when no plugin is configured or it cannot be loaded.
    """
    cls = _current[0]
    if cls is not None:
        return cls
    with _lock:
        if _current[0] is None:
            from envoxy.utils.config import Config

            spec = (Config.plugins() or {}).get("auth")
            if not spec:
                raise AuthPluginError(
                    "@auth_required/@auth_anonymous_allowed need an auth plugin: "
                    "set plugins.auth in envoxy.json"
                )
            _current[0] = load_auth_plugin(spec)
        loaded: Any = _current[0]
    return loaded
