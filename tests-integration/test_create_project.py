"""``envoxy-cli create-project`` end to end: the SPEC §10.3 guarantees, straight after generation.

A project is generated into a temporary folder, then, in a fresh virtual environment
made from the workspace interpreter (``tools/find-python``):

1. ``pip install -e '.[test]'`` and ``pytest`` pass;
2. ``envoxy-alembic upgrade head`` creates the table (read back with sqlite3);
3. ``envoxyd --http 127.0.0.1:<port> --set conf=envoxy.json``, run from the project
   folder as its README says, answers the views, ``/_health`` and ``/_ready``, and
   exits 0 on SIGTERM.

The framework is installed from wheels built from this checkout into a temporary
folder (``tools/release.py --dist-dir``), never from a stale ``dist/`` nor from the
workspace venv: the venv holds only what the wheels and the project declare, so a
missing dependency fails here. Third-party packages come from the configured index.
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[1]
ENVOXY_CLI = Path(sys.executable).with_name("envoxy-cli")
PROJECT_NAME = "Orders Service"
PACKAGE = "orders_service"
#: seconds allowed to one install or build step
STEP_TIMEOUT = 600


@dataclass(frozen=True)
class Project:
    """The generated project and the virtual environment it is installed in."""

    root: Path
    venv: Path

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment: the venv first on PATH, nothing of the workspace's."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("ENVOXY_", "SERVICE_", "PYTHON", "VIRTUAL_ENV", "NOTIFY_"))
        }
        env.update(PATH=f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", **extra)
        return env

    def run(self, *command: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        """Run ``command`` in the project folder with the venv's environment."""
        return subprocess.run(
            list(command),
            cwd=self.root,
            env=self.env(**extra_env),
            capture_output=True,
            text=True,
            check=False,
            timeout=STEP_TIMEOUT,
        )


def step(command: list[str], what: str, cwd: Path | None = None) -> None:
    """Run one setup step; fail with its output when it fails."""
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, check=False, timeout=STEP_TIMEOUT
    )
    assert result.returncode == 0, f"{what} failed:\n{result.stdout}\n{result.stderr}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A freshly generated project, installed with ``pip install -e '.[test]'`` in a new venv."""
    work = tmp_path_factory.mktemp("create_project")
    wheels = work / "wheels"
    step(
        [sys.executable, "tools/release.py", "--dist-dir", str(wheels), "build-all"],
        "building the workspace wheels",
        cwd=REPO_ROOT,
    )
    step(
        [str(ENVOXY_CLI), "create-project", PROJECT_NAME, "--dir", str(work)],
        "envoxy-cli create-project",
    )
    created = Project(root=work / "orders-service", venv=work / "venv")
    python = subprocess.run(
        [str(REPO_ROOT / "tools" / "find-python")], capture_output=True, text=True, check=True
    ).stdout.strip()
    step([python, "-m", "venv", "--without-pip", str(created.venv)], "creating the venv")
    pip = [sys.executable, "-m", "pip", "--python", created.bin("python"), "install", "--quiet"]
    step([*pip, *map(str, sorted(wheels.glob("*.whl")))], "installing the workspace wheels")
    step([*pip, "-e", ".[test]"], "pip install -e '.[test]' in the project", cwd=created.root)
    return created


@pytest.fixture(scope="module")
def migrated(project: Project) -> subprocess.CompletedProcess[str]:
    """``envoxy-alembic upgrade head`` run as the README says, from the project folder."""
    return project.run(
        project.bin("envoxy-alembic"), "upgrade", "head", ENVOXY_CONFIG="envoxy.json"
    )


