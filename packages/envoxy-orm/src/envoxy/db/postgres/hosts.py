"""Several PostgreSQL hosts for one ``psql_servers`` key, and which of them to use.

A primary with standbys, or a pair of poolers, is one key with a host list::

    "main": {"hosts": ["db-a:5432", "db-b:5433"], "target_session_attrs": "read-write",
             "db": "app", "user": "app", "passwd": "..."}

libpq tries the hosts in order (``host=db-a,db-b port=5432,5433``) and keeps the first
that accepts the connection and has the wanted role (``target_session_attrs``):
after a failover, a new connection finds the new primary by itself. ``pgsqlc`` and the
ORM engines read the same keys; a ``url`` may carry the list in SQLAlchemy's form
instead (``postgresql://user:pw@/app?host=db-a:5432&host=db-b:5433``). Each host gets
the whole ``connect_timeout``, so a dead first host delays a connect by that much;
``pgsqlc``'s call deadline still bounds the whole call. Importing this module imports
no driver.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from envoxy.exceptions import ConfigError
from envoxy.utils.conversions import as_int

__all__ = [
    "DEFAULT_PORT",
    "TARGET_SESSION_ATTRS",
    "host_list",
    "libpq_hosts",
    "parse_host",
    "target_session_attrs",
]

DEFAULT_PORT = 5432
#: libpq's ``target_session_attrs`` values (libpq 14 and later).
TARGET_SESSION_ATTRS = frozenset(
    {"any", "read-write", "read-only", "primary", "standby", "prefer-standby"}
)


def host_list(conf: Mapping[str, Any], where: str) -> list[tuple[str, int]] | None:
    """Return the ``hosts`` of a ``psql_servers`` entry as ``(host, port)`` pairs, or None.

    ``hosts`` is a list of ``"host"``/``"host:port"``/``"[v6]:port"`` strings (or one
    comma-separated string); an entry without a port takes ``port`` (default 5432).

    :raises ConfigError: ``hosts`` is empty or not strings, a port is not a number, or
        ``host`` is given too.
    """
    given = conf.get("hosts")
    if given is None:
        return None
    if conf.get("host"):
        raise ConfigError(
            f"{where} has both host and hosts: keep hosts (a list of 'host:port') alone"
        )
    entries: Sequence[Any] = given.split(",") if isinstance(given, str) else given
    if not isinstance(entries, list | tuple) or not entries:
        raise ConfigError(f"{where}.hosts must be a non-empty list of 'host:port' strings")
    default_port = as_int(conf.get("port", DEFAULT_PORT), f"{where}.port")
    hosts = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, str) or not entry.strip():
            raise ConfigError(f"{where}.hosts[{index}] must be a 'host:port' string, not {entry!r}")
        hosts.append(parse_host(entry.strip(), default_port, f"{where}.hosts[{index}]"))
    return hosts


def parse_host(entry: str, default_port: int, where: str) -> tuple[str, int]:
    """Split ``host``, ``host:port`` or ``[v6]:port`` into ``(host, port)``.

    :raises ConfigError: the port is not a number.
    """
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    else:  # a bare host name, or a bare IPv6 address
        host, port = entry, ""
    return host, as_int(port, f"{where} port") if port else default_port


def libpq_hosts(hosts: Sequence[tuple[str, int]]) -> dict[str, str]:
    """Return libpq's ``host`` and ``port`` keywords for a host list (comma-separated)."""
    return {
        "host": ",".join(host for host, _ in hosts),
        "port": ",".join(str(port) for _, port in hosts),
    }


def target_session_attrs(conf: Mapping[str, Any], where: str) -> str | None:
    """Return the entry's ``target_session_attrs``, or None when not set.

    :raises ConfigError: not one of :data:`TARGET_SESSION_ATTRS`.
    """
    value = conf.get("target_session_attrs")
    if value is None or value == "":
        return None
    if value not in TARGET_SESSION_ATTRS:
        raise ConfigError(
            f"{where}.target_session_attrs is {value!r}; use one of "
            f"{', '.join(sorted(TARGET_SESSION_ATTRS))} (read-write finds the primary)"
        )
    return str(value)
