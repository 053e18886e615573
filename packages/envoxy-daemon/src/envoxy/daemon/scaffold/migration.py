"""The project's initial migration, written by ``envoxy-alembic revision --autogenerate``.

The revision is not a fixed template: envoxy-alembic's own command runs in a child
interpreter against an empty in-memory SQLite database and the freshly written
models, so the file holds exactly what the installed ORM names (table, primary key,
index) and what the installed Alembic renders, and the ``env.py`` and
``script.py.mako`` beside it are the ones envoxy-alembic copies. A child process
keeps the models out of this process's ``EnvoxyBase.metadata``, where a second
project of the same name would clash.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from envoxy.daemon.scaffold.exceptions import InitialMigrationError

__all__ = ["INITIAL_MESSAGE", "INITIAL_REVISION", "MIGRATION_TIMEOUT", "write_initial_migration"]

INITIAL_REVISION = "0001"
INITIAL_MESSAGE = "create items"
#: seconds the child interpreter may take
MIGRATION_TIMEOUT = 120.0
#: variables that would point envoxy-alembic elsewhere than the new project
_OVERRIDDEN = ("ENVOXY_CONFIG", "ENVOXY_DB_SERVER", "ENVOXY_ALEMBIC_DIR", "SERVICE_MODELS_PATHS")


def write_initial_migration(project_dir: Path, package: str) -> Path:
    """Write ``migrations/`` (``env.py``, ``script.py.mako``, ``versions/0001_create_items.py``).

    :param project_dir: the project folder holding ``<package>/models.py``.
    :param package: the project's import package.
    :returns: the revision file.
    :raises InitialMigrationError: envoxy-alembic is not installed, or the command failed
        (the message quotes its error output).
    """
    if not _alembic_installed():
        raise InitialMigrationError(
            "create-project writes the initial migration with envoxy-alembic, which is not "
            "installed: pip install envoxy-alembic (or the envoxy meta-package)"
        )
    env = {key: value for key, value in os.environ.items() if key not in _OVERRIDDEN}
    env.update(
        SERVICE_DB_URL="sqlite://",
        SERVICE_MODELS=f"{package}.models",
        SERVICE_ALEMBIC_DIR=str(project_dir / "migrations"),
    )
    command = [sys.executable, "-B", "-m", "envoxy.tools.alembic", "revision", "--autogenerate"]
    command += ["-m", INITIAL_MESSAGE, "--rev-id", INITIAL_REVISION]
    try:
        result = subprocess.run(
            command,
            cwd=project_dir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=MIGRATION_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InitialMigrationError(f"envoxy-alembic revision --autogenerate: {exc}") from exc
    revisions = sorted((project_dir / "migrations" / "versions").glob(f"{INITIAL_REVISION}_*.py"))
    if result.returncode != 0 or len(revisions) != 1:
        output = (result.stderr or result.stdout).strip() or "no output"
        raise InitialMigrationError(
            f"envoxy-alembic revision --autogenerate failed (exit status {result.returncode}): "
            f"{output}"
        )
    return revisions[0]


def _alembic_installed() -> bool:
    # find_spec imports the parents first: without envoxy-alembic, ``envoxy.tools``
    # itself is missing and find_spec raises instead of answering None
    try:
        return importlib.util.find_spec("envoxy.tools.alembic") is not None
    except ModuleNotFoundError:
        return False
