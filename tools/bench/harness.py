"""Shared helpers for the side-by-side benchmarks in ``tools/bench/``.

Every benchmark measures our code and the original ``envoxy`` 0.7.1 in ONE run,
each in fresh interpreters, so the numbers come from the same machine state::

    from harness import original_python, print_table, time_statement, workspace_python

    ours = time_statement(workspace_python(), "import envoxy")
    theirs = time_statement(original_python(), "import envoxy")
    print_table("import envoxy", ["side", "min", "median"], [
        ["ours", ms(ours.min), ms(ours.median)],
        ["0.7.1", ms(theirs.min), ms(theirs.median)],
    ])

``original_python()`` creates ``.bench/envoxy-0.7.1`` on first use (about a
minute: pip builds ``psycopg2`` from source, which needs ``gcc``, ``pg_config``
and the libpq headers; see ``tools/bench/README.md``).
"""

import contextlib
import fcntl
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "BENCH_DIR",
    "ORIGINAL_VERSION",
    "REPO_ROOT",
    "BenchError",
    "Timing",
    "format_ratio",
    "ms",
    "original_python",
    "print_table",
    "run_script",
    "time_statement",
    "workspace_python",
]

#: Root of the workspace checkout.
REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
#: Where benchmark virtual environments live (ignored by git).
BENCH_DIR = REPO_ROOT / ".bench"
#: The release of the original single-package ``envoxy`` we compare against.
ORIGINAL_VERSION = "0.7.1"

#: Environment variables that would make one interpreter see another's packages.
_LEAKY_VARIABLES = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONNOUSERSITE")


class BenchError(RuntimeError):
    """A benchmark step failed: a script exited non-zero, timed out or printed garbage."""


@dataclass(frozen=True)
class Timing:
    """Seconds measured over repeated fresh-interpreter runs.

    Attributes:
        samples: every measurement, in seconds, in the order taken.
    """

    samples: tuple[float, ...]

    @property
    def min(self) -> float:
        """Fastest run, in seconds (the least disturbed by the machine)."""
        return min(self.samples)

    @property
    def median(self) -> float:
        """Median run, in seconds."""
        return statistics.median(self.samples)


def workspace_python() -> pathlib.Path:
    """Return the workspace interpreter (``.venv/bin/python``) that has our packages.

    Raises:
        BenchError: the workspace virtual environment does not exist yet.
    """
    python = REPO_ROOT / ".venv" / "bin" / "python"
    if not python.exists():
        raise BenchError(f"{python} is missing: run `make bootstrap` first")
    return python


def original_python() -> pathlib.Path:
    """Return a Python 3.12 with the original ``envoxy==0.7.1``, creating it on first use.

    The virtual environment is ``.bench/envoxy-0.7.1``, made with the interpreter
    ``tools/find-python`` prints. A file lock keeps concurrent benchmark runs from
    building it twice; a marker file written last makes a half-built one start over.

    Raises:
        BenchError: no Python 3.12 was found, or pip could not install the package.
    """
    venv = BENCH_DIR / f"envoxy-{ORIGINAL_VERSION}"
    python = venv / "bin" / "python"
    marker = venv / ".envoxy-installed"
    if marker.exists():
        return python
    BENCH_DIR.mkdir(exist_ok=True)
    with _exclusive_lock(BENCH_DIR / f"envoxy-{ORIGINAL_VERSION}.lock"):
        if marker.exists():
            return python
        shutil.rmtree(venv, ignore_errors=True)
        base_python = _find_python()
        print(f"creating {venv} with envoxy=={ORIGINAL_VERSION} (about a minute)...", flush=True)
        _check_call([base_python, "-m", "venv", str(venv)])
        _check_call(
            [str(python), "-m", "pip", "install", "--quiet", f"envoxy=={ORIGINAL_VERSION}"],
            hint="psycopg2 builds from source: install gcc and libpq-dev (pg_config)",
        )
        marker.write_text(ORIGINAL_VERSION + "\n")
    return python


