"""The names of a new project: its title, folder (slug) and Python package.

``"My Service"`` gives the folder ``my-service`` and the package ``my_service``.
"""

import keyword
import re
import sys
import unicodedata
from dataclasses import dataclass

from envoxy.daemon.scaffold.errors import ProjectNameError

__all__ = ["RESERVED_PACKAGES", "ProjectNames", "project_names"]

#: package names that would clash with the framework or the project's own folders
RESERVED_PACKAGES = frozenset({"envoxy", "migrations", "tests"})

_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class ProjectNames:
    """The names derived from the NAME given to ``create-project``.

    :param title: NAME with its whitespace collapsed (the README's heading).
    :param slug: the folder and distribution name, e.g. ``my-service``.
    :param package: the import package, e.g. ``my_service``.
    """

    title: str
    slug: str
    package: str


def project_names(name: str) -> ProjectNames:
    """Derive the slug and package of ``name``.

    The slug is ``name`` lowercased, accents dropped (``é`` → ``e``), each run of
    characters outside ``[a-z0-9]`` turned into ``-``, with outer ``-`` stripped; the
    package is the slug with ``-`` replaced by ``_``.

    :raises ProjectNameError: the slug is empty, or the package is not a valid
        identifier, is a Python keyword, a standard-library module or one of
        :data:`RESERVED_PACKAGES`.
    """
    title = " ".join(name.split())
    unaccented = "".join(
        char for char in unicodedata.normalize("NFKD", name) if not unicodedata.combining(char)
    )
    slug = _NOT_ALPHANUMERIC.sub("-", unaccented.lower()).strip("-")
    if not slug:
        raise ProjectNameError(
            f"the project name {name!r} has no letters or digits (a-z, 0-9): "
            "give a name such as 'my-service'"
        )
    package = slug.replace("-", "_")
    if not package.isidentifier():
        raise ProjectNameError(
            f"the project name {name!r} gives the package {package!r}, which is not a valid "
            f"Python identifier: start the name with a letter, e.g. 'svc-{slug}'"
        )
    clash = _clash(package)
    if clash:
        raise ProjectNameError(
            f"the project name {name!r} gives the package {package!r}, which is {clash}: "
            f"choose another name, e.g. '{slug}-service'"
        )
    return ProjectNames(title=title, slug=slug, package=package)


def _clash(package: str) -> str | None:
    if keyword.iskeyword(package):
        return "a Python keyword"
    if package in sys.stdlib_module_names:
        return "a standard-library module"
    if package in RESERVED_PACKAGES:
        return "reserved (the framework's namespace or a folder of the project)"
    return None
