"""Upgrading a virtual environment from envoxy 0.7.1 (the last single package, from the
index) to the 1.x distributions (the wheels built from this checkout), as
docs/MIGRATING.md says it goes:

- in place (``pip install -U envoxy``): pip installs the new distributions, then removes
  0.7.1's files by its RECORD, some of which now belong to them. ``import envoxy`` then
  fails with an ImportError that names the missing files and the one command restoring
  them; after that command everything imports and works.
- uninstalling 0.7.1 first, then installing: works at once.

0.7.1 is installed without its dependencies: what breaks is which files pip removes,
not what 0.7.1 needs to run.
"""

import os
import pathlib
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
OLD = "envoxy==0.7.1"
#: what a 0.7 user runs to upgrade, and what then must work
NEW = ("envoxy==1.*", "envoxy-dispatch[all]==1.*")
SMOKE = (
    "import envoxy\n"
    "from envoxy import View, on, Response, redisc, pgsqlc, mqttc, constants\n"
    "from envoxy.asserts import assertz_mandatory\n"
    "from envoxy.db.orm import EnvoxyBase\n"
    "import envoxy.daemon.launcher, envoxy.tools.alembic\n"
    "print('version', envoxy.__version__)\n"
)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    folder = tmp_path_factory.mktemp("wheels")
    built = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "tools" / "release.py"),
            "--dist-dir",
            str(folder),
            "build-all",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return folder


@pytest.fixture
def venv(tmp_path: pathlib.Path) -> Iterator[pathlib.Path]:
    folder = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=120)
    pip(folder, "install", "--no-deps", OLD)
    return folder


def pip(venv: pathlib.Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    finished = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished


def python(venv: pathlib.Path, code: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=environment,
        cwd=venv,
    )


def test_an_in_place_upgrade_names_the_cause_and_the_command_that_repairs_it(
    venv: pathlib.Path, wheels: pathlib.Path
) -> None:
    pip(venv, "install", "--upgrade", "--find-links", str(wheels), *NEW)

    broken = python(venv, "import envoxy")
    assert broken.returncode != 0
    last_line = broken.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError: the Envoxy installation is incomplete")
    assert "envoxy/constants.py" in last_line
    assert "envoxy 0.7" in last_line
    command = re.search(r"Restore them with: (.+)$", last_line)
    assert command is not None, last_line
    words = shlex.split(command.group(1))
    assert words[:4] == [str(venv / "bin" / "python"), "-m", "pip", "install"]
    assert "--force-reinstall" in words
    assert "envoxy-core==1.0.0" in words or any(w.startswith("envoxy-core==") for w in words)

    # the printed command, pointed at the local wheels instead of the index
    repaired = subprocess.run(
        [*words, "--find-links", str(wheels)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr

    works = python(venv, SMOKE)
    assert works.returncode == 0, works.stderr
    assert "version 1." in works.stdout


def test_uninstalling_first_then_installing_works_at_once(
    venv: pathlib.Path, wheels: pathlib.Path
) -> None:
    pip(venv, "uninstall", "--yes", "envoxy")
    pip(venv, "install", "--find-links", str(wheels), *NEW)
    works = python(venv, SMOKE)
    assert works.returncode == 0, works.stderr
    assert "version 1." in works.stdout
