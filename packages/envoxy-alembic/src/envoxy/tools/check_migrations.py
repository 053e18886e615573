"""Check a folder of Alembic revision files for CI: ``python -m envoxy.tools.check_migrations DIR``.

The graph of ``revision``/``down_revision`` must have at least one revision, exactly
one head, no missing parent, no duplicate id and no cycle. Files are parsed, never
imported, so a check runs no migration code.

Exit codes: 0 the graph is sound; 2 usage error or not a directory; 3 a check failed
(each problem is printed).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from envoxy.tools.alembic.arguments import directory_argument

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Revision",
    "check_graph",
    "main",
    "read_revisions",
]

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_FAILED = 3


@dataclass(frozen=True)
class Revision:
    """One revision file: its id, its parents and where it was read from."""

    id: str
    parents: tuple[str, ...]
    path: Path


def main(argv: Sequence[str] | None = None) -> int:
    """Check the revision graph under the directory given in ``argv``; return the exit code."""
    directory = directory_argument(
        argv, "python -m envoxy.tools.check_migrations <migrations dir>", "not a directory"
    )
    if directory is None:
        return EXIT_USAGE
    revisions, problems = read_revisions(directory)
    problems += check_graph(revisions)
    if problems:
        for problem in problems:
            print(problem)
        return EXIT_FAILED
    heads = _heads(revisions)
    print(f"Found {len(revisions)} migrations in {directory}, head {heads[0]}")
    return EXIT_OK


def read_revisions(directory: Path) -> tuple[list[Revision], list[str]]:
    """Parse every ``*.py`` revision file below ``directory`` (``versions/`` included)."""
    revisions: list[Revision] = []
    problems: list[str] = []
    for path in sorted(directory.rglob("*.py")):
        if path.name == "env.py" or "__pycache__" in path.parts:
            continue
        try:
            values = _module_assignments(path)
        except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
            problems.append(f"{path}: cannot parse: {exc}")
            continue
        revision = values.get("revision")
        if not isinstance(revision, str):
            continue  # not a revision file
        parents = values.get("down_revision")
        if parents is None:
            parent_ids: tuple[str, ...] = ()
        elif isinstance(parents, str):
            parent_ids = (parents,)
        elif isinstance(parents, list | tuple):
            parent_ids = tuple(str(parent) for parent in parents)
        else:
            problems.append(f"{path}: down_revision must be None, a string or a tuple")
            continue
        revisions.append(Revision(revision, parent_ids, path))
    return revisions, problems


def check_graph(revisions: Sequence[Revision]) -> list[str]:
    """Return one message per problem of the graph formed by ``revisions``."""
    if not revisions:
        return ["no migrations found"]
    problems: list[str] = []
    by_id: dict[str, Revision] = {}
    for revision in revisions:
        if revision.id in by_id:
            first = by_id[revision.id].path
            problems.append(f"duplicate revision id {revision.id}: {first} and {revision.path}")
        by_id[revision.id] = revision
    for revision in revisions:
        for parent in revision.parents:
            if parent not in by_id:
                problems.append(f"{revision.path}: down_revision {parent} does not exist")
    cycle = _find_cycle(by_id)
    if cycle:
        problems.append("cycle: " + " -> ".join(cycle))
    heads = _heads(revisions)
    if len(heads) != 1 and not cycle:
        listed = ", ".join(heads) or "none"
        problems.append(f"expected one head, found {len(heads)}: {listed}")
    return problems


def _heads(revisions: Sequence[Revision]) -> list[str]:
    parents = {parent for revision in revisions for parent in revision.parents}
    return sorted({revision.id for revision in revisions} - parents)


def _find_cycle(by_id: dict[str, Revision]) -> list[str]:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in by_id:
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            node, index = stack.pop()
            if index == 0:
                if state.get(node) == 2:
                    continue
                if state.get(node) == 1:
                    return [*path[path.index(node) :], node]
                state[node] = 1
                path.append(node)
            parents = [p for p in by_id[node].parents if p in by_id]
            if index < len(parents):
                stack.append((node, index + 1))
                stack.append((parents[index], 0))
            else:
                state[node] = 2
                path.pop()
    return []


def _module_assignments(path: Path) -> dict[str, object]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            value = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            targets = [node.target.id]
            value = node.value
        else:
            continue
        for name in targets:
            if name in {"revision", "down_revision"}:
                values[name] = ast.literal_eval(value)
    return values


if __name__ == "__main__":
    raise SystemExit(main())
