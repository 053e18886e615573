"""Measured fault behaviour, recorded by the fault tests for ``docs/RELIABILITY.md``.

A fault test calls :func:`record` with what it observed (seconds measured on this
machine); ``tools/reliability_table.py`` renders every record as the table of
``docs/RELIABILITY.md``. Records go to ``build/reliability/<client>--<fault>.json``
(``ENVOXY_RELIABILITY_DIR`` overrides the folder), one file per row, so tests running
in any order or in parallel never write the same file.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

__all__ = ["RESULTS_ENV", "record", "results_dir"]

#: Environment variable naming the folder of the records.
RESULTS_ENV = "ENVOXY_RELIABILITY_DIR"
_ROOT = Path(__file__).resolve().parents[2]


def results_dir() -> Path:
    """Return the folder of the records (created when missing)."""
    folder = Path(os.environ.get(RESULTS_ENV) or _ROOT / "build" / "reliability")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def record(client: str, fault: str, behaviour: str, test: str, **seconds: float) -> Path:
    """Write one row: ``client`` under ``fault`` showed ``behaviour``; ``seconds`` holds
    the measured durations (e.g. ``fail=1.02, recover=0.31``); ``test`` names the test."""
    path = results_dir() / f"{client}--{fault}.json".replace("/", "_").replace(" ", "_")
    row: dict[str, Any] = {
        "client": client,
        "fault": fault,
        "behaviour": behaviour,
        "test": test,
        "seconds": {name: round(value, 2) for name, value in seconds.items()},
        "measured": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}",
    }
    path.write_text(json.dumps(row, indent=1) + "\n")
    return path
