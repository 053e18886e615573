"""Check JSON model files for the mandatory fields: ``python -m envoxy.tools.validate_models DIR``.

Every ``fields`` object, at the top level or in ``datums[*]``, must have ``id``,
``created``, ``updated`` and ``href``.

Exit codes: 0 every file is valid; 2 usage error or a missing directory; 3 a problem
(each printed as ``<path>: missing fields: a, b`` or ``<path>: invalid JSON: <reason>``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from envoxy.tools.alembic.arguments import directory_argument
from envoxy.utils.deprecation import deprecated_aliases

__all__ = ["EXIT_INVALID", "EXIT_OK", "EXIT_USAGE", "REQUIRED_FIELDS", "check_file", "main"]

REQUIRED_FIELDS = frozenset({"id", "created", "updated", "href"})
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INVALID = 3

#: 0.7 names: ``validate_model_file(path)`` returned the problems of one file, as
#: :func:`check_file` does; ``REQUIRED`` was the set of mandatory fields
__getattr__ = deprecated_aliases(
    __name__,
    {"validate_model_file": (__name__, "check_file"), "REQUIRED": (__name__, "REQUIRED_FIELDS")},
)


def main(argv: Sequence[str] | None = None) -> int:
    """Validate every ``*.json`` file below the directory in ``argv``; return the exit code."""
    directory = directory_argument(
        argv, "python -m envoxy.tools.validate_models <models dir>", "models directory not found"
    )
    if directory is None:
        return EXIT_USAGE
    problems = [
        problem for path in sorted(directory.rglob("*.json")) for problem in check_file(path)
    ]
    for problem in problems:
        print(problem)
    return EXIT_INVALID if problems else EXIT_OK


def check_file(path: Path) -> list[str]:
    """Return the problems of one JSON model file (empty when it is valid)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return [f"{path}: invalid JSON: {exc}"]
    problems = []
    for fields in _field_objects(document):
        missing = REQUIRED_FIELDS - fields.keys()
        if missing:
            problems.append(f"{path}: missing fields: {', '.join(sorted(missing))}")
    return problems


def _field_objects(document: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(document, dict):
        return
    if isinstance(document.get("fields"), dict):
        yield document["fields"]
    datums = document.get("datums")
    if isinstance(datums, list):
        for datum in datums:
            if isinstance(datum, dict) and isinstance(datum.get("fields"), dict):
                yield datum["fields"]


if __name__ == "__main__":
    raise SystemExit(main())
