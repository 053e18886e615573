"""Render the fault records of the tests as the table of docs/RELIABILITY.md.

The fault tests (``tests-integration/test_fault_tolerance.py`` and the pgsqlc/ORM ones)
write one JSON record per client and fault to ``build/reliability/`` (see
``testing/envoxy_testing/reliability.py``). Run them, then::

    .venv/bin/pytest tests-integration/test_fault_tolerance.py -q
    .venv/bin/python tools/reliability_table.py            # prints the Markdown table
    .venv/bin/python tools/reliability_table.py --write    # replaces it in the doc

``--write`` replaces the lines between the ``<!-- reliability-table:begin -->`` and
``<!-- reliability-table:end -->`` markers of docs/RELIABILITY.md.
"""

import argparse
import json
import pathlib
import sys
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["load_records", "main", "render_table"]

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "build" / "reliability"
DOC = ROOT / "docs" / "RELIABILITY.md"
BEGIN = "<!-- reliability-table:begin -->"
END = "<!-- reliability-table:end -->"
#: the order of the clients in the table
ORDER = ("redisc", "cache", "couchdbc", "mqttc", "zmqc", "celeryc", "pgsqlc", "orm")


def load_records(folder: pathlib.Path) -> list[dict[str, Any]]:
    """Return every record of ``folder``, in table order."""
    records = [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]

    def rank(row: dict[str, Any]) -> tuple[int, str]:
        client = str(row.get("client", ""))
        return (ORDER.index(client) if client in ORDER else len(ORDER), str(row.get("fault")))

    return sorted(records, key=rank)


def render_table(records: Iterable[dict[str, Any]]) -> str:
    """Return the Markdown table: client, fault, observed behaviour, recovery, test."""
    lines = [
        "| client | fault | observed behaviour | recovery | test |",
        "|---|---|---|---|---|",
    ]
    machines: set[str] = set()
    dates: set[str] = set()
    for row in records:
        seconds = row.get("seconds", {})
        recovery = seconds.get("recover", seconds.get("first_call"))
        recovered = "-" if recovery is None else f"{recovery:.2f} s"
        behaviour = str(row["behaviour"]).replace("|", "/")
        lines.append(
            f"| {row['client']} | {row['fault']} | {behaviour} | {recovered} | `{row['test']}` |"
        )
        machines.add(str(row.get("machine", "")))
        dates.add(str(row.get("measured", "")))
    lines.append("")
    lines.append(f"Measured {', '.join(sorted(dates))} on {'; '.join(sorted(machines))}.")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table, or write it into docs/RELIABILITY.md with ``--write``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=pathlib.Path, default=RESULTS)
    parser.add_argument("--write", action="store_true", help="replace the table in the doc")
    options = parser.parse_args(argv)
    records = load_records(options.results)
    if not records:
        sys.stderr.write(
            f"no records in {options.results}: run tests-integration/test_fault_tolerance.py\n"
        )
        return 1
    table = render_table(records)
    if not options.write:
        sys.stdout.write(table)
        return 0
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        sys.stderr.write(f"{DOC} has no {BEGIN} ... {END} markers\n")
        return 1
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{table}{END}{tail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
