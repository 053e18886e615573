"""Writing a new project folder from the templates, all at once or not at all.

Files are rendered (:mod:`string.Template`) into a hidden staging folder beside the
target; the initial migration is generated there; the folder is renamed into place
last. A failure removes the staging folder, so it leaves nothing half-written.

No user text reaches a generated file unescaped. The templates' placeholders
(:func:`template_values`):

- ``${package}`` and ``${slug}``: written as they are, in identifiers, paths, comments
  and docstrings; :class:`~envoxy.daemon.scaffold.names.ProjectNames` guarantees they
  hold only ``[a-z0-9_]`` and ``[a-z0-9-]``;
- every string literal is written by its format's encoder: ``${…_py}`` with
  :func:`repr`, ``${…_toml}`` as a TOML basic string, ``${…_json}`` with
  :func:`json.dumps`;
- the title (free text) only appears as ``${docstring_py}`` (the package's docstring,
  a :func:`repr` literal) and ``${title_md}`` (the README heading, Markdown
  punctuation escaped with backslashes).
"""

import json
import secrets
import shutil
from importlib.resources import files
from pathlib import Path
from string import Template

from envoxy.daemon.scaffold.exceptions import ScaffoldError, TargetNotEmptyError
from envoxy.daemon.scaffold.migration import write_initial_migration
from envoxy.daemon.scaffold.names import ProjectNames

__all__ = ["PROJECT_FILES", "render_files", "template_values", "write_project"]

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

    The templates use the placeholders of :func:`template_values`.
    """
    templates = files(__package__ or "envoxy.daemon.scaffold") / "templates"
    values = template_values(names)
    return {
        target.format(package=names.package): Template(
            templates.joinpath(template).read_text(encoding="utf-8")
        ).substitute(values)
        for template, target in PROJECT_FILES
    }


def template_values(names: ProjectNames) -> dict[str, str]:
    """Return the templates' placeholders, each encoded for where it is used.

    See the module docstring for which placeholder goes where.
    """
    package, slug = names.package, names.slug
    return {
        "package": package,
        "slug": slug,
        "docstring_py": repr(
            f"{names.title}: an Envoxy service serving the items API (see README.md)."
        ),
        "database_file_py": repr(f"{package}.db"),
        "title_md": _markdown_text(names.title),
        "slug_toml": _toml_string(slug),
        "package_toml": _toml_string(package),
        "package_json": json.dumps(package),
        "database_url_json": json.dumps(f"sqlite:///{package}.db"),
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


def _toml_string(text: str) -> str:
    """Return ``text`` as a TOML basic string (``"..."``), escaped as TOML requires."""
    escaped = []
    for char in text:
        if char in _TOML_ESCAPES:
            escaped.append(_TOML_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04X}")
        else:
            escaped.append(char)
    return f'"{"".join(escaped)}"'


_TOML_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}

#: characters that mean something inside a Markdown (or GitHub) heading: emphasis, code,
#: links and images, HTML and entities, tables, strikethrough, math, a closing ``#``
_MARKDOWN_SPECIAL = frozenset("\\`*_[]<>#|~&$")


def _markdown_text(text: str) -> str:
    """Return ``text`` with every Markdown punctuation character backslash-escaped."""
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIAL else char for char in text)


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
