"""Exceptions shared by every Envoxy distribution.

Hierarchy::

    EnvoxyError
    ├── ConfigError (also ValueError)      a bad or missing envoxy.json, or a bad setting
    ├── MissingDependencyError (also ImportError)  an optional distribution or extra is absent
    └── ValidationException                a request failed validation (carries code and status)

``ValidationException`` keeps the shape of the original project: the daemon turns
it into an HTTP error with its ``status`` and ``code``.
"""

from typing import Any

__all__ = ["ConfigError", "EnvoxyError", "MissingDependencyError", "ValidationException"]


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


def _rebuild_validation_exception(
    cls: type[ValidationException], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> ValidationException:
    return cls(*args, **kwargs)
