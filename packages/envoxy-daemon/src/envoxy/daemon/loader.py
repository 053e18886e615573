"""Loading view classes from ``modules`` (file paths) or ``packages`` (``<pkg>.loader``).

Each module lists its views in a module-level ``VIEWS`` list (the original
``__loader__`` list is still read; a module may keep both, holding the same views). A
module without a non-empty list is skipped with a warning. Every failure is a startup
error whose message is one line naming the file, package or class at fault.

.. versionchanged:: 1.1
   ``VIEWS``; a view's route is its ``route_spec`` (:mod:`envoxy.views.route_spec`).
"""

import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from envoxy.daemon.exceptions import ViewLoadError
from envoxy.daemon.settings import DaemonSettings
from envoxy.decorators import AUTH_MARKER, CACHE_MARKER
from envoxy.utils.logs import log
from envoxy.views.base import HANDLER_NAMES, View
from envoxy.views.exceptions import InvalidViewError
from envoxy.views.route_spec import PROTOCOLS, route_spec_of

__all__ = ["load_view_classes", "needs_auth_plugin", "uses_cache", "validate_view_class"]


def load_view_classes(settings: DaemonSettings) -> list[type[View]]:
    """Import the configured ``modules`` or ``packages`` and return their view classes.

    :raises ViewLoadError: when a module or package cannot be imported, or lists
        different views in ``VIEWS`` and ``__loader__``.
    :raises InvalidViewError: when a listed entry is not a usable view.
    """
    classes: list[type[View]] = []
    for path in settings.modules:
        module = _import_file(path, settings.config_dir)
        classes.extend(_views_of(module, path))
    for package in settings.packages:
        name = f"{package}.loader"
        try:
            module = importlib.import_module(name)
        except Exception as exc:
            raise ViewLoadError(
                f"cannot import views package {name!r}: {type(exc).__name__}: {exc}"
            ) from exc
        classes.extend(_views_of(module, name))
    for cls in classes:
        validate_view_class(cls)
    return classes


def validate_view_class(cls: Any) -> None:
    """Check that ``cls`` is a decorated :class:`View` subclass.

    :raises InvalidViewError: for a non-View, a missing ``@on(endpoint=...)``, an MQTT
        view without ``server`` or ``on_event``, or a view with no handler.
    """
    if not (isinstance(cls, type) and issubclass(cls, View)):
        raise InvalidViewError(f"VIEWS entry {cls!r} is not a subclass of envoxy.views.View")
    name = f"{cls.__module__}.{cls.__qualname__}"
    try:
        spec = route_spec_of(cls)
    except TypeError as exc:
        raise InvalidViewError(f"view {name}: {exc}") from exc
    if spec is None:
        raise InvalidViewError(f"view {name} has no endpoint: decorate it with @on(endpoint=...)")
    protocols = list(spec.protocols)
    unknown = [protocol for protocol in protocols if protocol not in PROTOCOLS]
    if unknown or not protocols:
        raise InvalidViewError(
            f"view {name} declares unknown protocols {unknown or protocols}; use http or mqtt"
        )
    if "mqtt" in protocols:
        if not spec.server:
            raise InvalidViewError(
                f"MQTT view {name} has no server: add server='<mqtt_servers key>' to @on"
            )
        if not callable(getattr(cls, "on_event", None)):
            raise InvalidViewError(f"MQTT view {name} defines no on_event(self, data, **meta)")
    if "http" in protocols and not cls.http_methods:
        raise InvalidViewError(f"HTTP view {name} defines none of get, post, put, patch, delete")


def needs_auth_plugin(classes: Iterable[type[View]]) -> list[str]:
    """Return ``Class.method`` names of handlers wrapped by an auth decorator."""
    return _marked(classes, AUTH_MARKER)


def uses_cache(classes: Iterable[type[View]]) -> list[str]:
    """Return ``Class.method`` names of handlers wrapped by ``@cache``."""
    return _marked(classes, CACHE_MARKER)


def _marked(classes: Iterable[type[View]], marker: str) -> list[str]:
    used = []
    for cls in classes:
        for method in HANDLER_NAMES:
            handler = getattr(cls, method, None)
            if handler is not None and getattr(handler, marker, None):
                used.append(f"{cls.__qualname__}.{method}")
    return used


def _import_file(path: str, base_dir: str) -> ModuleType:
    full_path = os.path.abspath(os.path.join(base_dir, path))
    if not os.path.isfile(full_path):
        raise ViewLoadError(f"views module {path!r} not found (looked at {full_path})")
    directory = os.path.dirname(full_path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    stem = os.path.splitext(os.path.basename(full_path))[0]
    digest = hashlib.sha1(full_path.encode(), usedforsecurity=False).hexdigest()[:10]
    module_name = f"envoxy_views_{stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, full_path)
    if spec is None or spec.loader is None:
        raise ViewLoadError(f"views module {path!r} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise ViewLoadError(
            f"cannot import views module {path!r}: {type(exc).__name__}: {exc}"
        ) from exc
    return module


def _views_of(module: ModuleType, label: str) -> list[Any]:
    names = module.__dict__
    views = names.get("VIEWS")
    legacy = names.get("__loader__")  # also Python's own loader object: only a list counts
    legacy = list(legacy) if isinstance(legacy, list | tuple) else None
    if views is None:
        entries = legacy
    elif not isinstance(views, list | tuple):
        raise ViewLoadError(f"{label}: VIEWS must be a list of view classes, got {views!r}")
    else:
        entries = list(views)
        if legacy is not None and legacy != entries:
            raise ViewLoadError(
                f"{label} lists different views in VIEWS and __loader__: keep VIEWS "
                "(or make __loader__ the same list)"
            )
    if not entries:
        log.warning(f"{label} has no non-empty VIEWS list of views: skipped")
        return []
    return entries
