"""Environment-variable interpolation for configuration values.

Strings may reference the environment:

- ``${VAR}`` is replaced by the value of ``VAR``; an unset ``VAR`` is an error;
- ``${VAR:-default}`` uses ``default`` when ``VAR`` is unset or empty;
- ``$${`` is a literal ``${``; any other ``$`` is kept as it is.

Results stay strings: ``"${PORT:-5432}"`` gives ``"5432"``; numeric settings
convert it with :func:`envoxy.utils.conversions.as_int` and friends.
"""

import os
import re
from collections.abc import Mapping
from typing import Any

from envoxy.exceptions import ConfigError

__all__ = ["expand", "interpolate"]


def expand(text: str, environ: Mapping[str, str] | None = None, *, where: str = "") -> str:
    """Return ``text`` with every ``${VAR}``/``${VAR:-default}`` replaced.

    :param text: the string to expand.
    :param environ: the variables to read (default: :data:`os.environ`).
    :param where: where ``text`` comes from (e.g. ``"envoxy.json: redis_servers.default.bind"``),
        used in error messages.
    :raises ConfigError: for an unset variable without a default, naming it, or for a
        ``${`` that does not start a valid reference, naming its position (never the
        value, which may be a secret).
    """
    if "$" not in text:
        return text
    variables = os.environ if environ is None else environ
    return _REFERENCE.sub(lambda match: _replace(match, variables, where), text)


def interpolate(value: Any, environ: Mapping[str, str] | None = None, *, where: str = "") -> Any:
    """Expand every string inside ``value`` (dicts and lists are walked recursively).

    Dictionary keys are left alone. A new structure is returned; ``value`` is not changed.

    :param value: a JSON-like value (dict, list, str, number, bool or None).
    :param environ: the variables to read (default: :data:`os.environ`).
    :param where: the prefix of locations in error messages (e.g. the file name).
    :raises ConfigError: as :func:`expand`, with the location (``section.key[0]``) at fault.
    """
    variables = os.environ if environ is None else environ
    return _walk(value, variables, where, "")


#: ``$${`` (escaped), or ``${NAME}`` / ``${NAME:-default}``, or a ``${`` that matches neither.
_REFERENCE = re.compile(
    r"\$\$\{"
    r"|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    r"|\$\{(?P<bad>[^}]*\}?)"
)


def _replace(match: re.Match[str], environ: Mapping[str, str], where: str) -> str:
    name = match.group("name")
    if name is None:
        if match.group(0) == "$${":
            return "${"
        # The value is never shown: it may be a password with a stray "${" in it. The
        # location never ends in "name:" either, which log redaction would take for a secret.
        location = f" of {where}" if where else ""
        raise ConfigError(
            f"the '${{' at character {match.start() + 1}{location} does not start a valid "
            "variable reference; write ${NAME} or ${NAME:-default} (NAME: letters, digits, _), "
            "or $${ for a literal ${ (the value is not shown: it may be a secret)"
        )
    default = match.group("default")
    value = environ.get(name)
    if default is not None:
        return value if value else default
    if value is None:
        location = f" (in {where})" if where else ""
        raise ConfigError(
            f"environment variable {name} is not set{location}; "
            f"export {name} or give a default with ${{{name}:-value}}"
        )
    return value


def _walk(value: Any, environ: Mapping[str, str], where: str, path: str) -> Any:
    if isinstance(value, str):
        if "$" not in value:
            return value
        location = f"{where}: {path}" if where and path else (where or path)
        return expand(value, environ, where=location)
    if isinstance(value, dict):
        return {
            key: _walk(item, environ, where, f"{path}.{key}" if path else str(key))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_walk(item, environ, where, f"{path}[{index}]") for index, item in enumerate(value)]
    return value
