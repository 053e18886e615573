"""What envoxy 0.7 services expect of the ``uwsgi`` module: it imports, and ``uwsgi.opt``
holds the configuration.

0.7's envoxyd parsed ``envoxy.json`` once and put the parsed mapping in
``uwsgi.opt["conf_content"]``, the ``plugins`` section in ``uwsgi.opt["plugins"]`` and
the fetched credentials in ``uwsgi.opt["credentials"]``; service code read them
directly, and view modules often ``import uwsgi`` at their top. Under envoxyd 1.x:

- the launcher imports the view modules before uWSGI runs, when no ``uwsgi`` module
  exists: :func:`install_stand_in` registers one whose ``opt`` already holds the three
  keys. When uWSGI starts it fills that very module (it looks ``uwsgi`` up in
  ``sys.modules``), so ``import uwsgi`` done by a view module at load time and one
  done in a handler give the same module, functions included;
- :func:`bind` (in the master, once uWSGI runs) puts the keys in the real ``uwsgi.opt``
  beside uWSGI's own options, so every worker and the mule inherit them;
- :func:`publish_credentials` keeps ``uwsgi.opt["credentials"]`` current in the process
  whose credentials were fetched.

``Config.get(...)`` and ``Config.get_credentials()`` are the ways to prefer (see
docs/MIGRATING.md); these keys exist so that 0.7 code runs unchanged.
"""

import sys
import types
from collections.abc import Mapping
from typing import Any

__all__ = ["LEGACY_KEYS", "bind", "install_stand_in", "legacy_options", "publish_credentials"]

#: the ``uwsgi.opt`` keys 0.7 services read
LEGACY_KEYS = ("conf_content", "plugins", "credentials")


def legacy_options(document: Mapping[str, Any]) -> dict[str, Any]:
    """Return the 0.7 ``uwsgi.opt`` entries for the parsed ``envoxy.json`` ``document``."""
    plugins = document.get("plugins")
    return {
        "conf_content": document,
        "plugins": plugins if isinstance(plugins, Mapping) else {},
        "credentials": {},
    }


def install_stand_in(options: Mapping[str, Any]) -> types.ModuleType:
    """Register a ``uwsgi`` module holding ``opt`` (the 0.7 keys) while uWSGI is not running.

    Nothing is replaced when a ``uwsgi`` module exists already (under uWSGI itself).

    :returns: the ``uwsgi`` module now in :data:`sys.modules`.
    """
    module = sys.modules.get("uwsgi")
    if module is None:
        module = _UwsgiStandIn("uwsgi", "uWSGI's module (envoxyd stand-in until uWSGI runs)")
        opt = dict(options)
        module.opt = opt
        _stand_in_opt[0] = opt
        sys.modules["uwsgi"] = module
    return module


def bind(options: Mapping[str, Any]) -> None:
    """Add the 0.7 keys to the running uWSGI's ``uwsgi.opt`` (call it in the master).

    When a view module took ``from uwsgi import opt`` before uWSGI ran, that dict is the
    one kept, updated with uWSGI's own options, so both names see the same mapping.
    """
    import uwsgi

    real: Any = getattr(uwsgi, "opt", None)
    kept = _stand_in_opt[0]
    if isinstance(kept, dict) and kept is not real:
        if isinstance(real, Mapping):
            kept.update(real)
        uwsgi.opt = kept
        real = kept
    if not isinstance(real, dict):
        real = dict(real) if isinstance(real, Mapping) else {}
        uwsgi.opt = real
    real.update(options)


def publish_credentials(credentials: Any) -> None:
    """Set ``uwsgi.opt["credentials"]`` in this process, when it runs under uWSGI."""
    module = sys.modules.get("uwsgi")
    opt = getattr(module, "opt", None) if module is not None else None
    if isinstance(opt, dict):
        opt["credentials"] = credentials


#: the ``opt`` dict the stand-in was created with (``from uwsgi import opt`` may hold it)
_stand_in_opt: list[dict[str, Any] | None] = [None]


class _UwsgiStandIn(types.ModuleType):
    """``uwsgi`` before uWSGI runs: ``opt`` only; anything else says when it will exist."""

    opt: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"uwsgi.{name} is not available while envoxyd loads the view modules (uWSGI is "
            "not running yet); use it inside handlers, or read uwsgi.opt"
        )
