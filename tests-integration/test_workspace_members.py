"""One list of workspace members (hatch.toml workspace.members) that every other place follows."""

import subprocess
import sys
import tomllib
from types import ModuleType

import pytest

from envoxy_testing.repo import REPO_ROOT, tool_module


@pytest.fixture(scope="module")
def workspace() -> ModuleType:
    return tool_module("workspace")


def test_every_package_folder_is_a_member_dependencies_first(workspace: ModuleType) -> None:
    members = workspace.members()
    folders = sorted(
        str(path.parent.relative_to(REPO_ROOT))
        for path in REPO_ROOT.glob("packages/*/pyproject.toml")
    )

    assert sorted(member.folder for member in members) == folders
    names = [member.name for member in members]
    assert (names[0], names[-1]) == ("envoxy-core", "envoxy")
    for position, member in enumerate(members):
        project = tomllib.loads((REPO_ROOT / member.folder / "pyproject.toml").read_text())
        requirements = project["project"].get("dependencies", [])
        siblings = [
            name for name in names if any(req.startswith(f"{name}>") for req in requirements)
        ]
        assert all(names.index(sibling) < position for sibling in siblings), member.name


def test_the_release_tools_read_the_members(workspace: ModuleType) -> None:
    release_wheels = tool_module("release_wheels")

    assert tuple(member.name for member in workspace.members()) == release_wheels.DISTRIBUTIONS
    assert set(release_wheels.OWNED_IMPORT_PATHS) == set(release_wheels.DISTRIBUTIONS)


def test_the_command_line_prints_each_field(workspace: ModuleType) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "workspace.py"), "requirements"],
        capture_output=True,
        text=True,
        check=True,
    )

    assert done.stdout.splitlines() == [member.requirement for member in workspace.members()]
    assert "packages/envoxy-dispatch[all]" in done.stdout.splitlines()


def test_static_settings_name_every_member_source(workspace: ModuleType) -> None:
    # mypy_path and coverage's source cannot read hatch.toml: they must match it
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    sources = [f"{member.folder}/src" for member in workspace.members()]

    assert config["tool"]["ruff"]["src"][0] == "packages/*/src"
    assert config["tool"]["mypy"]["mypy_path"][: len(sources)] == sources
    assert config["tool"]["coverage"]["run"]["source"] == [f"{src}/envoxy" for src in sources]


@pytest.mark.parametrize("path", ["tools/bootstrap", "docker/runtime/Dockerfile"])
def test_installers_take_the_list_from_tools_workspace(workspace: ModuleType, path: str) -> None:
    text = (REPO_ROOT / path).read_text()

    assert "tools/workspace.py requirements" in text
    assert not [member.folder for member in workspace.members() if member.folder in text]
