"""Exceptions shared by every Envoxy distribution.

Hierarchy::

    EnvoxyError
    ├── ConfigError (also ValueError)      a bad or missing envoxy.json, or a bad setting
    ├── MissingDependencyError (also ImportError)  an optional distribution or extra is absent
    ├── ValidationException                a request failed validation (carries code and status)
    └── ClientError                        a client call to a server did not complete
        ├── ConnectError                   the server could not be reached (after the retries)
        ├── TimeoutError                   connect, read or pool wait passed its deadline
        └── ProtocolError                  the server answered something the client cannot use

``ValidationException`` keeps the shape of the original project: the daemon turns
it into an HTTP error with its ``status`` and ``code``.

Each client's errors extend the :class:`ClientError` branch (``RedisTimeoutError`` is a
:class:`TimeoutError`, pgsqlc's ``PoolTimeoutError`` too), so code that does not care
which client failed catches the kind of failure. Client code never raises an
HTTP-flavoured error; the daemon maps these to HTTP in one place (an outage, that is a
:class:`ConnectError` or :class:`TimeoutError`, answers 503 with ``Retry-After``).
:class:`TimeoutError` is not the built-in of the same name: import it from here.
"""

from typing import Any

__all__ = [
    "ClientError",
    "ConfigError",
    "ConnectError",
    "EnvoxyError",
    "MissingDependencyError",
    "ProtocolError",
    "TimeoutError",
    "ValidationException",
]


class EnvoxyError(Exception):
    """Root of the errors raised by Envoxy itself."""


class ConfigError(EnvoxyError, ValueError):
    """The configuration is missing, malformed, or a setting is invalid.

    The message names the file, section or key at fault and how to fix it.
    """


class MissingDependencyError(EnvoxyError, ImportError):
    """An optional distribution or extra is not installed.

    The message names what to install, e.g. ``pip install envoxy-dispatch[redis]``.
    """


class ValidationException(EnvoxyError):
    """A validation failure with an application ``code`` and an HTTP ``status``.

    :param args: the message first; ``str(exc)`` is the message.
    :param kwargs: ``code`` (default 0) and ``status`` (default 500, converted
        with :func:`int`); every keyword is kept in :attr:`kwargs`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args)
        self.kwargs: dict[str, Any] = kwargs
        self.code: Any = kwargs.get("code", 0)
        self.status: int = int(kwargs.get("status", 500))

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_validation_exception, (type(self), self.args, self.kwargs))


class ClientError(EnvoxyError):
    """A client (``redisc``, ``pgsqlc``, ``couchdbc``, ``mqttc``, ``zmqc``, ``celeryc``)
    could not complete a call to its server.

    The message names the client and server key; the library's own error is chained
    as ``__cause__``.
    """


class ConnectError(ClientError):
    """The server could not be reached: refused, unresolvable, TLS failure, or a
    connection that broke mid-call, after the client's retries."""


class TimeoutError(ClientError):
    """A connect, a read or the wait for a pooled connection passed its deadline
    (the server may be frozen, overloaded or behind a path that stopped forwarding)."""


class ProtocolError(ClientError):
    """The server answered, but with something the client cannot use (a malformed or
    unexpected reply)."""


def _rebuild_validation_exception(
    cls: type[ValidationException], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> ValidationException:
    return cls(*args, **kwargs)
