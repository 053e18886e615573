"""The shared pieces of tools/bench/harness.py that the client benchmarks build on."""

import importlib
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

from envoxy_testing.repo import REPO_ROOT


@pytest.fixture(scope="module")
def harness() -> ModuleType:
    folder = str(REPO_ROOT / "tools" / "bench")  # the benchmarks import it as ``harness``
    sys.path.insert(0, folder)
    try:
        return importlib.import_module("harness")
    finally:
        sys.path.remove(folder)


def test_throughput_gives_median_best_and_cpu_per_operation(harness: ModuleType) -> None:
    sides = harness.Throughput.of({"raw": [(2.0, 1.0), (1.0, 0.5), (4.0, 2.0)]}, 1000)
    raw = sides["raw"]
    assert (raw.median, raw.best, raw.cpu_us) == (500.0, 1000.0, 1000.0)
    assert raw.row("raw", 250.0) == ["raw", "500", "1,000", "1000.0 us", "2.00x"]


def test_throughput_of_runs_merges_the_sides_each_run_printed(harness: ModuleType) -> None:
    runs = [{"a": [1.0, 0.1], "b": [2.0, 0.2]}, {"a": [3.0, 0.3]}]
    sides = harness.Throughput.of_runs(runs, 10)
    assert sides["a"].runs == ((1.0, 0.1), (3.0, 0.3))
    assert sides["b"].runs == ((2.0, 0.2),)


def test_unavailable_row_fills_every_column(harness: ModuleType) -> None:
    row = harness.unavailable_row("original 0.7.1", 5)
    assert row == ["original 0.7.1", "n/a", "n/a", "n/a", "reference venv unavailable"]


def test_config_env_writes_a_quiet_config_and_removes_it(harness: ModuleType) -> None:
    with harness.config_env({"redis_servers": {"bench": {"bind": "127.0.0.1:1"}}}) as env:
        path = Path(env["ENVOXY_CONFIG"])
        assert json.loads(path.read_text()) == {
            "log": {"level": 3},
            "redis_servers": {"bench": {"bind": "127.0.0.1:1"}},
        }
    assert not path.exists()


def test_run_rounds_alternates_the_scripts_and_parses_their_last_line(
    harness: ModuleType, tmp_path: Path
) -> None:
    log = tmp_path / "order"
    script = """
        import os
        with open(os.environ["ORDER_LOG"], "a") as log:
            log.write("{name}")
        print("noise")
        print('[1.5, "{name}"]')
    """
    scripts = {
        name: (os.fspath(harness.workspace_python()), script.format(name=name))
        for name in ("a", "b")
    }
    results = harness.run_rounds(scripts, 2, env={"ORDER_LOG": str(log)}, timeout=60)
    assert results == {"a": [[1.5, "a"], [1.5, "a"]], "b": [[1.5, "b"], [1.5, "b"]]}
    assert log.read_text() == "abab"
