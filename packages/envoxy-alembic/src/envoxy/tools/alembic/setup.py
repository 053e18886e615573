"""Create a service's migrations folder and the Alembic ``Config`` that points at it."""

from __future__ import annotations

import shutil
from argparse import Namespace
from pathlib import Path

from alembic.config import Config

from envoxy.tools.alembic.settings import MigrationSettings

__all__ = ["SETTINGS_ATTRIBUTE", "TEMPLATE_DIR", "build_config", "ensure_migrations_dir"]

#: Key of ``Config.attributes`` under which env.py finds the :class:`MigrationSettings`.
SETTINGS_ATTRIBUTE = "envoxy_settings"
TEMPLATE_DIR = Path(__file__).with_name("template")
TEMPLATE_FILES = ("env.py", "script.py.mako")


def ensure_migrations_dir(directory: Path) -> list[Path]:
    """Create ``directory`` with ``env.py``, ``script.py.mako`` and ``versions/``.

    Existing files are never overwritten. Returns the paths it created.
    """
    created: list[Path] = []
    versions = directory / "versions"
    if not versions.is_dir():
        versions.mkdir(parents=True, exist_ok=True)
        created.append(versions)
    for name in TEMPLATE_FILES:
        target = directory / name
        if not target.exists():
            shutil.copyfile(TEMPLATE_DIR / name, target)
            created.append(target)
    return created


def build_config(settings: MigrationSettings, cmd_opts: Namespace | None = None) -> Config:
    """Return an Alembic ``Config`` for ``settings`` without any ini file."""
    config = Config(cmd_opts=cmd_opts)
    config.set_main_option("script_location", str(settings.directory))
    config.set_main_option("version_locations", str(settings.directory / "versions"))
    config.attributes[SETTINGS_ATTRIBUTE] = settings
    return config
