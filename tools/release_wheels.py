"""What the wheel of each Envoxy distribution may contain, and the check that enforces it.

The namespace rules (docs/BUILD.md): only the meta-package ships ``envoxy/__init__.py``;
``envoxy/``, ``envoxy/db/`` and ``envoxy/tools/`` stay implicit namespace packages in
every other wheel; each distribution ships only the import paths it owns, with a
``py.typed`` in each of its packages; siblings require each other by compatible range.
"""

import email.parser
import pathlib
import zipfile

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from workspace import members

__all__ = [
    "DISTRIBUTIONS",
    "META",
    "META_FILES",
    "OWNED_IMPORT_PATHS",
    "SHARED_LEVELS",
    "ReleaseError",
    "sibling_requirements",
    "wheel_metadata",
    "wheel_problems",
]

#: The meta-package: the only distribution allowed to ship ``envoxy/__init__.py``.
META = "envoxy"
#: Every distribution, dependencies before dependants (hatch.toml's workspace.members).
DISTRIBUTIONS = tuple(member.name for member in members())
#: The import paths each distribution owns (docs/BUILD.md, DESIGN.md): a wheel ships nothing else.
OWNED_IMPORT_PATHS: dict[str, tuple[str, ...]] = {
    "envoxy-core": (
        "envoxy.utils",
        "envoxy.constants",
        "envoxy.exceptions",
        "envoxy.db.exceptions",
    ),
    "envoxy-asserts": ("envoxy.asserts",),
    # SPEC §3.4: to_sa_text; envoxy.db.postgres: the driver layer pgsqlc shares with the ORM
    "envoxy-orm": ("envoxy.db.orm", "envoxy.db.helpers", "envoxy.db.postgres"),
    "envoxy-alembic": (
        "envoxy.tools.alembic",
        "envoxy.tools.check_migrations",
        "envoxy.tools.validate_models",
    ),
    "envoxy-dispatch": (
        "envoxy.redis",
        "envoxy.postgresql",
        "envoxy.couchdb",
        "envoxy.mqtt",
        "envoxy.zeromq",
        "envoxy.celery",
        "envoxy.cache",
        "envoxy.db.dispatcher",
    ),
    "envoxy-daemon": ("envoxy.views", "envoxy.decorators", "envoxy.auth", "envoxy.daemon"),
    META: (),
}
#: Files of the meta-package wheel, all required.
META_FILES = frozenset({"envoxy/__init__.py", "envoxy/py.typed"})
#: Namespace levels that must stay implicit in every other wheel.
SHARED_LEVELS = ("envoxy", "envoxy/db", "envoxy/tools")


class ReleaseError(Exception):
    """A build, check or tag is wrong; the message says what and how to fix it."""


def wheel_metadata(wheel: pathlib.Path) -> str:
    """Return the text of the wheel's ``.dist-info/METADATA`` ("" when it has none)."""
    with zipfile.ZipFile(wheel) as archive:
        names = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        return archive.read(names[0]).decode() if names else ""


def sibling_requirements(wheel: pathlib.Path) -> list[Requirement]:
    """Return the wheel's ``Requires-Dist`` entries that name another Envoxy distribution."""
    fields = email.parser.HeaderParser().parsestr(wheel_metadata(wheel))
    requirements = [Requirement(line) for line in fields.get_all("Requires-Dist", [])]
    return [req for req in requirements if canonicalize_name(req.name) in DISTRIBUTIONS]


def wheel_problems(dist: str, wheel: pathlib.Path, version: str | None = None) -> list[str]:
    """Return every rule of the namespace layout that ``wheel`` breaks (empty when fine).

    Rules: non-meta wheels ship no ``__init__`` at ``envoxy/``, ``envoxy/db/`` or
    ``envoxy/tools/``; the meta wheel ships exactly ``envoxy/__init__.py`` and
    ``envoxy/py.typed``; other wheels ship only their own import paths, with a
    ``py.typed`` in each of their packages; the metadata names ``dist`` (at
    ``version`` when given) and requires siblings by compatible range, never a pin.
    """
    with zipfile.ZipFile(wheel) as archive:
        names = [name for name in archive.namelist() if not name.endswith("/")]
    files = [name for name in names if not name.split("/", 1)[0].endswith(".dist-info")]
    problems = _metadata_problems(dist, wheel_metadata(wheel), version)
    if dist == META:
        problems += [
            f"{name}: the meta-package ships only {', '.join(sorted(META_FILES))}; "
            "move this file to the distribution that owns its import path"
            for name in files
            if name not in META_FILES
        ]
        problems += [f"{name} is missing from the meta wheel" for name in META_FILES - set(files)]
        return problems
    shared_inits = {f"{level}/__init__.{ext}" for level in SHARED_LEVELS for ext in ("py", "pyi")}
    problems += [
        f"{init}: only the meta-package ships envoxy/__init__.py; {init.rsplit('/', 1)[0]}/ "
        f"must stay an implicit namespace package: delete packages/{dist}/src/{init}"
        for init in sorted(shared_inits.intersection(files))
    ]
    owned = [tuple(path.split(".")) for path in OWNED_IMPORT_PATHS[dist]]
    problems += [
        f"{name} is outside the import paths {dist} owns "
        f"({', '.join(OWNED_IMPORT_PATHS[dist])}); move it to its owner (docs/BUILD.md)"
        for name in files
        if name not in shared_inits and not any(_is_under(name, path) for path in owned)
    ]
    problems += _typed_marker_problems(dist, files, owned)
    return problems


def _is_under(file_name: str, import_path: tuple[str, ...]) -> bool:
    parts = file_name.split("/")
    directory, base = parts[:-1], parts[-1]
    if tuple(directory[: len(import_path)]) == import_path:
        return True
    module = import_path[-1]
    return tuple(directory) == import_path[:-1] and base in (f"{module}.py", f"{module}.pyi")


def _typed_marker_problems(dist: str, files: list[str], owned: list[tuple[str, ...]]) -> list[str]:
    packages = [
        "/".join(path)
        for path in owned
        if any(name.startswith("/".join(path) + "/") for name in files)
    ]
    problems = [
        f"{package}/py.typed is missing: every package of {dist} ships one (PEP 561)"
        for package in packages
        if f"{package}/py.typed" not in files
    ]
    if not any(name.endswith("/py.typed") for name in files):
        problems.append(f"the {dist} wheel has no py.typed at all")
    return problems


def _metadata_problems(dist: str, metadata: str, version: str | None) -> list[str]:
    if not metadata:
        return ["the wheel has no .dist-info/METADATA"]
    fields = email.parser.HeaderParser().parsestr(metadata)
    problems = []
    name = fields.get("Name", "")
    if canonicalize_name(name) != canonicalize_name(dist):
        problems.append(f"METADATA Name is {name!r}, expected {dist!r}")
    if version is not None and fields.get("Version") != version:
        problems.append(f"METADATA Version is {fields.get('Version')}, pyproject says {version}")
    for line in fields.get_all("Requires-Dist", []):
        requirement = Requirement(line)
        if canonicalize_name(requirement.name) not in DISTRIBUTIONS:
            continue
        operators = {spec.operator for spec in requirement.specifier}
        if "==" in operators or "===" in operators or not operators & {">=", "~="}:
            problems.append(
                f"Requires-Dist {line!r}: siblings need a compatible range such as "
                f"'{requirement.name}>=1.0,<2', never a pin"
            )
        elif "<" not in operators and "~=" not in operators:
            problems.append(f"Requires-Dist {line!r}: add an upper bound ('<2')")
    return problems
