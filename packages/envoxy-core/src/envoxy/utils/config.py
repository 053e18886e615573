"""The service configuration: one ``envoxy.json`` file, read once and cached.

:data:`Config` is used without instantiating anything::

    from envoxy.utils.config import Config, as_int

    Config.set_file_path("/etc/my-service/envoxy.json")   # tests and scripts
    log_section = Config.get("log")                         # {} when absent
    server = Config.server("psql_servers", "default")       # ConfigError if unknown
    port = as_int(server.get("port", 5432), "psql_servers.default.port")

The file is found, in order of precedence, from envoxyd's ``--set conf=PATH``
(``uwsgi.opt["conf"]`` under uWSGI, :meth:`Configuration.set_daemon_path` in the
launcher before uWSGI starts), the ``ENVOXY_CONFIG`` environment variable, then
:meth:`Configuration.set_file_path`. It is parsed at
most once (even when many threads ask at the same time) until
:meth:`~Configuration.reload` or :meth:`~Configuration.set_file_path`. Strings are
expanded with ``${VAR}`` / ``${VAR:-default}`` (see :mod:`envoxy.utils.interpolation`).

Nothing is read at import time.
"""

import os
import threading
from collections.abc import Callable
from typing import Any

from envoxy.exceptions import ConfigError
from envoxy.utils.conversions import as_bool, as_float, as_int
from envoxy.utils.interpolation import interpolate

__all__ = [
    "CONFIG_ENV_VAR",
    "Config",
    "Configuration",
    "CredentialsProvider",
    "as_bool",
    "as_float",
    "as_int",
]

#: The environment variable naming the configuration file.
CONFIG_ENV_VAR = "ENVOXY_CONFIG"

#: A zero-argument callable returning the service credentials (see ``get_credentials``).
type CredentialsProvider = Callable[[], dict[str, Any]]


