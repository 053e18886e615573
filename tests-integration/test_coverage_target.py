"""`make test-cov` / `hatch run test-cov`: the coverage settings of the root pyproject work.

Runs the same pytest command line the target runs, over one small test file, in a
subprocess, and checks it ends well and writes the HTML report with files of several
distributions (the namespace package is spread over their source folders).
"""

import pathlib
import re
import subprocess
import sys

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_coverage_target_runs_and_writes_an_html_report(tmp_path: pathlib.Path) -> None:
    report = tmp_path / "htmlcov"
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--cov",
            "--cov-report=term",
            f"--cov-report=html:{report}",
            "packages/envoxy-core/tests/test_core_helpers.py",
        ],
        cwd=REPO_ROOT,
        env={"COVERAGE_FILE": str(tmp_path / ".coverage"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output
    assert "INTERNALERROR" not in output
    index = re.sub(r"<[^>]+>|\s", "", (report / "index.html").read_text())
    for source in (
        "packages/envoxy-core/src/envoxy/utils/config.py",
        "packages/envoxy-daemon/src/envoxy/daemon/app.py",
        "packages/envoxy/src/envoxy/__init__.py",
    ):
        assert source in index, source
