"""Where a service's migrations, models and database are, read from the environment.

Every setting comes from environment variables (and envoxy.json for the database),
so a service needs no copied alembic.ini or env.py of its own.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from envoxy.db.orm.constants import AUX_TABLE_PREFIX, BASE_TABLE_PREFIX
from envoxy.exceptions import ConfigError
from envoxy.tools.alembic.exceptions import DatabaseURLError

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_MIGRATIONS_DIR",
    "LOCK_TIMEOUT_VARIABLE",
    "MigrationSettings",
    "version_table_name",
]

DEFAULT_MIGRATIONS_DIR = "migrations"
#: Seconds a run waits for another run's migration lock (PostgreSQL).
DEFAULT_LOCK_TIMEOUT = 300.0
LOCK_TIMEOUT_VARIABLE = "ENVOXY_ALEMBIC_LOCK_TIMEOUT"
VERSION_TABLE = "alembic_version"
NAMESPACE_LENGTH_IN_VERSION_TABLE = 40


@dataclass(frozen=True)
class MigrationSettings:
    """The resolved inputs of one envoxy-alembic run.

    :param directory: the migrations folder (``SERVICE_ALEMBIC_DIR``, else
        ``ENVOXY_ALEMBIC_DIR``, else ``./migrations``).
    :param models: modules to import for the target metadata (``SERVICE_MODELS``).
    :param models_paths: extra import paths (``SERVICE_MODELS_PATHS``).
    :param db_url: ``SERVICE_DB_URL`` when set; otherwise resolved from envoxy.json
        by :meth:`database_url`.
    :param db_server: the ``psql_servers`` key (``ENVOXY_DB_SERVER``), or the default.
    :param lock_timeout: seconds to wait for the namespace's migration lock on
        PostgreSQL (``ENVOXY_ALEMBIC_LOCK_TIMEOUT``, default 300).
    """

    directory: Path
    models: tuple[str, ...] = ()
    models_paths: tuple[str, ...] = ()
    db_url: str | None = None
    db_server: str | None = None
    table_prefix: str = field(default=AUX_TABLE_PREFIX)
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT

    @classmethod
    def from_environment(
        cls, environ: os._Environ[str] | dict[str, str] | None = None
    ) -> MigrationSettings:
        """Read the settings from ``environ`` (default: ``os.environ``).

        :raises ConfigError: ``ENVOXY_ALEMBIC_LOCK_TIMEOUT`` is not a positive number.
        """
        env = os.environ if environ is None else environ
        directory = (
            env.get("SERVICE_ALEMBIC_DIR")
            or env.get("ENVOXY_ALEMBIC_DIR")
            or DEFAULT_MIGRATIONS_DIR
        )
        return cls(
            directory=Path(directory).absolute(),
            models=_split(env.get("SERVICE_MODELS", ""), ","),
            models_paths=_split(env.get("SERVICE_MODELS_PATHS", ""), os.pathsep + ","),
            db_url=env.get("SERVICE_DB_URL") or None,
            db_server=env.get("ENVOXY_DB_SERVER") or None,
            lock_timeout=_lock_timeout(env.get(LOCK_TIMEOUT_VARIABLE, "")),
        )

    @property
    def version_table(self) -> str:
        """``alembic_version``, or ``alembic_version_<namespace>`` with a namespace."""
        return version_table_name(self.table_prefix)

    def database_url(self) -> str:
        """Return the SQLAlchemy URL to migrate.

        :raises DatabaseURLError: neither ``SERVICE_DB_URL`` nor a usable
            ``psql_servers`` entry in envoxy.json (``ENVOXY_CONFIG``) is set.
        """
        if self.db_url:
            return self.db_url
        from envoxy.db.exceptions import DatabaseException
        from envoxy.db.orm.session import build_url, get_default_server_key
        from envoxy.exceptions import ConfigError
        from envoxy.utils.config import Config

        if Config.file_path is None:
            raise DatabaseURLError(
                "no database configured: set SERVICE_DB_URL to a SQLAlchemy URL "
                "(e.g. sqlite:///service.db), or ENVOXY_CONFIG to an envoxy.json "
                "with psql_servers"
            )
        try:
            key = self.db_server or get_default_server_key()
            url = build_url(Config.server("psql_servers", key))
        except (ConfigError, DatabaseException) as exc:
            raise DatabaseURLError(
                f"cannot build the database URL from {Config.file_path}: {exc}; "
                "set SERVICE_DB_URL or fix psql_servers (ENVOXY_DB_SERVER picks the key)"
            ) from exc
        return url.render_as_string(hide_password=False)


def version_table_name(table_prefix: str) -> str:
    """Return the version table for a table prefix (``aux_`` or ``aux_<ns>_``)."""
    namespace = table_prefix.removeprefix(BASE_TABLE_PREFIX).strip("_")
    if not namespace:
        return VERSION_TABLE
    return f"{VERSION_TABLE}_{namespace[:NAMESPACE_LENGTH_IN_VERSION_TABLE]}"


def _lock_timeout(value: str) -> float:
    if not value.strip():
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigError(
            f"{LOCK_TIMEOUT_VARIABLE}={value!r} is not a positive number of seconds "
            f"(the default is {DEFAULT_LOCK_TIMEOUT:g})"
        )
    return seconds


def _split(value: str, separators: str) -> tuple[str, ...]:
    for separator in separators[1:]:
        value = value.replace(separator, separators[0])
    return tuple(part.strip() for part in value.split(separators[0]) if part.strip())
