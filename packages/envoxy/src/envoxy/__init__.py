"""Envoxy, a platform framework for Python microservices.

This package only gathers the public API of the Envoxy distributions under one
name, so ``from envoxy import mqttc, View, on`` keeps working whichever of them
are installed. Every name is imported on first use (PEP 562): ``import envoxy``
reads no configuration, opens no connection and imports no third-party library.
Only the public constants of ``envoxy.constants`` (pure Python) are bound eagerly.

A name whose distribution is not installed raises
:class:`envoxy.exceptions.MissingDependencyError` saying what to install. When the
files of installed Envoxy distributions are missing (``pip install -U envoxy`` over
envoxy 0.7 removes some of them, see docs/MIGRATING.md), ``import envoxy`` raises an
``ImportError`` naming them and the one command that restores them.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

import importlib
from typing import TYPE_CHECKING, Any


def _broken_install(error: ImportError) -> ImportError:
    """Name the Envoxy distributions whose files are gone, and the command restoring them
    (or return ``error`` itself when no file is missing)."""
    import csv
    import sys
    from importlib.metadata import distributions

    broken: dict[str, tuple[str, list[str]]] = {}
    for dist in distributions():
        name = str(dist.metadata["Name"] or "")
        if not name.lower().startswith("envoxy-"):
            continue
        # the RECORD itself: Distribution.files leaves out the files that are gone
        record = csv.reader((dist.read_text("RECORD") or "").splitlines())
        paths = [row[0] for row in record if row and row[0].endswith(".py")]
        gone = [path for path in paths if not dist.locate_file(path).exists()]  # type: ignore[attr-defined]
        if gone:
            broken[name] = (dist.version, gone)
    if not broken:
        return error
    listed = "; ".join(
        f"{name} {version}: {', '.join(gone[:3])}{' ...' if len(gone) > 3 else ''}"
        for name, (version, gone) in sorted(broken.items())
    )
    pins = " ".join(f"{name}=={version}" for name, (version, _) in sorted(broken.items()))
    return ImportError(
        f"the Envoxy installation is incomplete, files are missing ({listed}). This happens "
        "after 'pip install -U envoxy' over envoxy 0.7: pip removes the old package's files "
        "after installing the new distributions, and some of those files now belong to "
        f"them. Restore them with: {sys.executable} -m pip install --force-reinstall "
        f"--no-deps {pins}"
    )


try:
    from envoxy import constants
    from envoxy.constants import __all__ as _constant_names
except ImportError as _exc:  # diagnosed only once the import failed: no cost otherwise
    raise _broken_install(_exc) from _exc

if TYPE_CHECKING:
    # "X as X" marks an explicit re-export for type checkers (PEP 484).
    from envoxy.auth import authenticate as authenticate
    from envoxy.cache import Cache as Cache
    from envoxy.celery import celeryc as celeryc
    from envoxy.constants import *  # noqa: F403
    from envoxy.couchdb import couchdbc as couchdbc
    from envoxy.decorators import auth_anonymous_allowed as auth_anonymous_allowed
    from envoxy.decorators import auth_required as auth_required
    from envoxy.decorators import cache as cache
    from envoxy.decorators import log_event as log_event
    from envoxy.decorators import on as on
    from envoxy.mqtt import mqttc as mqttc
    from envoxy.postgresql import pgsqlc as pgsqlc
    from envoxy.redis import redisc as redisc
    from envoxy.tools.alembic import alembic_config_path as alembic_config_path
    from envoxy.utils.config import Config as Config
    from envoxy.utils.logs import Log as Log
    from envoxy.utils.logs import log as log
    from envoxy.utils.watchdog import Watchdog as Watchdog
    from envoxy.views import View as View
    from envoxy.views.containers import Response as Response
    from envoxy.zeromq import zmqc as zmqc

    __version__: str

#: public name -> (module, attribute, what to pip install)
_LAZY_EXPORTS: dict[str, tuple[str, str, str]] = {
    "mqttc": ("envoxy.mqtt", "mqttc", "envoxy-dispatch[mqtt]"),
    "redisc": ("envoxy.redis", "redisc", "envoxy-dispatch[redis]"),
    "pgsqlc": ("envoxy.postgresql", "pgsqlc", "envoxy-dispatch[postgres]"),
    "couchdbc": ("envoxy.couchdb", "couchdbc", "envoxy-dispatch[couchdb]"),
    "zmqc": ("envoxy.zeromq", "zmqc", "envoxy-dispatch[zmq]"),
    "celeryc": ("envoxy.celery", "celeryc", "envoxy-dispatch[celery]"),
    "Cache": ("envoxy.cache", "Cache", "envoxy-dispatch[redis]"),
    "Response": ("envoxy.views.containers", "Response", "envoxy-daemon"),
    "View": ("envoxy.views", "View", "envoxy-daemon"),
    "on": ("envoxy.decorators", "on", "envoxy-daemon"),
    "auth_required": ("envoxy.decorators", "auth_required", "envoxy-daemon"),
    "auth_anonymous_allowed": ("envoxy.decorators", "auth_anonymous_allowed", "envoxy-daemon"),
    # the view decorator. Importing the package ``envoxy.cache`` binds this attribute to
    # the package (Python sets a submodule on its parent), which is callable too: calling
    # it applies this decorator with a DeprecationWarning.
    "cache": ("envoxy.decorators", "cache", "envoxy-daemon"),
    "log_event": ("envoxy.decorators", "log_event", "envoxy-daemon"),
    "authenticate": ("envoxy.auth", "authenticate", "envoxy-daemon"),
    "log": ("envoxy.utils.logs", "log", "envoxy-core"),
    "Log": ("envoxy.utils.logs", "Log", "envoxy-core"),
    "Config": ("envoxy.utils.config", "Config", "envoxy-core"),
    "Watchdog": ("envoxy.utils.watchdog", "Watchdog", "envoxy-core"),
    "alembic_config_path": ("envoxy.tools.alembic", "alembic_config_path", "envoxy-alembic"),
}

__all__ = [*_LAZY_EXPORTS, "constants", "__version__", *_constant_names]

# Bind the public constants eagerly: envoxy.constants is pure Python and cheap.
globals().update({name: getattr(constants, name) for name in _constant_names})


def __getattr__(name: str) -> Any:
    """Import a public name on first use and cache it in the module globals.

    :raises AttributeError: ``name`` is not part of the public API.
    :raises MissingDependencyError: the distribution providing ``name`` is not installed,
        or an installed Envoxy distribution lacks a module it needs (versions out of step).
    """
    if name == "__version__":
        value: Any = _installed_version()
    elif name in _LAZY_EXPORTS:
        value = _import_export(name)
    elif name.isupper():  # deprecated constants (REDIS_DEFAULT_*): envoxy.constants warns
        try:
            value = getattr(constants, name)
        except AttributeError:
            raise AttributeError(f"module 'envoxy' has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module 'envoxy' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _import_export(name: str) -> Any:
    module_name, attribute, distribution = _LAZY_EXPORTS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if (module_name + ".").startswith(missing + "."):
            message = (
                f"envoxy.{name} needs {distribution.split('[')[0]}, which is not installed: "
                f"pip install '{distribution}'"
            )
        elif missing.startswith("envoxy."):
            message = (
                f"envoxy.{name} imports {missing}, which the installed Envoxy distributions "
                "lack (their versions are out of step): pip install --upgrade envoxy"
            )
        else:
            raise
        from envoxy.exceptions import MissingDependencyError

        raise MissingDependencyError(message, name=missing) from exc
    return getattr(module, attribute)


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("envoxy")
    except PackageNotFoundError:
        return "unknown"
