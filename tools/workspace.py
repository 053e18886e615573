"""The workspace members: one list, ``workspace.members`` in ``hatch.toml``, read by every tool.

``hatch`` reads it itself; ``tools/bootstrap``, the Makefile, ``tools/release_wheels.py``
and the runtime Dockerfile read it through this module::

    python tools/workspace.py names          # envoxy-core ... envoxy (dependencies first)
    python tools/workspace.py requirements   # ... packages/envoxy-dispatch[all] ...
    python tools/workspace.py folders        # packages/envoxy-core ...

Settings that cannot read another file (ruff's ``src``, mypy's ``mypy_path``, coverage's
``source`` in ``pyproject.toml``) name the members' folders with a glob where the tool
allows it; ``tests-integration/test_workspace_members.py`` holds the others to this list.
"""

import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["HATCH_TOML", "REPO_ROOT", "Member", "members"]

REPO_ROOT = Path(__file__).resolve().parents[1]
HATCH_TOML = REPO_ROOT / "hatch.toml"


@dataclass(frozen=True)
class Member:
    """One workspace distribution.

    Attributes:
        name: the distribution name (``[project] name`` of its pyproject.toml).
        folder: its folder, relative to the repository root (``packages/envoxy-core``).
        features: the extras installed with it in the workspace (``("all",)``).
    """

    name: str
    folder: str
    features: tuple[str, ...] = ()

    @property
    def requirement(self) -> str:
        """The folder as a pip requirement, with its extras (``packages/envoxy-dispatch[all]``)."""
        return f"{self.folder}[{','.join(self.features)}]" if self.features else self.folder


def members(hatch_toml: Path = HATCH_TOML) -> tuple[Member, ...]:
    """Return the members of ``workspace.members`` in order (dependencies before dependants).

    :raises ValueError: an entry is neither a folder nor a table with ``path``.
    """
    config = tomllib.loads(hatch_toml.read_text(encoding="utf-8"))
    entries = config["envs"]["default"]["workspace"]["members"]
    found = []
    for entry in entries:
        if isinstance(entry, str):
            folder, features = entry, ()
        elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
            folder, features = entry["path"], tuple(entry.get("features", ()))
        else:
            raise ValueError(f"{hatch_toml}: workspace member {entry!r} has no path")
        pyproject = hatch_toml.parent / folder / "pyproject.toml"
        name = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"]
        found.append(Member(name=name, folder=folder, features=features))
    return tuple(found)


def _main(argv: list[str]) -> int:
    fields = {
        "names": lambda member: member.name,
        "requirements": lambda member: member.requirement,
        "folders": lambda member: member.folder,
    }
    if len(argv) != 1 or argv[0] not in fields:
        print(f"usage: python tools/workspace.py {{{'|'.join(fields)}}}", file=sys.stderr)
        return 2
    for member in members():
        print(fields[argv[0]](member))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
