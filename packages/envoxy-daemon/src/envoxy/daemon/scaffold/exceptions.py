"""Exceptions of ``envoxy-cli create-project``.

Hierarchy (each is a :class:`click.ClickException`, so the command prints
``Error: <message>`` and exits with the class's ``exit_code``)::

    EnvoxyError, click.ClickException
    └── ScaffoldError              the project cannot be created (exit status 1)
        ├── ProjectNameError       NAME gives no usable slug or package name (exit status 2)
        ├── TargetNotEmptyError    DIR/<slug> exists and is not an empty folder (exit status 3)
        └── InitialMigrationError  the initial revision could not be generated (exit status 4)
"""

import click

from envoxy.exceptions import EnvoxyError

__all__ = ["InitialMigrationError", "ProjectNameError", "ScaffoldError", "TargetNotEmptyError"]


class ScaffoldError(EnvoxyError, click.ClickException):
    """The project cannot be created; nothing was left behind. Exit status 1."""

    exit_code = 1


class ProjectNameError(ScaffoldError):
    """NAME gives an empty slug or a package name Python cannot import. Exit status 2."""

    exit_code = 2


class TargetNotEmptyError(ScaffoldError):
    """The target folder exists and holds files (or is not a folder). Exit status 3."""

    exit_code = 3


class InitialMigrationError(ScaffoldError):
    """``envoxy-alembic revision --autogenerate`` failed or is not installed. Exit status 4."""

    exit_code = 4
