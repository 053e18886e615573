"""Writing a new project folder from the templates, all at once or not at all.

Files are rendered (:mod:`string.Template`) into a hidden staging folder beside the
target; the initial migration is generated there; the folder is renamed into place
last. A failure removes the staging folder, so it leaves nothing half-written.
"""

import secrets
import shutil
from importlib.resources import files
from pathlib import Path
from string import Template

from envoxy.daemon.scaffold.errors import ScaffoldError, TargetNotEmptyError
from envoxy.daemon.scaffold.migration import write_initial_migration
from envoxy.daemon.scaffold.names import ProjectNames

__all__ = ["PROJECT_FILES", "render_files", "write_project"]

#: template (under ``templates/``) -> the file it becomes (``{package}`` is the package)
PROJECT_FILES: tuple[tuple[str, str], ...] = (
    ("pyproject.toml.tmpl", "pyproject.toml"),
    ("README.md.tmpl", "README.md"),
    ("envoxy.json.tmpl", "envoxy.json"),
    ("gitignore.tmpl", ".gitignore"),
    ("package/__init__.py.tmpl", "{package}/__init__.py"),
    ("package/loader.py.tmpl", "{package}/loader.py"),
    ("package/models.py.tmpl", "{package}/models.py"),
    ("package/views.py.tmpl", "{package}/views.py"),
    ("tests/conftest.py.tmpl", "tests/conftest.py"),
    ("tests/test_items_api.py.tmpl", "tests/test_items_api.py"),
)


def render_files(names: ProjectNames) -> dict[str, str]:
    """Return each templated file of the project: relative path -> text.

    The templates use ``${title}``, ``${slug}`` and ``${package}``.
    """
    templates = files(__package__ or "envoxy.daemon.scaffold") / "templates"
    values = {"title": names.title, "slug": names.slug, "package": names.package}
    return {
        target.format(package=names.package): Template(
            templates.joinpath(template).read_text(encoding="utf-8")
        ).substitute(values)
        for template, target in PROJECT_FILES
    }


def write_project(names: ProjectNames, parent: Path) -> Path:
    """Create ``parent/<slug>`` with the rendered files and the initial migration.

    :param names: the project's names (:func:`~envoxy.daemon.scaffold.names.project_names`).
    :param parent: the existing folder to create the project in.
    :returns: the project folder.
    :raises TargetNotEmptyError: ``parent/<slug>`` exists and is not an empty folder;
        nothing is written.
    :raises InitialMigrationError: the migration could not be generated; nothing is left.
    :raises ScaffoldError: ``parent`` is not a writable folder, or writing failed.
    """
    parent = parent.absolute()
    target = parent / names.slug
    _check_target(target)
    staging = parent / f".{names.slug}.create-project-{secrets.token_hex(4)}"
    try:
        staging.mkdir()
    except OSError as exc:
        raise ScaffoldError(
            f"cannot create the project in {parent}: {exc.strerror or exc}; "
            "choose a writable folder with --dir"
        ) from exc
    try:
        for relative, text in render_files(names).items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        write_initial_migration(staging, names.package)
        _check_target(target)
        if target.is_dir():
            target.rmdir()
        staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ScaffoldError(f"cannot write the project {target}: {exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _check_target(target: Path) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise TargetNotEmptyError(
            f"{target} exists and is not a folder: choose another NAME or --dir"
        )
    if target.is_dir() and any(target.iterdir()):
        raise TargetNotEmptyError(
            f"{target} already exists and is not empty: nothing was written; "
            "choose another NAME or --dir, or remove the folder"
        )
