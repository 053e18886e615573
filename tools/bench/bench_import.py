"""Cold import time: ``import envoxy`` and ``from envoxy.db.orm import EnvoxyBase``.

Each statement runs in 10 fresh interpreters (after one discarded warm-up that
writes byte-code caches), for our workspace and for the original envoxy 0.7.1.
Goal: ``import envoxy`` under 50 ms.
"""

import pathlib

from harness import (
    BenchError,
    Timing,
    format_ratio,
    ms,
    original_python,
    print_table,
    time_statement,
    workspace_python,
)

__all__ = ["GOAL_SECONDS", "STATEMENTS", "main"]

#: Budget for ``import envoxy`` in our workspace.
GOAL_SECONDS = 0.050
#: The statements measured, in table order.
STATEMENTS = ("import envoxy", "from envoxy.db.orm import EnvoxyBase")
_REPEAT = 10


def main() -> None:
    """Measure both statements on both sides and print one table with the ratios."""
    sides = {"ours": workspace_python(), "envoxy 0.7.1": original_python()}
    rows: list[list[object]] = []
    envoxy_import: Timing | None = None
    for statement in STATEMENTS:
        timings = {side: _measure(python, statement) for side, python in sides.items()}
        if statement == "import envoxy":
            envoxy_import = timings["ours"]
        ours, original = timings["ours"], timings["envoxy 0.7.1"]
        for side, timing in timings.items():
            if timing is None:
                rows.append([statement, side, "fails", "fails", ""])
            else:
                rows.append([statement, side, ms(timing.min), ms(timing.median), ""])
        if ours is not None and original is not None:
            rows[-2][4] = format_ratio(original.median, ours.median) + " (median)"
    print_table(
        f"cold import, {_REPEAT} fresh interpreters each",
        ["statement", "side", "min", "median", "ours vs 0.7.1"],
        rows,
    )
    if envoxy_import is not None:
        verdict = "meets" if envoxy_import.median < GOAL_SECONDS else "MISSES"
        print(f"\n`import envoxy` median {ms(envoxy_import.median)}: {verdict} the 50 ms goal")


def _measure(python: pathlib.Path, statement: str) -> Timing | None:
    try:
        return time_statement(python, statement, repeat=_REPEAT)
    except BenchError as exc:
        print(f"{statement!r} failed with {python}:\n{exc}\n")
        return None
