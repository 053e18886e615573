"""Run import-linter over the ``envoxy`` namespace of every library distribution.

Usage: ``python tools/lint_imports.py [lint-imports options]`` (``make lint-deps``). The
contracts are in the root ``pyproject.toml`` under ``[tool.importlinter]``.

Only the meta-package ships ``envoxy/__init__.py``: while its source folder is on
``sys.path``, ``envoxy`` is one regular package and import-linter sees only that folder.
Left out, ``envoxy`` is the namespace package of the six libraries, which is what the
contracts are about (the meta-package imports its names lazily, by name).
"""

import sys
from pathlib import Path

__all__ = ["main"]

#: the meta-package's source folder (the only one holding ``envoxy/__init__.py``)
META_SOURCE = Path(__file__).resolve().parents[1] / "packages" / "envoxy" / "src"


def main() -> None:
    """Run ``lint-imports`` with the meta-package left out; exit with its status."""
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != META_SOURCE]
    for name in [name for name in sys.modules if name == "envoxy" or name.startswith("envoxy.")]:
        del sys.modules[name]
    from importlinter.cli import lint_imports_command

    lint_imports_command()


if __name__ == "__main__":
    main()
