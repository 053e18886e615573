"""``envoxy-cli create-project``: generate a new Envoxy service project.

``envoxy-cli create-project NAME [--dir DIR]`` (legacy ``envoxy-cli -c -n NAME``)
writes ``DIR/<slug>``: ``pyproject.toml``, ``README.md``, ``envoxy.json``, the
package (``models``, ``views``, ``loader``), ``migrations/`` with an initial
revision, and ``tests/``. See docs/QUICK-REFERENCE.md.

Modules: :mod:`~envoxy.daemon.scaffold.names` (slug and package rules),
:mod:`~envoxy.daemon.scaffold.project` (templates and the all-or-nothing write),
:mod:`~envoxy.daemon.scaffold.migration` (the initial revision),
:mod:`~envoxy.daemon.scaffold.command` (the click command),
:mod:`~envoxy.daemon.scaffold.exceptions`. The project's files are ``templates/*.tmpl``,
rendered with :class:`string.Template`.
"""

from envoxy.daemon.scaffold.command import create_project, legacy_create_project
from envoxy.daemon.scaffold.exceptions import (
    InitialMigrationError,
    ProjectNameError,
    ScaffoldError,
    TargetNotEmptyError,
)
from envoxy.daemon.scaffold.names import ProjectNames, project_names
from envoxy.daemon.scaffold.project import PROJECT_FILES, render_files, write_project

__all__ = [
    "PROJECT_FILES",
    "InitialMigrationError",
    "ProjectNameError",
    "ProjectNames",
    "ScaffoldError",
    "TargetNotEmptyError",
    "create_project",
    "legacy_create_project",
    "project_names",
    "render_files",
    "write_project",
]
