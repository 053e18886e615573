"""The migration environment every service's ``env.py`` delegates to.

A service's ``migrations/env.py`` is two lines calling :func:`run_migrations`,
so the logic (which tables belong to the service, the version table, batch mode
on SQLite, one transaction and one run at a time per namespace on PostgreSQL)
ships with envoxy-alembic and is upgraded with it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from alembic import context
from sqlalchemy import MetaData, create_engine, pool
from sqlalchemy.engine import Connection

from envoxy.db.orm.drivers import normalize_url
from envoxy.tools.alembic.exceptions import NoModelsError
from envoxy.tools.alembic.locking import LOCKING_COMMANDS, migration_lock
from envoxy.tools.alembic.models import load_target_metadata
from envoxy.tools.alembic.settings import MigrationSettings
from envoxy.tools.alembic.setup import SETTINGS_ATTRIBUTE

__all__ = ["run_migrations"]

COMMANDS_NEEDING_MODELS = frozenset({"check"})


def run_migrations() -> None:
    """Run the current Alembic command offline (``--sql``) or online."""
    config = context.config
    settings = config.attributes.get(SETTINGS_ATTRIBUTE) or MigrationSettings.from_environment()
    targets = load_target_metadata(settings.models, settings.models_paths)
    if _needs_models(config.cmd_opts) and not any(target.tables for target in targets):
        raise NoModelsError(
            "no models found: set SERVICE_MODELS to the comma-separated modules that "
            "define your EnvoxyBase models (SERVICE_MODELS_PATHS adds import paths)"
        )
    url = settings.database_url()
    options = _configure_options(settings, targets, url)
    if context.is_offline_mode():
        # Rendering SQL loads no driver: any PostgreSQL dialect will do.
        offline_url = normalize_url(url, is_importable=lambda module: True)
        context.configure(url=offline_url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(normalize_url(url), poolclass=pool.NullPool)
    try:
        with (
            engine.connect() as connection,
            _lock_if_writing(connection, settings, config.cmd_opts),
        ):
            # configured under the lock, so Alembic reads the current revision after
            # any concurrent run has finished
            context.configure(connection=connection, **options)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def _lock_if_writing(
    connection: Connection, settings: MigrationSettings, cmd_opts: Any
) -> AbstractContextManager[None]:
    """Take the namespace's migration lock for upgrade/downgrade/stamp (or an API call)."""
    command = _command_name(cmd_opts)
    if command is not None and command not in LOCKING_COMMANDS:
        return nullcontext()
    return migration_lock(connection, settings.version_table, settings.lock_timeout)


def _needs_models(cmd_opts: Any) -> bool:
    if cmd_opts is None:
        return False
    if getattr(cmd_opts, "autogenerate", False):
        return True
    return _command_name(cmd_opts) in COMMANDS_NEEDING_MODELS


def _command_name(cmd_opts: Any) -> str | None:
    """Name of the Alembic command being run, or None when called without a command line."""
    command: tuple[Any, ...] | None = getattr(cmd_opts, "cmd", None)
    return None if command is None else str(command[0].__name__)


def _configure_options(
    settings: MigrationSettings, targets: list[MetaData], url: str
) -> dict[str, Any]:
    own_tables = {name for target in targets for name in target.tables}
    prefix = settings.table_prefix

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ == "table" and name is not None:
            return name.startswith(prefix) or name in own_tables
        return True

    return {
        "target_metadata": targets,
        "include_name": include_name,
        "version_table": settings.version_table,
        "render_as_batch": url.startswith("sqlite"),
        "compare_type": True,
    }
