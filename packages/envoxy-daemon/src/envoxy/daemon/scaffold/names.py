"""The names of a new project: its title, folder (slug) and Python package.

``"My Service"`` gives the folder ``my-service`` and the package ``my_service``.

A NAME is usable when:

- it has at most :data:`MAX_NAME_LENGTH` characters, none of them a control, format
  (invisible, e.g. a right-to-left override), private-use, unassigned or undecodable
  character (whitespace is allowed: each run becomes one space in the title);
- its slug is not empty and has at most :data:`MAX_SLUG_LENGTH` characters;
- its package is a Python identifier (so it does not start with a digit), not a
  keyword, not a standard-library module and not one of :data:`RESERVED_PACKAGES`.

The slug and package only ever hold ``[a-z0-9-]`` and ``[a-z0-9_]`` (checked again when
a :class:`ProjectNames` is built), so they are safe in file names, identifiers and any
generated file; the title is free text and only reaches generated files through the
encoder of each format (see :mod:`envoxy.daemon.scaffold.project`).
"""

import keyword
import re
import sys
import unicodedata
from dataclasses import dataclass

from envoxy.daemon.scaffold.exceptions import ProjectNameError

__all__ = [
    "MAX_NAME_LENGTH",
    "MAX_SLUG_LENGTH",
    "RESERVED_PACKAGES",
    "ProjectNames",
    "project_names",
]

#: the most characters a NAME may have
MAX_NAME_LENGTH = 100
#: the most characters a slug (folder and distribution name) may have
MAX_SLUG_LENGTH = 64
#: package names that would clash with the framework, the project's own folders or the
#: packages its generated code imports
RESERVED_PACKAGES = frozenset(
    {"alembic", "envoxy", "migrations", "pytest", "sqlalchemy", "tests", "werkzeug"}
)

_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PACKAGE = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class ProjectNames:
    """The names derived from the NAME given to ``create-project``.

    :param title: NAME with its whitespace collapsed (the README's heading).
    :param slug: the folder and distribution name, e.g. ``my-service``.
    :param package: the import package, e.g. ``my_service``.
    :raises ProjectNameError: ``slug`` or ``package`` holds other characters than
        those :func:`project_names` produces, or ``title`` holds a control or invisible
        character.
    """

    title: str
    slug: str
    package: str

    def __post_init__(self) -> None:
        if not _SLUG.fullmatch(self.slug) or len(self.slug) > MAX_SLUG_LENGTH:
            raise ProjectNameError(f"the slug {self.slug!r} is not [a-z0-9] words joined by '-'")
        if not _PACKAGE.fullmatch(self.package) or keyword.iskeyword(self.package):
            raise ProjectNameError(f"the package {self.package!r} is not a usable identifier")
        bad = _first_unusable_character(self.title)
        if bad is not None or not self.title:
            raise ProjectNameError(f"the title {self.title!r} is empty or holds {bad}")


def project_names(name: str) -> ProjectNames:
    """Derive the slug and package of ``name`` (rules in the module docstring).

    The slug is ``name`` lowercased, accents dropped (``é`` → ``e``), each run of
    characters outside ``[a-z0-9]`` turned into ``-``, with outer ``-`` stripped; the
    package is the slug with ``-`` replaced by ``_``.

    :raises ProjectNameError: ``name`` is too long or holds a control or invisible
        character, the slug is empty or too long, or the package is not a valid
        identifier, is a Python keyword, a standard-library module or one of
        :data:`RESERVED_PACKAGES`.
    """
    shown = _shown(name)
    if len(name) > MAX_NAME_LENGTH:
        raise ProjectNameError(
            f"the project name {shown} has {len(name)} characters; give at most {MAX_NAME_LENGTH}"
        )
    title = " ".join(name.split())
    bad = _first_unusable_character(title)
    if bad is not None:
        raise ProjectNameError(
            f"the project name {shown} holds {bad}; "
            "use letters, digits, spaces and punctuation only"
        )
    unaccented = "".join(
        char for char in unicodedata.normalize("NFKD", name) if not unicodedata.combining(char)
    )
    slug = _NOT_ALPHANUMERIC.sub("-", unaccented.lower()).strip("-")
    if not slug:
        raise ProjectNameError(
            f"the project name {shown} has no letters or digits (a-z, 0-9): "
            "give a name such as 'my-service'"
        )
    if len(slug) > MAX_SLUG_LENGTH:
        raise ProjectNameError(
            f"the project name {shown} gives a folder name of {len(slug)} characters; "
            f"give a name of at most {MAX_SLUG_LENGTH} letters, digits and dashes"
        )
    package = slug.replace("-", "_")
    if not package.isidentifier():
        raise ProjectNameError(
            f"the project name {shown} gives the package {package!r}, which is not a valid "
            f"Python identifier: start the name with a letter, e.g. 'svc-{slug}'"
        )
    clash = _clash(package)
    if clash:
        raise ProjectNameError(
            f"the project name {shown} gives the package {package!r}, which is {clash}: "
            f"choose another name, e.g. '{slug}-service'"
        )
    return ProjectNames(title=title, slug=slug, package=package)


def _clash(package: str) -> str | None:
    if keyword.iskeyword(package):
        return "a Python keyword"
    if package in sys.stdlib_module_names:
        return "a standard-library module"
    if package in RESERVED_PACKAGES:
        return "reserved (the framework, a folder of the project or a package it imports)"
    return None


def _first_unusable_character(text: str) -> str | None:
    """Describe the first control, invisible or undecodable character of ``text``, if any."""
    for char in text:
        if unicodedata.category(char).startswith("C"):
            return f"the character U+{ord(char):04X} (a control or invisible character)"
    return None


def _shown(name: str) -> str:
    """``name`` for a one-line message: quoted, escaped, shortened when long."""
    return repr(name if len(name) <= 60 else f"{name[:57]}...")
