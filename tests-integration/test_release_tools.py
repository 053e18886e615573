"""tools/release.py: real builds pass the checks, crafted bad wheels fail them, tags match versions.

The command line is run as the release workflow runs it (a subprocess of the
workspace interpreter); the wheel rules are also called directly on crafted
wheels, one per rule.
"""

import pathlib
import shutil
import subprocess
import sys
import tomllib
import types
import zipfile

import pytest

from envoxy_testing.repo import REPO_ROOT, tool_module

RELEASE = REPO_ROOT / "tools" / "release.py"


def release(*args: str, root: pathlib.Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run tools/release.py with the workspace interpreter and return the finished process."""
    options = ["--root", str(root)] if root else []
    return subprocess.run(
        [sys.executable, str(RELEASE), *options, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def pyproject_version(dist: str) -> str:
    pyproject = REPO_ROOT / "packages" / dist / "pyproject.toml"
    return str(tomllib.loads(pyproject.read_text())["project"]["version"])


@pytest.fixture(scope="module")
def rules() -> types.ModuleType:
    """The wheel-rules module of tools/, imported the way tools/release.py imports it."""
    return tool_module("release_wheels")


def craft_wheel(
    folder: pathlib.Path,
    dist: str,
    files: dict[str, str],
    *,
    version: str = "1.0.0",
    requires: tuple[str, ...] = (),
) -> pathlib.Path:
    """Write a minimal wheel of ``dist`` holding ``files`` (path -> text) and its METADATA."""
    stem = f"{dist.replace('-', '_')}-{version}"
    wheel = folder / f"{stem}-py3-none-any.whl"
    metadata = [f"Metadata-Version: 2.4\nName: {dist}\nVersion: {version}"]
    metadata += [f"Requires-Dist: {requirement}" for requirement in requires]
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr(f"{stem}.dist-info/METADATA", "\n".join(metadata) + "\n\n")
        archive.writestr(f"{stem}.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n")
    return wheel


@pytest.mark.parametrize("dist", ["envoxy", "envoxy-orm"])
def test_built_distribution_passes_its_checks(tmp_path: pathlib.Path, dist: str) -> None:
    built = release("--dist-dir", str(tmp_path), "build", dist)
    assert built.returncode == 0, built.stderr
    stem = f"{dist.replace('-', '_')}-{pyproject_version(dist)}"
    assert (tmp_path / f"{stem}.tar.gz").exists()
    assert (tmp_path / f"{stem}-py3-none-any.whl").exists()

    checked = release("--dist-dir", str(tmp_path), "check", dist)

    assert checked.returncode == 0, checked.stderr
    assert f"ok: {dist} {pyproject_version(dist)}" in checked.stdout


def test_check_fails_when_a_library_wheel_ships_the_namespace_init(
    tmp_path: pathlib.Path,
) -> None:
    assert release("--dist-dir", str(tmp_path), "build", "envoxy-orm").returncode == 0
    wheel = next(tmp_path.glob("envoxy_orm-*.whl"))
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr("envoxy/__init__.py", "")

    checked = release("--dist-dir", str(tmp_path), "check", "envoxy-orm")

    assert checked.returncode == 1
    assert "envoxy/__init__.py: only the meta-package ships envoxy/__init__.py" in checked.stderr
    assert "delete packages/envoxy-orm/src/envoxy/__init__.py" in checked.stderr


def test_check_without_a_build_says_to_build_first(tmp_path: pathlib.Path) -> None:
    checked = release("--dist-dir", str(tmp_path), "check", "envoxy-core")

    assert checked.returncode == 1
    assert "run `tools/release.py build envoxy-core` first" in checked.stderr


#: dist -> files of a crafted wheel breaking one rule, and the problems it must report.
CRAFTED_BREAKS = {
    "namespace inits in a library": (
        "envoxy-alembic",
        {
            "envoxy/__init__.py": "",
            "envoxy/tools/__init__.py": "",
            "envoxy/tools/alembic/__init__.py": "",
            "envoxy/tools/alembic/py.typed": "",
        },
        [
            "envoxy/__init__.py: only the meta-package ships envoxy/__init__.py; envoxy/ must "
            "stay an implicit namespace package: delete packages/envoxy-alembic/src/envoxy/"
            "__init__.py",
            "envoxy/tools/__init__.py: only the meta-package ships envoxy/__init__.py; "
            "envoxy/tools/ must stay an implicit namespace package: delete "
            "packages/envoxy-alembic/src/envoxy/tools/__init__.py",
        ],
    ),
    "a sibling's module": (
        "envoxy-orm",
        {
            "envoxy/db/orm/__init__.py": "",
            "envoxy/db/orm/py.typed": "",
            "envoxy/db/dispatcher/__init__.py": "",
        },
        [
            "envoxy/db/dispatcher/__init__.py is outside the import paths envoxy-orm owns "
            "(envoxy.db.orm, envoxy.db.helpers, envoxy.db.postgres); move it to its owner "
            "(docs/BUILD.md)"
        ],
    ),
    "no py.typed": (
        "envoxy-daemon",
        {
            "envoxy/views/__init__.py": "",
            "envoxy/views/py.typed": "",
            "envoxy/auth/__init__.py": "",
        },
        ["envoxy/auth/py.typed is missing: every package of envoxy-daemon ships one (PEP 561)"],
    ),
    "anything else in the meta wheel": (
        "envoxy",
        {"envoxy/__init__.py": "", "envoxy/constants.py": ""},
        [
            "envoxy/constants.py: the meta-package ships only envoxy/__init__.py, "
            "envoxy/py.typed; move this file to the distribution that owns its import path",
            "envoxy/py.typed is missing from the meta wheel",
        ],
    ),
}


@pytest.mark.parametrize(
    ("dist", "files", "expected"), list(CRAFTED_BREAKS.values()), ids=list(CRAFTED_BREAKS)
)
def test_crafted_wheel_breaking_a_rule_fails(
    tmp_path: pathlib.Path,
    rules: types.ModuleType,
    dist: str,
    files: dict[str, str],
    expected: list[str],
) -> None:
    assert rules.wheel_problems(dist, craft_wheel(tmp_path, dist, files)) == expected


def test_crafted_wheel_pinning_a_sibling_fails(
    tmp_path: pathlib.Path, rules: types.ModuleType
) -> None:
    files = {"envoxy/asserts/__init__.py": "", "envoxy/asserts/py.typed": ""}
    pinned = craft_wheel(tmp_path, "envoxy-asserts", files, requires=("envoxy-core==1.0.0",))
    unbounded = craft_wheel(
        tmp_path, "envoxy-asserts", files, version="1.0.1", requires=("envoxy-core>=1.0",)
    )

    assert "never a pin" in rules.wheel_problems("envoxy-asserts", pinned)[0]
    assert "add an upper bound" in rules.wheel_problems("envoxy-asserts", unbounded)[0]


def test_crafted_wheel_of_another_version_fails(
    tmp_path: pathlib.Path, rules: types.ModuleType
) -> None:
    files = {"envoxy/asserts/__init__.py": "", "envoxy/asserts/py.typed": ""}
    wheel = craft_wheel(tmp_path, "envoxy-asserts", files, version="1.0.1")

    assert rules.wheel_problems("envoxy-asserts", wheel, "1.0.1") == []
    assert rules.wheel_problems("envoxy-asserts", wheel, "1.2.0") == [
        "METADATA Version is 1.0.1, pyproject says 1.2.0"
    ]


@pytest.mark.parametrize("prefix", ["", "refs/tags/"])
def test_tag_check_accepts_the_pyproject_version(prefix: str) -> None:
    version = pyproject_version("envoxy-orm")

    checked = release("tag-check", f"{prefix}envoxy-orm-v{version}")

    assert checked.returncode == 0, checked.stderr
    assert f"is envoxy-orm {version}" in checked.stdout


def test_tag_check_rejects_another_version() -> None:
    checked = release("tag-check", "envoxy-orm-v99.0.0")

    assert checked.returncode == 1
    expected = "says envoxy-orm 99.0.0 but packages/envoxy-orm/pyproject.toml says "
    assert expected + pyproject_version("envoxy-orm") in checked.stderr


@pytest.mark.parametrize(
    "tag", ["envoxy-orm-1.0.0", "envoxy-nothing-v1.0.0", "v1.0.0", "envoxy-orm-vnext"]
)
def test_tag_check_rejects_malformed_tags(tag: str) -> None:
    checked = release("tag-check", tag)

    assert checked.returncode == 1
    assert f"tag {tag!r}" in checked.stderr


def test_bump_rewrites_the_static_version(tmp_path: pathlib.Path) -> None:
    package = tmp_path / "packages" / "envoxy-asserts"
    shutil.copytree(
        REPO_ROOT / "packages" / "envoxy-asserts",
        package,
        ignore=shutil.ignore_patterns("__pycache__", "tests"),
    )
    before = pyproject_version("envoxy-asserts")
    major, minor, _ = (int(part) for part in before.split("."))

    bumped = release("bump", "envoxy-asserts", "minor", root=tmp_path)

    assert bumped.returncode == 0, bumped.stderr
    after = tomllib.loads((package / "pyproject.toml").read_text())["project"]["version"]
    assert after == f"{major}.{minor + 1}.0"
    assert f"tag envoxy-asserts-v{after}" in bumped.stdout