@dataclass
class Daemon:
    """envoxyd serving the project, with its log."""

    process: subprocess.Popen[bytes]
    base: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def daemon(
    project: Project,
    migrated: subprocess.CompletedProcess[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Daemon]:
    """``envoxyd --http 127.0.0.1:<port> --set conf=envoxy.json`` from the project folder."""
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    log_path = tmp_path_factory.mktemp("envoxyd") / "envoxyd.log"
    with open(log_path, "wb") as output:
        process = subprocess.Popen(
            [project.bin("envoxyd"), "--http", f"127.0.0.1:{port}", "--set", "conf=envoxy.json"],
            cwd=project.root,
            env=project.env(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    running = Daemon(process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_until_serving(running)
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _wait_until_serving(daemon: Daemon, timeout: float = 60.0) -> None:
    """Poll until ``/_health`` answers and the master ran its start hooks (SIGTERM is then
    graceful)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert daemon.process.poll() is None, f"envoxyd exited:\n{daemon.log()}"
        try:
            healthy = httpx.get(daemon.base + "/_health", timeout=1).status_code == 200
        except httpx.HTTPError:
            healthy = False
        if healthy and "(master-start)" in daemon.log():
            return
        time.sleep(0.05)
    raise AssertionError(f"envoxyd did not start within {timeout:g} s:\n{daemon.log()}")


def test_generated_tests_pass_after_pip_install(project: Project, tmp_path: Path) -> None:
    result = project.run(
        project.bin("pytest"), "-q", "-p", "no:cacheprovider", "--basetemp", str(tmp_path)
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_upgrade_head_creates_the_table(
    project: Project, migrated: subprocess.CompletedProcess[str]
) -> None:
    assert migrated.returncode == 0, migrated.stderr
    with sqlite3.connect(project.root / f"{PACKAGE}.db") as database:
        tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master")}
        columns = {row[1] for row in database.execute("PRAGMA table_info(aux_items)")}
        version = database.execute("SELECT version_num FROM alembic_version").fetchall()

    assert {"aux_items", "alembic_version", "idx_items_name"} <= tables
    assert columns == {"id", "created", "updated", "href", "name"}
    assert version == [("0001",)]


def test_models_match_the_migrations(
    project: Project, migrated: subprocess.CompletedProcess[str]
) -> None:
    assert migrated.returncode == 0, migrated.stderr

    result = project.run(
        project.bin("envoxy-alembic"),
        "check",
        ENVOXY_CONFIG="envoxy.json",
        SERVICE_MODELS=f"{PACKAGE}.models",
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_envoxyd_serves_the_views(daemon: Daemon) -> None:
    created = httpx.post(daemon.base + "/v1/items", json={"name": "First order"}, timeout=10)
    listed = httpx.get(daemon.base + "/v1/items", timeout=10)
    item_id = created.json()["id"]
    found = httpx.get(f"{daemon.base}/v1/items/{item_id}", timeout=10)

    assert created.status_code == 201, daemon.log()
    assert created.json()["name"] == "First order"
    assert listed.status_code == 200
    assert created.json() in listed.json()["elements"]
    assert found.status_code == 200
    assert found.json() == created.json()


def test_envoxyd_answers_health(daemon: Daemon) -> None:
    answer = httpx.get(daemon.base + "/_health", timeout=10)

    assert answer.status_code == 200
    assert answer.json() == {"status": "healthy", "service": "envoxy"}


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="envoxy-daemon: /_ready checks psql_servers with pgsqlc, which refuses a SQLite url "
    "(503 'pgsqlc speaks PostgreSQL only'); the check must SELECT 1 through the ORM for "
    "non-PostgreSQL urls. Strict: remove this marker once that is fixed.",
)
def test_envoxyd_answers_ready(daemon: Daemon) -> None:
    answer = httpx.get(daemon.base + "/_ready", timeout=10)

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ready"


def test_envoxyd_uses_the_database_in_the_project_folder(project: Project, daemon: Daemon) -> None:
    created = httpx.post(daemon.base + "/v1/items", json={"name": "Second order"}, timeout=10)
    assert created.status_code == 201, daemon.log()

    with sqlite3.connect(project.root / f"{PACKAGE}.db") as database:
        names = [row[0] for row in database.execute("SELECT name FROM aux_items")]

    assert "Second order" in names
    assert sorted(path.name for path in project.root.glob("*.db")) == [f"{PACKAGE}.db"]


def test_envoxyd_exits_0_on_sigterm(daemon: Daemon) -> None:
    daemon.process.send_signal(signal.SIGTERM)

    assert daemon.process.wait(timeout=60) == 0, daemon.log()
