"""Fixtures of the envoxy-daemon tests.

A real ``envoxyd`` comes from the workspace plugin's ``start_envoxyd`` fixture
(:mod:`envoxy_testing.envoxyd`); ``write_config`` writes the test's ``envoxy.json``;
``project_tests`` runs a generated project's own tests.
"""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envoxy_testing.envoxyd import write_config as _write_config


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a config dict as ``envoxy.json`` in the test's directory; return its path."""

    def write(config: dict[str, Any], name: str = "envoxy.json") -> Path:
        return _write_config(tmp_path, config, name)

    return write


@pytest.fixture
def project_tests(tmp_path: Path) -> Callable[[Path], subprocess.CompletedProcess[str]]:
    """Run the own tests of a project made by ``create-project``: pytest in this
    interpreter, from the project folder (on ``PYTHONPATH`` instead of an install),
    without the test process's ``ENVOXY_*``/``SERVICE_*`` variables."""

    def run(project: Path) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVOXY_", "SERVICE_"))}
        env["PYTHONPATH"] = str(project)
        temp = str(tmp_path / "project-tests")
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", temp],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=240,
        )

    return run
