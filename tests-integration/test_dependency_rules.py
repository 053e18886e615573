"""The dependency rules of `make lint-deps`: import-linter contracts and deptry per distribution.

The contracts in the root pyproject.toml must say what the distributions declare
(tools/release_wheels.py OWNED_IMPORT_PATHS, each pyproject's dependencies), and the
tools must catch a planted violation: an upward import, a sideways import, an
undeclared third-party import.
"""

import pathlib
import re
import shutil
import subprocess
import sys
import tomllib
from types import ModuleType

import pytest

from envoxy_testing.repo import REPO_ROOT, tool_module

LINT_IMPORTS = REPO_ROOT / "tools" / "lint_imports.py"
DEPTRY = pathlib.Path(sys.executable).with_name("deptry")


@pytest.fixture(scope="module")
def release_wheels() -> ModuleType:
    return tool_module("release_wheels")


def contracts() -> list[dict[str, object]]:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["importlinter"]["contracts"])


def declared_siblings(dist: str, siblings: set[str]) -> dict[str, set[str]]:
    """Sibling -> the extras declaring it ("" for the main dependencies)."""
    project = tomllib.loads((REPO_ROOT / "packages" / dist / "pyproject.toml").read_text())
    groups = {"": project["project"].get("dependencies", [])}
    groups.update(project["project"].get("optional-dependencies", {}))
    found: dict[str, set[str]] = {}
    for extra, requirements in groups.items():
        for requirement in requirements:
            name = re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower()
            if name in siblings and name != dist:
                found.setdefault(name, set()).add(extra)
    return found


def within(module: str, packages: set[str]) -> bool:
    return any(module == package or module.startswith(f"{package}.") for package in packages)


def lint_imports(*extra_path: pathlib.Path) -> subprocess.CompletedProcess[str]:
    env_path = ":".join(str(path) for path in extra_path)
    return subprocess.run(
        [sys.executable, str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": env_path, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_each_distribution_is_imported_only_by_those_declaring_it(
    release_wheels: ModuleType,
) -> None:
    owned: dict[str, tuple[str, ...]] = release_wheels.OWNED_IMPORT_PATHS
    libraries = {dist for dist in owned if dist != release_wheels.META}
    protected = {
        str(contract["id"]): contract for contract in contracts() if contract["type"] == "protected"
    }

    assert set(protected) == {f"declared-{dist}" for dist in libraries}
    for dist in libraries:
        contract = protected[f"declared-{dist}"]
        assert contract["protected_modules"] == list(owned[dist])
        allowed = set(contract["allowed_importers"])  # type: ignore[call-overload]
        assert set(owned[dist]) <= allowed, dist
        for importer in libraries - {dist}:
            extras = declared_siblings(importer, libraries).get(dist)
            importer_paths = set(owned[importer])
            inside = {module for module in allowed if within(module, importer_paths)}
            if extras is None:
                assert not inside, f"{importer} does not declare {dist}"
            elif "" in extras:
                assert importer_paths <= allowed, f"{importer} declares {dist}"
            else:  # declared by an extra: only that extra's modules, named in the contract
                assert inside, f"{importer}{sorted(extras)} declares {dist}"


def test_layers_name_every_library_import_path_once(release_wheels: ModuleType) -> None:
    (layers,) = [contract for contract in contracts() if contract["type"] == "layers"]
    named = [
        module.strip()
        for layer in layers["layers"]  # type: ignore[attr-defined]
        for module in layer.split(":")
    ]
    owned = [path for paths in release_wheels.OWNED_IMPORT_PATHS.values() for path in paths]

    assert sorted(named) == sorted(owned)


def test_the_workspace_keeps_every_contract() -> None:
    done = lint_imports()

    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"Contracts: \d+ kept, 0 broken", done.stdout), done.stdout


@pytest.mark.parametrize(
    ("imports", "broken"),
    [
        # a library importing the daemon, as envoxy.cache once did (an upward edge)
        ("import envoxy.decorators", ["envoxy-daemon is imported only where declared"]),
        # a library importing envoxy-dispatch, which it does not declare
        ("import envoxy.redis", ["envoxy-dispatch is imported only where declared"]),
        # a library importing the meta-package
        ("from envoxy import redisc", ["No library imports the meta-package"]),
    ],
)
def test_a_planted_import_breaks_its_contract(
    tmp_path: pathlib.Path, imports: str, broken: list[str]
) -> None:
    # a new module in a second portion of the namespace package envoxy.tools
    planted = tmp_path / "envoxy" / "tools" / "planted.py"
    planted.parent.mkdir(parents=True)
    planted.write_text(f"{imports}\n")

    done = lint_imports(tmp_path)

    assert done.returncode == 1, done.stdout + done.stderr
    for name in broken:
        assert re.search(rf"^{re.escape(name)}.* BROKEN$", done.stdout, re.M), done.stdout
    assert "envoxy.tools.planted" in done.stdout


def test_deptry_finds_an_undeclared_and_an_unused_dependency(tmp_path: pathlib.Path) -> None:
    # envoxy-alembic's own configuration, with click declared again and httpx imported
    project = tmp_path / "envoxy-alembic"
    shutil.copytree(REPO_ROOT / "packages" / "envoxy-alembic", project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"alembic>=1.13,<2",', '"alembic>=1.13,<2", "click>=8",')
    )
    (project / "src" / "envoxy" / "tools" / "alembic" / "planted.py").write_text("import httpx\n")

    done = subprocess.run(
        [str(DEPTRY), "src"], cwd=project, capture_output=True, text=True, check=False
    )
    clean = subprocess.run(
        [str(DEPTRY), "src"],
        cwd=REPO_ROOT / "packages" / "envoxy-alembic",
        capture_output=True,
        text=True,
        check=False,
    )

    output = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    assert done.returncode == 1, output
    assert "DEP003 'httpx' imported but it is a transitive dependency" in output or (
        "DEP001 'httpx' imported but missing" in output
    )
    assert "DEP002 'click' defined as a dependency but not used" in output
    assert clean.returncode == 0, clean.stdout + clean.stderr
