"""envoxy-alembic end to end, as a service runs it: a real process in a service folder.

SQLite tests need no server; the ``postgresql`` ones use the test PostgreSQL and
their own database, so they can drop and recreate it freely.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ENVOXY_ALEMBIC = str(Path(sys.executable).with_name("envoxy-alembic"))

PRODUCT_MODEL = """
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from envoxy.db.orm import EnvoxyBase


class Product(EnvoxyBase):
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
"""

PRICE_COLUMN = "    price_cents: Mapped[int] = mapped_column(default=0)\n"


class Service:
    """A service folder with a models module, driven through the envoxy-alembic command."""

    def __init__(self, root: Path, db_url: str, namespace: str | None = None) -> None:
        self.root = root
        self.db_url = db_url
        self.namespace = namespace
        root.mkdir(parents=True, exist_ok=True)
        (root / "models.py").write_text(PRODUCT_MODEL)

    def env(self, **overrides: str | None) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SERVICE_", "ENVOXY_"))
        }
        env.update(SERVICE_MODELS="models", SERVICE_DB_URL=self.db_url)
        if self.namespace:
            env["ENVOXY_SERVICE_NAMESPACE"] = self.namespace
        for key, value in overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def run(self, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ENVOXY_ALEMBIC, *args],
            cwd=self.root,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def ok(self, *args: str, **env: str | None) -> str:
        result = self.run(*args, **env)
        assert result.returncode == 0, result.stderr
        return result.stdout + result.stderr

    def autogenerate(self, message: str = "init", rev_id: str = "0001", **env: str | None) -> str:
        """``revision --autogenerate -m <message> --rev-id <rev_id>``, which must succeed."""
        return self.ok("revision", "--autogenerate", "-m", message, "--rev-id", rev_id, **env)

    @property
    def inspect_url(self) -> str:
        """The database URL as seen from the test process (relative SQLite paths resolved)."""
        if self.db_url.startswith("sqlite:///") and not self.db_url.startswith("sqlite:////"):
            return f"sqlite:///{self.root / self.db_url.removeprefix('sqlite:///')}"
        return self.db_url

    def add_price_column(self) -> None:
        with (self.root / "models.py").open("a") as models:
            models.write(PRICE_COLUMN)


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def column_names(url: str, table: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return {column["name"] for column in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("envoxy-alembic: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def run_full_cycle(service: Service, table: str) -> None:
    """autogenerate → upgrade → check → model change → check fails → revision → upgrade → base."""
    service.autogenerate("create products", "0001")
    assert (service.root / "migrations" / "env.py").is_file()
    assert (service.root / "migrations" / "versions" / "0001_create_products.py").is_file()

    service.ok("upgrade", "head")
    assert table in table_names(service.inspect_url)
    service.ok("check")

    service.add_price_column()
    drift = service.run("check")
    assert drift.returncode != 0
    assert f"add_column: {table}.price_cents" in drift.stderr

    service.autogenerate("add price", "0002")
    service.ok("upgrade", "head")
    assert "price_cents" in column_names(service.inspect_url, table)
    service.ok("check")
    assert "0002 (head)" in service.ok("current")
    history = service.ok("history")
    assert "0001 -> 0002 (head)" in history

    service.ok("downgrade", "-1")
    assert "price_cents" not in column_names(service.inspect_url, table)
    service.ok("downgrade", "base")
    assert table not in table_names(service.inspect_url)


# --- SQLite -------------------------------------------------------------------------------


@pytest.fixture
def sqlite_service(tmp_path: Path) -> Service:
    return Service(tmp_path / "svc", "sqlite:///service.db")


def test_full_cycle_on_sqlite_with_relative_path(sqlite_service: Service) -> None:
    run_full_cycle(sqlite_service, "aux_products")
    assert (sqlite_service.root / "service.db").is_file()


def test_version_table_without_namespace_is_alembic_version(sqlite_service: Service) -> None:
    sqlite_service.autogenerate()
    sqlite_service.ok("upgrade", "head")

    assert {"alembic_version", "aux_products"} <= table_names(sqlite_service.inspect_url)


def test_models_found_through_service_models_paths(sqlite_service: Service, tmp_path: Path) -> None:
    elsewhere = tmp_path / "shared" / "catalog"
    elsewhere.mkdir(parents=True)
    (sqlite_service.root / "models.py").rename(elsewhere / "catalog_models.py")

    sqlite_service.autogenerate(
        SERVICE_MODELS="catalog_models",
        SERVICE_MODELS_PATHS=str(elsewhere),
    )

    revision = sqlite_service.root / "migrations" / "versions" / "0001_init.py"
    assert "aux_products" in revision.read_text()


def test_stamp_records_a_revision_without_running_it(sqlite_service: Service) -> None:
    sqlite_service.autogenerate()

    sqlite_service.ok("stamp", "head")

    assert sqlite_service.run("current").stdout.split() == ["0001", "(head)"]
    assert "aux_products" not in table_names(sqlite_service.inspect_url)


def test_leaves_no_temporary_files(sqlite_service: Service) -> None:
    sqlite_service.autogenerate()
    sqlite_service.ok("upgrade", "head")
    sqlite_service.ok("check")

    files = {str(path.relative_to(sqlite_service.root)) for path in sqlite_service.root.rglob("*")}
    assert files == {
        "models.py",
        "service.db",
        "migrations",
        "migrations/env.py",
        "migrations/script.py.mako",
        "migrations/versions",
        "migrations/versions/0001_init.py",
    }


def test_existing_migration_files_are_never_overwritten(sqlite_service: Service) -> None:
    migrations = sqlite_service.root / "migrations"
    migrations.mkdir()
    custom_template = "# my own template\n"
    (migrations / "script.py.mako").write_text(custom_template)

    sqlite_service.ok("heads")

    assert (migrations / "script.py.mako").read_text() == custom_template
    assert (migrations / "env.py").is_file()


def test_python_module_entry_point_works(sqlite_service: Service) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "envoxy.tools.alembic", "heads"],
        cwd=sqlite_service.root,
        env=sqlite_service.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (sqlite_service.root / "migrations" / "versions").is_dir()


def test_service_alembic_dir_moves_the_folder(sqlite_service: Service) -> None:
    sqlite_service.ok("revision", "-m", "empty", "--rev-id", "0001", SERVICE_ALEMBIC_DIR="db/migr")
    assert (sqlite_service.root / "db" / "migr" / "versions" / "0001_empty.py").is_file()


def test_offline_sql_renders_ddl(sqlite_service: Service) -> None:
    sqlite_service.autogenerate()
    sql = sqlite_service.ok("upgrade", "head", "--sql")
    assert "CREATE TABLE aux_products" in sql
    assert "aux_products" not in table_names(sqlite_service.inspect_url)


def test_offline_sql_for_a_postgres_url_needs_no_database(sqlite_service: Service) -> None:
    sqlite_service.autogenerate()
    unreachable = "postgres://nobody@127.0.0.1:9/nowhere"
    sql = sqlite_service.ok("upgrade", "head", "--sql", SERVICE_DB_URL=unreachable)
    assert "CREATE TABLE aux_products" in sql
    assert "TIMESTAMP WITH TIME ZONE" in sql  # rendered for PostgreSQL, not SQLite


def test_database_from_envoxy_json(sqlite_service: Service) -> None:
    config = sqlite_service.root / "envoxy.json"
    config.write_text(json.dumps({"psql_servers": {"main": {"url": "sqlite:///from_config.db"}}}))

    sqlite_service.autogenerate(
        SERVICE_DB_URL=None,
        ENVOXY_CONFIG=str(config),
    )
    sqlite_service.ok("upgrade", "head", SERVICE_DB_URL=None, ENVOXY_CONFIG=str(config))

    assert "aux_products" in table_names(f"sqlite:///{sqlite_service.root / 'from_config.db'}")


def test_no_database_configured_names_both_settings(sqlite_service: Service) -> None:
    result = sqlite_service.run("upgrade", "head", SERVICE_DB_URL=None)
    assert_one_line_error(result, "SERVICE_DB_URL", "ENVOXY_CONFIG")


def test_missing_models_module_is_named(sqlite_service: Service) -> None:
    result = sqlite_service.run("upgrade", "head", SERVICE_MODELS="models,no_such_models")
    assert_one_line_error(result, "no_such_models")


def test_autogenerate_without_models_mentions_service_models(sqlite_service: Service) -> None:
    result = sqlite_service.run("revision", "--autogenerate", "-m", "x", SERVICE_MODELS=None)
    assert_one_line_error(result, "SERVICE_MODELS")
    assert not list((sqlite_service.root / "migrations" / "versions").glob("*.py"))


def test_unreachable_database_is_one_line(sqlite_service: Service) -> None:
    unreachable = "postgresql+psycopg2://nobody:secret@127.0.0.1:9/nowhere?connect_timeout=2"
    result = sqlite_service.run("upgrade", "head", SERVICE_DB_URL=unreachable)
    assert_one_line_error(result, "OperationalError")
    assert "secret" not in result.stderr


def test_broken_migration_file_is_one_line(sqlite_service: Service) -> None:
    sqlite_service.ok("revision", "-m", "init", "--rev-id", "0001")
    (sqlite_service.root / "migrations" / "versions" / "0002_broken.py").write_text(
        "revision = '0002'\ndown_revision = '0001'\ndef upgrade(:\n"
    )
    result = sqlite_service.run("upgrade", "head")
    assert_one_line_error(result, "SyntaxError")


def test_message_and_rev_id_never_become_code(sqlite_service: Service) -> None:
    hostile = 'x"""+__import__("os").system("touch MARKER")+""" back\\N \\'
    sqlite_service.ok("revision", "-m", hostile, "--rev-id", "0001")
    sqlite_service.ok("revision", "-m", "second", "--rev-id", 'r"2')
    sqlite_service.ok("upgrade", "head")

    assert not (sqlite_service.root / "MARKER").exists()
    import ast

    first, second = sorted((sqlite_service.root / "migrations" / "versions").glob("*.py"))
    docstring = ast.get_docstring(ast.parse(first.read_text()), clean=False) or ""
    assert docstring.startswith(f"{hostile}\n\nRevision ID: 0001\n")
    assert 'Revision ID: r"2\nRevises: 0001\n' in (
        ast.get_docstring(ast.parse(second.read_text()), clean=False) or ""
    )
    assert 'r"2 (head)' in sqlite_service.ok("current")


def test_missing_command_is_a_usage_error(sqlite_service: Service) -> None:
    result = sqlite_service.run()
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


# --- PostgreSQL ---------------------------------------------------------------------------


@pytest.mark.postgresql
def test_full_cycle_on_postgresql(tmp_path: Path, pg_database: str) -> None:
    run_full_cycle(Service(tmp_path / "svc", pg_database), "aux_products")


@pytest.mark.postgresql
def test_two_namespaces_share_one_database(tmp_path: Path, pg_database: str) -> None:
    alpha = Service(tmp_path / "alpha", pg_database, namespace="alpha")
    beta = Service(tmp_path / "beta", pg_database, namespace="Beta-Svc")

    for service in (alpha, beta):
        service.autogenerate()
        service.ok("upgrade", "head")
    tables = table_names(pg_database)
    assert {"aux_alpha_products", "aux_beta_svc_products"} <= tables
    assert {"alembic_version_alpha", "alembic_version_beta_svc"} <= tables
    revision = (beta.root / "migrations" / "versions" / "0001_init.py").read_text()
    assert "aux_alpha" not in revision

    alpha.ok("check")
    beta.ok("check")
    alpha.ok("downgrade", "base")
    assert "aux_alpha_products" not in table_names(pg_database)
    assert "aux_beta_svc_products" in table_names(pg_database)
    beta.ok("check")


@pytest.mark.postgresql
def test_failing_migration_leaves_schema_and_version_untouched(
    tmp_path: Path, pg_database: str
) -> None:
    service = Service(tmp_path / "svc", pg_database)
    service.autogenerate()
    service.ok("upgrade", "head")
    (service.root / "migrations" / "versions" / "0002_half.py").write_text(
        textwrap.dedent(
            """
            import sqlalchemy as sa
            from alembic import op

            revision = "0002"
            down_revision = "0001"


            def upgrade():
                op.create_table("aux_half_done", sa.Column("id", sa.Integer, primary_key=True))
                op.add_column("aux_products", sa.Column("extra", sa.Integer))
                op.execute("SELECT no_such_function()")


            def downgrade():
                pass
            """
        )
    )

    result = service.run("upgrade", "head")

    assert_one_line_error(result, "no_such_function")
    assert "aux_half_done" not in table_names(pg_database)
    assert "extra" not in column_names(pg_database, "aux_products")
    assert service.run("current").stdout.split() == ["0001"]


@pytest.mark.postgresql
def test_driverless_postgresql_urls_use_the_installed_driver(
    tmp_path: Path, pg_database: str
) -> None:
    bare, short = (
        make_url(pg_database).set(drivername=scheme).render_as_string(hide_password=False)
        for scheme in ("postgresql", "postgres")
    )
    service = Service(tmp_path / "svc", bare)
    service.autogenerate()
    service.ok("upgrade", "head")

    assert "aux_products" in table_names(pg_database)
    assert service.ok("current", SERVICE_DB_URL=short).split() == ["0001", "(head)"]