def run_script(
    python: os.PathLike[str] | str,
    code: str,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
) -> str:
    """Run ``code`` in a fresh interpreter and return what it printed on stdout.

    The child gets the current environment without ``VIRTUAL_ENV``/``PYTHONPATH``
    (so neither side sees the other's packages) updated with ``env``, runs with
    ``-P`` (the working directory is not on ``sys.path``) from the repository root.

    Args:
        python: interpreter to run, e.g. :func:`workspace_python()`.
        code: Python source passed with ``-c``.
        env: extra environment variables for the child.
        timeout: seconds before the child is killed.

    Raises:
        BenchError: the child exited non-zero (its stderr is in the message) or timed out.
    """
    child_env = {key: value for key, value in os.environ.items() if key not in _LEAKY_VARIABLES}
    child_env.update(env or {})
    try:
        completed = subprocess.run(
            [os.fspath(python), "-P", "-c", code],
            env=child_env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{python} did not finish within {timeout} s running:\n{code}") from exc
    if completed.returncode != 0:
        raise BenchError(
            f"{python} exited with {completed.returncode} running:\n{code}\n"
            f"stderr:\n{completed.stderr.strip()}"
        )
    return completed.stdout


def time_statement(
    python: os.PathLike[str] | str,
    statement: str,
    *,
    setup: str = "",
    repeat: int = 10,
    warmup: int = 1,
    env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
) -> Timing:
    """Time ``statement`` once in each of ``repeat`` fresh interpreters.

    Only the statement is timed (``time.perf_counter`` around ``exec``), not the
    interpreter start-up or ``setup``. ``warmup`` extra runs come first and are
    discarded, so byte-code caches are written before measuring.

    Args:
        python: interpreter to run.
        statement: Python source to time, e.g. ``"import envoxy"``.
        setup: source run before the timer starts.
        repeat: number of measured fresh interpreters.
        warmup: number of discarded runs before measuring.
        env: extra environment variables for each child.
        timeout: seconds allowed per child.

    Raises:
        ValueError: ``repeat`` is below 1.
        BenchError: a run failed (see :func:`run_script`).
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    code = (
        "import time as __bench_time, json as __bench_json\n"
        f"exec(compile({setup!r}, '<setup>', 'exec'))\n"
        "__bench_start = __bench_time.perf_counter()\n"
        f"exec(compile({statement!r}, '<statement>', 'exec'))\n"
        "__bench_elapsed = __bench_time.perf_counter() - __bench_start\n"
        "print('\\n' + __bench_json.dumps({'elapsed': __bench_elapsed}))\n"
    )
    samples: list[float] = []
    for index in range(warmup + repeat):
        output = run_script(python, code, env=env, timeout=timeout)
        if index >= warmup:
            samples.append(_parse_elapsed(output, python))
    return Timing(tuple(samples))


def ms(seconds: float) -> str:
    """Format seconds as milliseconds with one decimal, e.g. ``"12.3 ms"``."""
    return f"{seconds * 1000:.1f} ms"


def format_ratio(reference: float, ours: float) -> str:
    """Say how many times faster or slower ``ours`` is than ``reference`` ("52.1x faster")."""
    if ours <= 0 or reference <= 0:
        return "n/a"
    if ours <= reference:
        return f"{reference / ours:.1f}x faster"
    return f"{ours / reference:.1f}x slower"


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows under ``title`` as a plain aligned text table on stdout.

    Args:
        title: heading printed above the table.
        columns: column headers.
        rows: one sequence of cells per row, each as long as ``columns``.

    Raises:
        ValueError: a row has a different number of cells than there are columns.
    """
    cells = [[str(cell) for cell in row] for row in rows]
    for row in cells:
        if len(row) != len(columns):
            raise ValueError(f"row {row} has {len(row)} cells, expected {len(columns)}")
    widths = [
        max(len(header), *(len(row[index]) for row in cells)) if cells else len(header)
        for index, header in enumerate(columns)
    ]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(columns, widths, strict=True)).rstrip())
    print("  ".join("-" * width for width in widths))
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    sys.stdout.flush()


@contextlib.contextmanager
def _exclusive_lock(path: pathlib.Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _find_python() -> str:
    completed = subprocess.run(
        [str(REPO_ROOT / "tools" / "find-python")],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(completed.stderr.strip() or "tools/find-python found no Python 3.12")
    return completed.stdout.strip()


def _check_call(command: Sequence[str], *, hint: str = "") -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        message = f"`{' '.join(command)}` failed ({completed.returncode}):\n{completed.stderr}"
        raise BenchError(message + (f"\nhint: {hint}" if hint else ""))


def _parse_elapsed(output: str, python: os.PathLike[str] | str) -> float:
    last_line = output.rstrip().rpartition("\n")[2]
    try:
        return float(json.loads(last_line)["elapsed"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BenchError(f"{python} printed no timing line; its output was:\n{output}") from exc
