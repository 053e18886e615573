"""One check of a module's ``__all__`` for every package's export tests.

House rule 2: ``__all__`` lists the public names. :func:`all_problems` says what breaks it
for one module: no ``__all__``, duplicates, listed names that do not exist, and public
functions and classes the module defines (read from its source) that ``__all__`` leaves
out. Re-exported imports may be listed; they must exist. Two stricter modes: ``constants``
counts top-level assignments and type aliases as definitions too, and ``exact`` (for
facade packages) wants every public attribute that is not a module listed.

    assert all_problems("envoxy.redis") == []
"""

from __future__ import annotations
import __future__

import ast
import importlib
import types
from collections.abc import Collection
from pathlib import Path

__all__ = ["all_problems", "modules_under", "public_definitions"]


def all_problems(
    module_name: str,
    *,
    lazy: Collection[str] = (),
    constants: bool = False,
    exact: bool = False,
    ignore: Collection[str] = (),
) -> list[str]:
    """Everything wrong with ``module_name.__all__``; empty when it lists exactly the API.

    Args:
        module_name: Dotted name to import.
        lazy: Names in ``__all__`` built on first access (e.g. inside uWSGI); not looked up.
        constants: Public top-level assignments and type aliases must be listed too.
        exact: Every public attribute that is not a module (imports included) must be
            listed: the rule for a package whose ``__init__`` only re-exports.
        ignore: Public names that may stay out of ``__all__`` (say why where you call it).
    """
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        return [f"{module_name} has no __all__"]
    problems = []
    duplicates = sorted({name for name in exported if list(exported).count(name) > 1})
    if duplicates:
        problems.append(f"{module_name}.__all__ lists {duplicates} more than once")
    missing = [name for name in exported if name not in lazy and not hasattr(module, name)]
    if missing:
        problems.append(f"{module_name}.__all__ names what the module lacks: {missing}")
    public = public_definitions(module_name, constants=constants)
    if exact:
        public |= {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and not isinstance(value, types.ModuleType | __future__._Feature)
        }
    unlisted = sorted(public - set(exported) - set(ignore))
    if unlisted:
        problems.append(f"{module_name} has public names not in __all__: {unlisted}")
    return problems


def public_definitions(module_name: str, *, constants: bool = False) -> set[str]:
    """Public functions and classes ``module_name`` defines at top level, from its source.

    With ``constants``, also the targets of top-level assignments and type aliases.
    """
    module = importlib.import_module(module_name)
    if module.__file__ is None:  # a namespace package defines nothing
        return set()
    tree = ast.parse(Path(module.__file__).read_text())
    defined: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif not constants:
            continue
        elif isinstance(node, ast.TypeAlias) and isinstance(node.name, ast.Name):
            defined.add(node.name.id)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined.update(
                name.id for target in targets for name in ast.walk(target)
                if isinstance(name, ast.Name)
            )  # fmt: skip
    return {name for name in defined if not name.startswith("_")}


def modules_under(source_root: Path) -> list[str]:
    """Dotted names of every module below ``source_root`` (a ``src`` folder), sorted."""
    names = []
    for path in sorted(source_root.rglob("*.py")):
        parts = list(path.relative_to(source_root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names
