"""Errors of envoxy-alembic; each becomes one line and a non-zero exit in the CLI."""

from envoxy.exceptions import EnvoxyError

__all__ = [
    "DatabaseURLError",
    "MigrationError",
    "MigrationLockTimeoutError",
    "ModelImportError",
    "NoModelsError",
]


class MigrationError(EnvoxyError):
    """Root of the errors envoxy-alembic reports without a traceback."""


class DatabaseURLError(MigrationError):
    """No database could be determined from the environment or envoxy.json."""


class ModelImportError(MigrationError):
    """A module named in ``SERVICE_MODELS`` could not be imported."""


class NoModelsError(MigrationError):
    """A command needs models (autogenerate, check) but no table was found."""


class MigrationLockTimeoutError(MigrationError):
    """Another run kept the namespace's migration lock past ``ENVOXY_ALEMBIC_LOCK_TIMEOUT``."""
