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
import tempfile
import textwrap
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BENCH_DIR",
    "FRAMEWORKS",
    "ORIGINAL_VERSION",
    "REPO_ROOT",
    "BenchError",
    "Throughput",
    "Timing",
    "config_env",
    "format_ratio",
    "frameworks_site",
    "ms",
    "original_python",
    "ours_and_original",
    "print_table",
    "run_rounds",
    "run_script",
    "time_statement",
    "unavailable_row",
    "workspace_python",
]

#: Root of the workspace checkout.
REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
#: Where benchmark virtual environments live (ignored by git).
BENCH_DIR = REPO_ROOT / ".bench"
#: The release of the original single-package ``envoxy`` we compare against.
ORIGINAL_VERSION = "0.7.1"

#: The other web frameworks the daemon benchmark compares with (``.bench/frameworks``);
#: benchmark-only: never a dependency of a workspace package.
FRAMEWORKS = ("falcon>=4.4,<5", "flask>=3.1,<4")

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


@dataclass(frozen=True)
class Throughput:
    """Operations per second of one side, over the runs of a benchmark.

    Attributes:
        count: operations timed in each run.
        runs: ``(wall seconds, CPU seconds)`` of each run.
    """

    count: int
    runs: tuple[tuple[float, float], ...]

    @classmethod
    def of(
        cls, samples: Mapping[str, Iterable[Sequence[float]]], count: int
    ) -> dict[str, "Throughput"]:
        """Return side -> :class:`Throughput` for side -> ``[(wall, cpu), ...]``."""
        return {
            side: cls(count, tuple((float(wall), float(cpu)) for wall, cpu in runs))
            for side, runs in samples.items()
        }

    @classmethod
    def of_runs(
        cls, outputs: Iterable[Mapping[str, Sequence[float]]], count: int
    ) -> dict[str, "Throughput"]:
        """Like :meth:`of`, for runs that each printed ``{side: [wall, cpu], ...}``."""
        samples: dict[str, list[Sequence[float]]] = {}
        for output in outputs:
            for side, wall_cpu in output.items():
                samples.setdefault(side, []).append(wall_cpu)
        return cls.of(samples, count)

    @property
    def median(self) -> float:
        """Median operations per second (wall clock)."""
        return statistics.median(self.count / wall for wall, _ in self.runs)

    @property
    def best(self) -> float:
        """Operations per second of the fastest run."""
        return max(self.count / wall for wall, _ in self.runs)

    @property
    def cpu_us(self) -> float:
        """Median CPU time per operation, in microseconds (the client-side cost)."""
        return statistics.median(cpu for _, cpu in self.runs) / self.count * 1e6

    def row(self, side: str, *references: float) -> list[object]:
        """A table row: ``side``, median and best rates, CPU per operation, and the
        median rate over each reference rate (``"0.97x"``)."""
        ratios = [f"{self.median / reference:.2f}x" for reference in references]
        return [side, f"{self.median:,.0f}", f"{self.best:,.0f}", f"{self.cpu_us:.1f} us", *ratios]


def unavailable_row(side: str, columns: int) -> list[object]:
    """A table row of ``columns`` cells for a side that could not run (no reference venv)."""
    return [side, *["n/a"] * (columns - 2), "reference venv unavailable"]


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


def ours_and_original(ours: str, original: str) -> dict[str, tuple[pathlib.Path, str]]:
    """The scripts of a side-by-side benchmark for :func:`run_rounds`: ``ours`` under the
    workspace interpreter, and ``original`` under :func:`original_python` when that can
    be built (else it is left out, saying why)."""
    scripts = {"ours": (workspace_python(), ours)}
    try:
        scripts["original"] = (original_python(), original)
    except BenchError as exc:
        print(f"(original envoxy {ORIGINAL_VERSION} skipped: {exc})")
    return scripts


@contextlib.contextmanager
def config_env(config: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    """Write ``config`` (plus ``"log": {"level": 3}`` unless given) to a temporary
    ``envoxy.json`` and yield ``{"ENVOXY_CONFIG": its path}`` for the child scripts.
    The file is deleted afterwards."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "envoxy.json")
        with open(path, "w") as handle:
            json.dump({"log": {"level": 3}, **config}, handle)
        yield {"ENVOXY_CONFIG": path}


def run_rounds(
    scripts: Mapping[str, tuple[os.PathLike[str] | str, str]],
    rounds: int,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 600.0,
) -> dict[str, list[Any]]:
    """Run every script ``rounds`` times, alternating, each in a fresh interpreter.

    Args:
        scripts: name -> (interpreter, source); the source is dedented, and its last
            printed line must be JSON.
        rounds: how many times each script runs.
        env: extra environment variables for every child.
        timeout: seconds allowed per child.

    Returns:
        name -> the JSON value of the last line of each of its runs, in order.

    Raises:
        BenchError: a run failed (see :func:`run_script`).
    """
    results: dict[str, list[Any]] = {name: [] for name in scripts}
    for _ in range(rounds):
        for name, (python, code) in scripts.items():
            output = run_script(python, textwrap.dedent(code), env=env, timeout=timeout)
            results[name].append(json.loads(output.splitlines()[-1]))
    return results


def frameworks_site() -> pathlib.Path:
    """Return the ``site-packages`` of ``.bench/frameworks`` (:data:`FRAMEWORKS`), creating it
    on first use.

    The daemon benchmark runs Falcon and Flask apps with the workspace's own ``pyuwsgi``
    and interpreter, with this folder first on ``sys.path`` (``--pythonpath``), so the
    three servers differ only by the framework. Lock and marker as :func:`original_python`;
    the marker holds the requirements, so changing :data:`FRAMEWORKS` rebuilds it.

    Raises:
        BenchError: no Python 3.12 was found, or pip could not install the frameworks.
    """
    venv = BENCH_DIR / "frameworks"
    site = venv / "lib" / "python3.12" / "site-packages"
    marker = venv / ".frameworks-installed"
    wanted = "\n".join(FRAMEWORKS) + "\n"
    if marker.exists() and marker.read_text() == wanted:
        return site
    BENCH_DIR.mkdir(exist_ok=True)
    with _exclusive_lock(BENCH_DIR / "frameworks.lock"):
        if marker.exists() and marker.read_text() == wanted:
            return site
        shutil.rmtree(venv, ignore_errors=True)
        print(f"creating {venv} with {', '.join(FRAMEWORKS)}...", flush=True)
        _check_call([_find_python(), "-m", "venv", str(venv)])
        _check_call([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *FRAMEWORKS])
        marker.write_text(wanted)
    return site


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
