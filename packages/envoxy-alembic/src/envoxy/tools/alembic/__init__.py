"""Packaged Alembic migrations for services built on envoxy-orm.

Run ``envoxy-alembic`` (or ``python -m envoxy.tools.alembic``) from a service's
folder: the migrations folder is created on first use, models come from
``SERVICE_MODELS`` and the database from ``SERVICE_DB_URL`` or ``psql_servers`` in
envoxy.json. See docs/HOWTO-migrations.md.

Modules: :mod:`~envoxy.tools.alembic.cli` (the command),
:mod:`~envoxy.tools.alembic.settings` (environment variables),
:mod:`~envoxy.tools.alembic.setup` (migrations folder and Alembic config),
:mod:`~envoxy.tools.alembic.environment` (what each service's env.py runs),
:mod:`~envoxy.tools.alembic.locking` (one migration at a time per namespace).
"""

from pathlib import Path

from envoxy.tools.alembic.exceptions import (
    DatabaseURLError,
    MigrationError,
    MigrationLockTimeoutError,
    ModelImportError,
    NoModelsError,
)

__all__ = [
    "DatabaseURLError",
    "MigrationError",
    "MigrationLockTimeoutError",
    "ModelImportError",
    "NoModelsError",
    "alembic_config_path",
]


def alembic_config_path() -> str:
    """Return the path of the packaged ``alembic.ini``.

    It lets Alembic's own ``alembic -c <path>`` command run from a service's
    folder like ``envoxy-alembic`` does; ``envoxy-alembic`` needs no ini file.
    """
    return str(Path(__file__).with_name("alembic.ini"))
