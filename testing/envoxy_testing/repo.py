"""The repository around the tests: its root, and the modules of ``tools/``.

``tools/`` is no package: ``tools/release.py`` imports its siblings (``release_wheels``,
``workspace``) by putting its folder on ``sys.path``. Tests import them the same way::

    workspace = tool_module("workspace")
    workspace.members()
"""

import importlib
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["REPO_ROOT", "tool_module"]

REPO_ROOT = Path(__file__).resolve().parents[2]


def tool_module(name: str) -> ModuleType:
    """Import ``tools/<name>.py`` (and what it imports from ``tools/``) and return it."""
    folder = str(REPO_ROOT / "tools")
    sys.path.insert(0, folder)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(folder)