class Configuration:
    """A cached, thread-safe view of one ``envoxy.json``.

    Use the shared instance :data:`Config`; separate instances are only useful in tests.

    :param file_path: the path to use when neither ``--set conf=`` nor ``ENVOXY_CONFIG``
        names one (same as calling :meth:`set_file_path`).
    """

    def __init__(self, file_path: str | os.PathLike[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._explicit_path: str | None = os.fspath(file_path) if file_path else None
        self._daemon_path: str | None = None
        self._data: dict[str, Any] | None = None
        self._loaded_path: str | None = None
        self._credentials_provider: CredentialsProvider | None = None

    @property
    def file_path(self) -> str | None:
        """The configuration file in use, by precedence, or ``None`` when none is known.

        Assigning to it is the same as calling :meth:`set_file_path`.
        """
        return _resolve_path(self._daemon_path, self._explicit_path)

    @file_path.setter
    def file_path(self, path: str | os.PathLike[str] | None) -> None:
        self.set_file_path(path)

    def set_file_path(self, path: str | os.PathLike[str] | None) -> None:
        """Use ``path`` (when ``--set conf=`` and ``ENVOXY_CONFIG`` name none) and drop the cache.

        :param path: the file, or ``None`` to forget the previous one.
        """
        with self._lock:
            self._explicit_path = os.fspath(path) if path else None
            self._data = None
            self._loaded_path = None

    def set_daemon_path(self, path: str | os.PathLike[str] | None) -> None:
        """Use ``path`` as envoxyd's ``--set conf=PATH``: it wins over ``ENVOXY_CONFIG``.

        envoxyd's launcher calls it before uWSGI runs (``uwsgi.opt`` does not exist yet),
        so a unit that exports ``ENVOXY_CONFIG`` cannot make the daemon serve another file.

        :param path: the file, or ``None`` to forget it.

        .. versionadded:: 1.1
        """
        with self._lock:
            self._daemon_path = os.fspath(path) if path else None
            self._data = None
            self._loaded_path = None

    def reload(self) -> None:
        """Drop the cache: the next :meth:`get` resolves the path and reads the file again."""
        with self._lock:
            self._data = None
            self._loaded_path = None

    def load(self) -> None:
        """Read and check the file now rather than on first use (envoxyd does this at startup).

        :raises ConfigError: as :meth:`get`.
        """
        self._document()

    def get(self, section: str) -> Any:
        """Return the top-level value ``section``, or a new ``{}`` when absent or no file is known.

        The value is the cached one: treat it as read-only.

        :param section: a top-level key of ``envoxy.json`` (e.g. ``"redis_servers"``).
        :raises ConfigError: when the file is missing, is not valid JSON (the message
            names the file, line and column), has a top level that is not an object, or
            references an unset environment variable without a default.
        """
        value = self._document().get(section)
        return {} if value is None else value

    def document(self) -> dict[str, Any]:
        """Return the whole parsed file (interpolation applied), ``{}`` when no file is known.

        It is the cached mapping every :meth:`get` reads: treat it as read-only.

        :raises ConfigError: as :meth:`get`.

        .. versionadded:: 1.1
        """
        return self._document()

    def plugins(self) -> Any:
        """Return the ``plugins`` section (``{}`` when absent).

        :raises ConfigError: as :meth:`get`.
        """
        return self.get("plugins")

    def server(self, section: str, key: str | None = None) -> dict[str, Any]:
        """Return the settings of server ``key`` in the ``*_servers`` section ``section``.

        :param section: e.g. ``"psql_servers"``.
        :param key: the server key; ``None`` means the section's ``default`` entry (when it
            is a string naming a key) or else its first server.
        :raises ConfigError: when the section has no such server (the message lists the
            known keys), or the entry is not an object, or as :meth:`get`.
        """
        servers = self.get(section)
        if not isinstance(servers, dict):
            raise ConfigError(
                f"{self._where()}: section {section!r} must be an object of server keys, "
                f"got {type(servers).__name__}"
            )
        known = [name for name, entry in servers.items() if isinstance(entry, dict)]
        if key is None:
            default = servers.get("default")
            key = default if isinstance(default, str) else (known[0] if known else "default")
        entry = servers.get(key)
        if not isinstance(entry, dict):
            if entry is None:
                problem = f"has no server key {key!r}"
            else:
                problem = f"entry {key!r} must be an object, got {type(entry).__name__}"
            raise ConfigError(
                f"{self._where()}: section {section!r} {problem}; known keys: "
                f"{', '.join(known) or '(none)'}. Add {section}.{key} to envoxy.json "
                "or use one of the known keys"
            )
        return entry

    def set_credentials_provider(self, provider: CredentialsProvider | None) -> None:
        """Register the zero-argument callable that :meth:`get_credentials` calls.

        :param provider: the callable, or ``None`` to remove it.
        """
        self._credentials_provider = provider

    def get_credentials(self) -> dict[str, Any]:
        """Return the registered provider's result, or ``{}`` when none is registered.

        This never does network I/O itself and never exits the process.
        """
        provider = self._credentials_provider
        if provider is None:
            return {}
        return provider() or {}

    def _document(self) -> dict[str, Any]:
        data = self._data
        if data is not None:
            return data
        with self._lock:
            if self._data is None:
                path = _resolve_path(self._daemon_path, self._explicit_path)
                self._data = _read_document(path) if path else {}
                self._loaded_path = path
            return self._data

    def _where(self) -> str:
        return self._loaded_path or "envoxy.json"


#: The shared configuration used by every Envoxy package.
Config = Configuration()


def _resolve_path(daemon_path: str | None, explicit_path: str | None) -> str | None:
    return _uwsgi_conf_path() or daemon_path or os.environ.get(CONFIG_ENV_VAR) or explicit_path


def _uwsgi_conf_path() -> str | None:
    """Return envoxyd's ``--set conf=PATH`` when running inside uWSGI."""
    try:
        import uwsgi
    except ImportError:
        return None
    value = getattr(uwsgi, "opt", {}).get("conf")
    if isinstance(value, list | tuple):
        value = value[-1] if value else None
    if isinstance(value, bytes):
        value = value.decode()
    return value or None


def _read_document(path: str) -> dict[str, Any]:
    import json

    try:
        with open(path, encoding="utf-8-sig") as stream:
            text = stream.read()
    except FileNotFoundError as exc:
        raise ConfigError(
            f"configuration file {path} does not exist; create it, or point "
            f"{CONFIG_ENV_VAR} or envoxyd's --set conf=PATH at an existing file"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc}") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(document, dict):
        raise ConfigError(
            f"{path}: the top level must be a JSON object of sections, "
            f"got {type(document).__name__}"
        )
    expanded: dict[str, Any] = interpolate(document, where=path)
    return expanded
