"""The command line of the ``python -m envoxy.tools.<check> DIR`` checks: one directory."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["directory_argument"]


def directory_argument(argv: Sequence[str] | None, usage: str, missing: str) -> Path | None:
    """Return the one directory named in ``argv`` (``sys.argv[1:]`` when None).

    Prints ``usage: <usage>`` for no argument, several or ``-h``/``--help``, and
    ``<missing>: <path>`` when the path is not a directory, to stderr; returns None then
    (the check exits 2).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] in {"-h", "--help"}:
        print(f"usage: {usage}", file=sys.stderr)
        return None
    directory = Path(args[0])
    if not directory.is_dir():
        print(f"{missing}: {directory}", file=sys.stderr)
        return None
    return directory
