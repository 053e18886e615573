"""The shape of a client's settings class, and the converters every one of them uses.

A settings class is a frozen dataclass built from one ``<section>.<key>`` object of
``envoxy.json`` by ``from_config(key, conf)``. It names where it came from
(``where``, e.g. ``"redis_servers.cache"``, in every message) and declares the keys it
reads (``KEYS``), so ``envoxyd`` can warn about the others at startup::

    @dataclass(frozen=True, slots=True)
    class PingSettings:
        SECTION: ClassVar[str] = "ping_servers"
        KEYS: ClassVar[frozenset[str]] = frozenset({"bind", "timeout"})

        where: str
        host: str
        port: int
        timeout: float | None

        @classmethod
        def from_config(cls, key, conf, *, where=None):
            where = where or f"{cls.SECTION}.{key}"
            host, port = host_port(conf, where, default_host="127.0.0.1", default_port=7)
            return cls(where, host, port, timeout(conf, "timeout", 5.0, where))

Each converter reads one setting of ``conf`` and raises
:class:`~envoxy.exceptions.ConfigError` naming ``<where>.<setting>`` and the fix.
Numbers may be written as strings (interpolated values are strings).
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self
from urllib.parse import unquote, urlsplit

from envoxy.exceptions import ConfigError
from envoxy.utils.config import Config
from envoxy.utils.conversions import as_float, as_int
from envoxy.utils.redaction import safe_repr

__all__ = [
    "ServerSettings",
    "Url",
    "host_port",
    "integer",
    "optional_str",
    "seconds",
    "server_conf",
    "timeout",
    "url",
]


class ServerSettings(Protocol):
    """What every client's settings class provides (``RedisSettings``, ``MqttServerSettings``...).

    ``SECTION`` is its ``envoxy.json`` section, ``KEYS`` every key it reads in a server
    object, ``where`` the location named in messages.
    """

    SECTION: ClassVar[str]
    KEYS: ClassVar[frozenset[str]]

    @property
    def where(self) -> str:
        """The config location, e.g. ``"redis_servers.cache"``."""
        ...

    @classmethod
    def from_config(cls, key: str, conf: Mapping[str, Any], *, where: str | None = None) -> Self:
        """Build the settings of server ``key`` from its object ``conf``.

        :param where: the location named in messages; default ``"<SECTION>.<key>"``.
        :raises ConfigError: a value has the wrong type or range, naming the setting.
        """
        ...


def server_conf(
    section: str, key: str, servers: Mapping[str, Any] | None = None
) -> Mapping[str, Any]:
    """Return the object of server ``key``: from ``servers`` when a client was given its
    servers (tests, 0.7's ``Client(server_conf)``), else from ``section`` of ``envoxy.json``.

    :raises ConfigError: no such server key; the message lists the known ones.
    """
    if servers is None:
        return Config.server(section, key)
    conf = servers.get(key)
    if not isinstance(conf, Mapping):
        known = ", ".join(
            sorted(name for name, entry in servers.items() if isinstance(entry, Mapping))
        )
        raise ConfigError(
            f"{section} has no server key {key!r} (known keys: {known or 'none'}); "
            f"add it to the {section} section"
        )
    return conf


@dataclass(frozen=True, slots=True)
class Url:
    """A validated server URL (see :func:`url`); user and password are percent-decoded."""

    scheme: str
    host: str
    port: int | None
    user: str | None
    password: str | None
    path: str
    query: str

    @property
    def netloc(self) -> str:
        """``host[:port]`` without credentials (an IPv6 host in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"


def timeout(conf: Mapping[str, Any], name: str, default: float | None, where: str) -> float | None:
    """Return a timeout in seconds: positive; ``null`` means no timeout, stated explicitly.

    :param default: the value when ``name`` is missing.
    :raises ConfigError: not a number, or not positive.
    """
    if name not in conf:
        return default
    if conf[name] is None:
        return None
    value = as_float(conf[name], f"{where}.{name}")
    if value <= 0:
        raise ConfigError(
            f"{where}.{name} must be a positive number of seconds, or null for no timeout; "
            f"not {value:g}"
        )
    return value


def seconds(
    conf: Mapping[str, Any], name: str, default: float, where: str, *, zero: bool = False
) -> float:
    """Return a duration in seconds that must be given (``null`` is refused).

    :param zero: accept 0 (e.g. "retry at once"); otherwise it must be positive.
    :raises ConfigError: not a number, negative, or 0 without ``zero``.
    """
    value = as_float(conf.get(name, default), f"{where}.{name}")
    if value < 0 or (value == 0 and not zero):
        wanted = "0 or more seconds" if zero else "a positive number of seconds"
        raise ConfigError(f"{where}.{name} must be {wanted}, not {value:g}")
    return value


def integer(
    conf: Mapping[str, Any], name: str, default: int, where: str, *, minimum: int | None = None
) -> int:
    """Return an integer setting (``"5"`` and ``5.0`` count as 5).

    :param minimum: the smallest value allowed (``1`` for counts and sizes).
    :raises ConfigError: not an integer, or below ``minimum``.
    """
    value = as_int(conf.get(name, default), f"{where}.{name}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where}.{name} must be {minimum} or more, not {value}")
    return value


def optional_str(conf: Mapping[str, Any], name: str, where: str) -> str | None:
    """Return a text setting, or None when it is missing, ``null`` or ``""``.

    Numbers count as their text (``"passwd": 1234`` is ``"1234"``).

    :raises ConfigError: a boolean, list or object.
    """
    value = conf.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ConfigError(f"{where}.{name} must be a string, not {type(value).__name__}")


def host_port(
    conf: Mapping[str, Any],
    where: str,
    *,
    default_host: str | None,
    default_port: int | None,
) -> tuple[str, int]:
    """Return ``(host, port)`` from ``bind`` (``"host:port"``, ``"[::1]:port"`` or a bare
    host) or else from ``host`` and ``port``.

    :param default_host: the host when none is given; None makes ``host`` required.
    :param default_port: the port when none is given; None makes ``port`` required.
    :raises ConfigError: ``bind`` is not a string, a port is not an integer, or a
        required value is missing.
    """
    bind = conf.get("bind")
    host: Any
    port: Any
    if bind:
        if not isinstance(bind, str):
            raise ConfigError(f"{where}.bind must be a 'host:port' string, not {bind!r}")
        host, separator, port = bind.rpartition(":")
        if not separator or not host:
            # a bare host name: the port comes from "port" or the default
            host, port = bind, conf.get("port", default_port)
        name = f"{where}.bind port"
    else:
        host, port, name = conf.get("host") or default_host, conf.get("port"), f"{where}.port"
        if port is None or port == "":
            port = default_port
    if not host or port is None:
        raise ConfigError(
            f"{where} needs 'host' and 'port' (or 'bind': 'host:port'), e.g. "
            f'"host": "127.0.0.1", "port": {default_port or 5555}'
        )
    return str(host).strip("[]"), as_int(port, name)


def url(value: Any, name: str, *, schemes: Collection[str], example: str, path: bool = True) -> Url:
    """Return the parts of a server URL, checked.

    :param value: the setting's value.
    :param name: the setting, e.g. ``"couchdb_servers.main.bind"``.
    :param schemes: the schemes allowed (compared in lower case).
    :param example: a valid URL shown in messages.
    :param path: allow a path, query string and fragment.
    :raises ConfigError: not a string, another scheme, no host, a bad port, or a path
        where none is allowed. The value is shown without its credentials.
    """
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{name} is required: the server URL, e.g. {example}")
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in schemes or not parts.hostname:
        allowed = " or ".join(f"{allowed}://" for allowed in sorted(schemes))
        raise ConfigError(
            f"{name} must start with {allowed} and name a host (e.g. {example}), "
            f"not {safe_repr(value)}"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{name} has an invalid port: {exc}") from None
    if not path and (parts.path not in ("", "/") or parts.query or parts.fragment):
        raise ConfigError(
            f"{name} must be {scheme}://[user:password@]host[:port]; percent-encode "
            "'/', '?', '#' and '@' in the user and password"
        )
    return Url(
        scheme=scheme,
        host=parts.hostname,
        port=port,
        user=None if parts.username is None else unquote(parts.username),
        password=None if parts.password is None else unquote(parts.password),
        path=parts.path,
        query=parts.query,
    )
