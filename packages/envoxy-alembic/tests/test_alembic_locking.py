"""Many replicas migrating one database: the per-namespace advisory lock, with real processes.

Each test has a database of its own (``pg_database``) and a namespace of its own. The
revisions record every run of ``upgrade``/``downgrade`` in a table, so a revision
applied twice would show.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from envoxy.exceptions import ConfigError
from envoxy.tools.alembic.locking import lock_key, migration_lock
from envoxy.tools.alembic.settings import MigrationSettings, version_table_name

ENVOXY_ALEMBIC = str(Path(sys.executable).with_name("envoxy-alembic"))
REVISIONS = ("0001", "0002", "0003")

REVISION = """
from alembic import op

revision = "{revision}"
down_revision = {down_revision!r}


def upgrade():
{body}
    op.execute("INSERT INTO {runs} (step) VALUES ('up {revision}')")


def downgrade():
    op.execute("INSERT INTO {runs} (step) VALUES ('down {revision}')")
"""


class Replica:
    """A service folder with three hand-written revisions, run as ``envoxy-alembic``."""

    def __init__(self, root: Path, db_url: str, gate: int | None = None) -> None:
        self.root = root
        self.db_url = db_url
        self.namespace = f"lk{uuid.uuid4().hex[:8]}"
        self.version_table = version_table_name(f"aux_{self.namespace}_")
        self.runs = f"aux_{self.namespace}_runs"
        versions = root / "migrations" / "versions"
        versions.mkdir(parents=True)
        create = f"CREATE TABLE {self.runs} (id serial PRIMARY KEY, step text)"
        bodies = {
            "0001": f'    op.execute("{create}")',
            # the slow revision: blocks until the test releases the gate (if any)
            "0002": f'    op.execute("SELECT pg_advisory_xact_lock({gate})")' if gate else "",
            "0003": "",
        }
        for down, revision in zip((None, *REVISIONS), REVISIONS, strict=False):
            (versions / f"{revision}_step.py").write_text(
                REVISION.format(
                    revision=revision,
                    down_revision=down,
                    body=bodies[revision] or "    pass",
                    runs=self.runs,
                )
            )

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SERVICE_", "ENVOXY_"))}
        return {
            **env,
            "SERVICE_DB_URL": self.db_url,
            "ENVOXY_SERVICE_NAMESPACE": self.namespace,
            **extra,
        }

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [ENVOXY_ALEMBIC, *args],
            cwd=self.root,
            env=self.env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ENVOXY_ALEMBIC, *args],
            cwd=self.root,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def ok(self, *args: str, **env: str) -> str:
        result = self.run(*args, **env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def steps(self, connection: Connection) -> list[str]:
        rows = connection.execute(sa.text(f"SELECT step FROM {self.runs} ORDER BY id"))
        return [row[0] for row in rows]

    def versions(self, connection: Connection) -> list[str]:
        if not sa.inspect(connection).has_table(self.version_table):
            return []
        rows = connection.execute(sa.text(f"SELECT version_num FROM {self.version_table}"))
        return [row[0] for row in rows]


@pytest.fixture
def admin(pg_database: str) -> Iterator[Connection]:
    """An autocommit connection to the test's database (holds locks for the tests)."""
    engine = sa.create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def lock_sessions(connection: Connection, key: int) -> tuple[int, int]:
    """Return (holders, waiters) of the bigint advisory lock ``key`` in this database."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    row = connection.execute(
        sa.text(
            "SELECT count(*) FILTER (WHERE granted), count(*) FILTER (WHERE NOT granted)"
            " FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = CAST(:high AS oid) AND objid = CAST(:low AS oid)"
        ),
        {"high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF},
    ).one()
    return int(row[0]), int(row[1])


def blocked_sessions(connection: Connection) -> int:
    """Return how many other sessions of this database wait for a lock."""
    count = connection.execute(
        sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
    ).scalar_one()
    return int(count)


def hold_lock(connection: Connection, key: int) -> None:
    connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": key})


def release_lock(connection: Connection, key: int) -> None:
    connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})


def backend_pid(connection: Connection) -> int:
    return int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def assert_lock_timeout(
    result: subprocess.CompletedProcess[str], replica: Replica, pid: int
) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(
        f"envoxy-alembic: waiting up to 1 s for the migration lock of {replica.version_table}"
    )
    assert lines[-1].startswith(
        f"envoxy-alembic: error: timed out after 1 s waiting for the migration lock of "
        f"{replica.version_table}"
    ), result.stderr
    assert f"held by backend pid {pid}" in lines[-1]
    assert "ENVOXY_ALEMBIC_LOCK_TIMEOUT" in lines[-1]


@pytest.mark.postgresql
def test_four_concurrent_upgrades_all_succeed_and_apply_each_revision_once(
    tmp_path: Path, pg_database: str, admin: Connection
) -> None:
    gate = secrets.randbits(62)
    replica = Replica(tmp_path / "svc", pg_database, gate=gate)
    migration_key = lock_key(replica.version_table)
    hold_lock(admin, gate)
    processes = [replica.start("upgrade", "head") for _ in range(4)]
    try:
        # release the slow revision only once all four runs are connected and blocked
        deadline = time.monotonic() + 60
        while blocked_sessions(admin) < 4:
            exited = [p for p in processes if p.poll() is not None]
            assert not exited, exited[0].communicate()
            assert time.monotonic() < deadline, "the four runs never overlapped"
            time.sleep(0.05)
        while_blocked = lock_sessions(admin, migration_key)
    finally:
        release_lock(admin, gate)
    outcomes = [process.communicate(timeout=60) for process in processes]

    for process, (_, stderr) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, stderr
    assert while_blocked == (1, 3)  # one run migrated, three waited for its lock
    waited = [stderr for _, stderr in outcomes if "waiting up to 300 s" in stderr]
    assert len(waited) == 3
    assert all(replica.version_table in stderr for stderr in waited)
    assert replica.steps(admin) == ["up 0001", "up 0002", "up 0003"]
    assert replica.versions(admin) == ["0003"]
    assert lock_sessions(admin, migration_key) == (0, 0)


@pytest.mark.postgresql
def test_upgrade_at_head_is_a_no_op(tmp_path: Path, pg_database: str, admin: Connection) -> None:
    replica = Replica(tmp_path / "svc", pg_database)
    replica.ok("upgrade", "head")
    replica.ok("upgrade", "head")

    assert replica.steps(admin) == ["up 0001", "up 0002", "up 0003"]
    assert replica.versions(admin) == ["0003"]


@pytest.mark.postgresql
def test_upgrade_gives_up_when_the_lock_outlives_the_timeout(
    tmp_path: Path, pg_database: str, admin: Connection
) -> None:
    replica = Replica(tmp_path / "svc", pg_database)
    hold_lock(admin, lock_key(replica.version_table))

    started = time.monotonic()
    result = replica.run("upgrade", "head", ENVOXY_ALEMBIC_LOCK_TIMEOUT="1")
    elapsed = time.monotonic() - started

    assert_lock_timeout(result, replica, backend_pid(admin))
    assert elapsed < 15
    assert replica.versions(admin) == []
    assert not sa.inspect(admin).has_table(replica.runs)


@pytest.mark.postgresql
@pytest.mark.slow
def test_downgrade_and_stamp_take_the_lock_but_current_does_not(
    tmp_path: Path, pg_database: str, admin: Connection
) -> None:
    replica = Replica(tmp_path / "svc", pg_database)
    replica.ok("upgrade", "head")
    key = lock_key(replica.version_table)
    hold_lock(admin, key)
    pid = backend_pid(admin)

    assert_lock_timeout(
        replica.run("downgrade", "0001", ENVOXY_ALEMBIC_LOCK_TIMEOUT="1"), replica, pid
    )
    assert_lock_timeout(replica.run("stamp", "0001", ENVOXY_ALEMBIC_LOCK_TIMEOUT="1"), replica, pid)
    assert replica.ok("current", ENVOXY_ALEMBIC_LOCK_TIMEOUT="1").split() == ["0003", "(head)"]
    assert replica.versions(admin) == ["0003"]
    assert replica.steps(admin) == ["up 0001", "up 0002", "up 0003"]

    release_lock(admin, key)
    replica.ok("downgrade", "0002")
    replica.ok("stamp", "0001")
    assert replica.versions(admin) == ["0001"]
    assert replica.steps(admin)[-1] == "down 0003"


@pytest.mark.postgresql
def test_lock_is_released_on_the_open_connection_after_a_failure(
    pg_database: str, admin: Connection
) -> None:
    key = lock_key("alembic_version_released")
    engine = sa.create_engine(pg_database)

    def fail_while_locked(connection: Connection) -> None:
        with migration_lock(connection, "alembic_version_released", 5):
            assert lock_sessions(admin, key) == (1, 0)
            connection.begin()
            connection.execute(sa.text("SELECT 1"))
            raise RuntimeError("a revision failed")

    try:
        with engine.connect() as connection:
            with pytest.raises(RuntimeError, match="a revision failed"):
                fail_while_locked(connection)
            assert lock_sessions(admin, key) == (0, 0)
            assert not connection.in_transaction()
            with migration_lock(connection, "alembic_version_released", 5):
                assert lock_sessions(admin, key) == (1, 0)
            assert lock_sessions(admin, key) == (0, 0)
    finally:
        engine.dispose()


def test_lock_key_is_stable_and_differs_per_namespace() -> None:
    # pinned: replicas running different envoxy-alembic versions must agree on it
    assert lock_key("alembic_version") == -2810849860236721386
    keys = {lock_key(version_table_name(f"aux_{ns}_")) for ns in ("", "billing", "orders")}
    assert len(keys) == 3
    assert all(-(2**63) <= key < 2**63 for key in keys)


def test_sqlite_takes_no_lock(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as connection, migration_lock(connection, "alembic_version", 0.01):
            assert not connection.in_transaction()
    finally:
        engine.dispose()


@pytest.mark.parametrize("value", ["soon", "0", "-5", "nan", "inf", "1e400"])
def test_a_lock_timeout_that_is_not_a_positive_number_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=f"ENVOXY_ALEMBIC_LOCK_TIMEOUT='{value}' is not a"):
        MigrationSettings.from_environment({"ENVOXY_ALEMBIC_LOCK_TIMEOUT": value})


def test_lock_timeout_default_and_fractions() -> None:
    assert MigrationSettings.from_environment({}).lock_timeout == 300
    assert (
        MigrationSettings.from_environment({"ENVOXY_ALEMBIC_LOCK_TIMEOUT": " "}).lock_timeout == 300
    )
    assert (
        MigrationSettings.from_environment({"ENVOXY_ALEMBIC_LOCK_TIMEOUT": "2.5"}).lock_timeout
        == 2.5
    )


def test_a_bad_lock_timeout_is_one_line_from_the_command(tmp_path: Path) -> None:
    replica = Replica(tmp_path / "svc", "sqlite:///service.db")
    result = replica.run("upgrade", "head", ENVOXY_ALEMBIC_LOCK_TIMEOUT="soon")

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "envoxy-alembic: error: ENVOXY_ALEMBIC_LOCK_TIMEOUT='soon' is not a positive number "
        "of seconds (the default is 300)"
    ]
    assert not (tmp_path / "svc" / "service.db").exists()
