"""Import optional third-party modules with an error that says what to install."""

import importlib
from types import ModuleType

from envoxy.exceptions import MissingDependencyError

__all__ = ["require"]


def require(module_name: str, extra: str) -> ModuleType:
    """Import ``module_name``, or explain which distribution or extra provides it.

    ::

        redis = require("redis", "envoxy-dispatch[redis]")

    :param module_name: the dotted module to import, e.g. ``"paho.mqtt.client"``.
    :param extra: what to ``pip install`` when it is missing, e.g. ``"envoxy-dispatch[mqtt]"``.
    :raises MissingDependencyError: when ``module_name`` (or a package containing it) is not
        installed; the message names ``pip install <extra>``. An import error *inside* an
        installed module is not hidden: it propagates unchanged.
    """
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if not missing or not (module_name + ".").startswith(missing + "."):
            raise
        raise MissingDependencyError(
            f"{module_name} is not installed; install it with `pip install '{extra}'`",
            name=module_name,
        ) from exc
