"""Fixtures of the reference service's tests: a migrated database and an app client.

Every test runs on SQLite and on the test PostgreSQL (a fresh database each), with
the schema created by the service's own migrations through ``envoxy-alembic``.
"""

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from werkzeug.test import Client

from envoxy.db.orm.session import dispose_all
from envoxy.utils.config import Config

SERVICE_ROOT = Path(__file__).resolve().parents[1]
ENVOXY_ALEMBIC = str(Path(sys.executable).with_name("envoxy-alembic"))


def migrate(db_url: str, *args: str) -> None:
    """Run ``envoxy-alembic`` for the service against ``db_url``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ENVOXY_")}
    env.update(
        SERVICE_MODELS="template_service.models",
        SERVICE_ALEMBIC_DIR=str(SERVICE_ROOT / "migrations"),
        SERVICE_DB_URL=db_url,
    )
    result = subprocess.run(
        [ENVOXY_ALEMBIC, *args],
        cwd=SERVICE_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="session")
def migrated_sqlite() -> Callable[[Path], str]:
    """Return a function that creates a migrated SQLite database in a folder, and its URL."""

    def create(folder: Path) -> str:
        url = f"sqlite:///{folder / 'products.db'}"
        migrate(url, "upgrade", "head")
        return url

    return create


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)],
)
def migrated_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database migrated to head once per session: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'products.db'}"
        migrate(url, "upgrade", "head")
        yield url
        return
    server_url = request.getfixturevalue("postgresql_url")
    name = f"template_service_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url, "upgrade", "head")
        yield url
    finally:
        dispose_all()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(migrated_database: str) -> str:
    """The migrated database, emptied for this test."""
    engine = sa.create_engine(migrated_database, pool_pre_ping=True)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM aux_products"))
    finally:
        engine.dispose()
    return migrated_database


@pytest.fixture
def config_file(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """An envoxy.json using ``database_url``, loaded as the process configuration."""
    path = tmp_path / "envoxy.json"
    config = json.loads((SERVICE_ROOT / "envoxy.json").read_text())
    config["psql_servers"]["default"]["url"] = database_url
    config["log"] = {"level": 3, "format": "json"}
    path.write_text(json.dumps(config))
    monkeypatch.setenv("ENVOXY_CONFIG", str(path))
    Config.reload()
    dispose_all()
    yield path
    dispose_all()
    monkeypatch.delenv("ENVOXY_CONFIG")
    Config.reload()


@pytest.fixture
def client(config_file: Path) -> Client:
    """A test client of the service's app, built as envoxyd builds it."""
    from envoxy.daemon.app import create_app

    return Client(create_app(config_path=str(config_file)))
