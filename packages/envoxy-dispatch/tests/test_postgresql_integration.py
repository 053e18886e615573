"""envoxy.postgresql against the real PostgreSQL server of tools/services.

Everything happens in a database of its own, ``envoxy_dispatch_test``.
"""

import contextlib
import json
import os
import pathlib
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import pytest

from envoxy.db.exceptions import DatabaseException
from envoxy.exceptions import ConfigError
from envoxy.postgresql import (
    ConnectError,
    PoolTimeoutError,
    PostgresClient,
    QueryError,
    UnknownServerError,
    pgsqlc,
)
from envoxy_testing.forking import in_child
from envoxy_testing.network import free_port, retry_until
from envoxy_testing.postgres import PrivatePostgres
from envoxy_testing.threads import all_at_once

pytestmark = pytest.mark.postgresql

DATABASE = "envoxy_dispatch_test"
TABLE = f"dispatch_items_{uuid.uuid4().hex[:8]}"
SCHEMA = f"dispatch_schema_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def server(postgresql_url: str) -> dict[str, Any]:
    parts = urlsplit(postgresql_url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": parts.username or "envoxy",
        "passwd": parts.password or "envoxy",
        "url": urlunsplit((parts.scheme, parts.netloc, f"/{DATABASE}", "", "")),
        "admin_db": parts.path.strip("/"),
    }


@pytest.fixture(scope="module")
def database(server: dict[str, Any]) -> Iterator[None]:
    """Create our database (once), the test table and schema; drop them at the end."""
    bootstrap = psycopg2.connect(
        host=server["host"],
        port=server["port"],
        user=server["user"],
        password=server["passwd"],
        dbname=server["admin_db"],
    )
    bootstrap.autocommit = True
    with bootstrap.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
        if cursor.fetchone() is None:
            with contextlib.suppress(psycopg2.errors.DuplicateDatabase):  # a parallel run
                cursor.execute(f"CREATE DATABASE {DATABASE}")
    bootstrap.close()
    setup = _connect(server)
    with setup.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {TABLE} (id serial PRIMARY KEY, name text, "
            "at timestamptz, naive timestamp, day date)"
        )
        cursor.execute(f"CREATE SCHEMA {SCHEMA}")
    setup.close()
    yield
    cleanup = _connect(server)
    with cleanup.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    cleanup.close()


@pytest.fixture
def admin(server: dict[str, Any], database: None) -> Iterator[psycopg2.extensions.connection]:
    """A raw autocommit connection of the test's own (the server may restart between tests)."""
    connection = _connect(server)
    yield connection
    connection.close()


def _connect(server: dict[str, Any]) -> psycopg2.extensions.connection:
    connection = psycopg2.connect(
        host=server["host"],
        port=server["port"],
        user=server["user"],
        password=server["passwd"],
        dbname=DATABASE,
    )
    connection.autocommit = True
    return connection


@pytest.fixture(scope="module", autouse=True)
def config_file(
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path_factory: pytest.TempPathFactory,
    server: dict[str, Any],
    database: None,
) -> Iterator[pathlib.Path]:
    fields = {
        "host": server["host"],
        "port": server["port"],
        "db": DATABASE,
        "user": server["user"],
        "passwd": server["passwd"],
    }
    servers: dict[str, Any] = {
        "default": "disp_pg",
        "disp_pg": fields,
        "disp_pg_other": dict(fields),
        "disp_pg_url": {"url": server["url"]},
        "disp_pg_schema": {**fields, "schema": SCHEMA},
        "disp_pg_tiny": {**fields, "max_conn": 1, "conn_timeout": 0.3},
        "disp_pg_small": {**fields, "max_conn": 2, "conn_timeout": 30},
        "disp_pg_slow": {**fields, "statement_timeout": 0.2},
        "disp_pg_down": {**fields, "port": free_port(), "timeout": 2},
        "disp_pg_mysql": {"url": "mysql://db/app"},
    }
    with load_config({"psql_servers": servers}, tmp_path_factory.mktemp("pg-config")) as path:
        yield path
    pgsqlc.close()


@pytest.fixture
def client() -> Iterator[PostgresClient]:
    instance = PostgresClient()
    yield instance
    instance.close()


@pytest.fixture(autouse=True)
def empty_table(admin: psycopg2.extensions.connection) -> None:
    with admin.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE}")


def count_rows(admin: psycopg2.extensions.connection) -> int:
    with admin.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def test_rows_come_back_as_dicts(client: PostgresClient) -> None:
    rows = client.query("disp_pg", "SELECT 1 AS one, 'x' AS letter UNION ALL SELECT 2, 'y'")
    assert rows == [{"one": 1, "letter": "x"}, {"one": 2, "letter": "y"}]


def test_dml_returns_nothing_and_is_committed(client: PostgresClient, admin: Any) -> None:
    assert client.query("disp_pg", f"INSERT INTO {TABLE} (name) VALUES (%s)", ["a"]) == []
    assert count_rows(admin) == 1


def test_dict_and_sequence_params_are_bound(client: PostgresClient) -> None:
    client.query("disp_pg", f"INSERT INTO {TABLE} (name) VALUES (%(name)s)", {"name": "dict"})
    client.query("disp_pg", f"INSERT INTO {TABLE} (name) VALUES (%s)", ("tuple",))
    rows = client.query("disp_pg", f"SELECT name FROM {TABLE} ORDER BY id")
    assert rows == [{"name": "dict"}, {"name": "tuple"}]


def test_percent_is_literal_without_params(client: PostgresClient) -> None:
    assert client.query("disp_pg", "SELECT '100%' AS share") == [{"share": "100%"}]


def test_sql_injection_attempts_are_stored_as_text(client: PostgresClient, admin: Any) -> None:
    attacks = [
        f"'); DROP TABLE {TABLE}; --",
        "x' OR '1'='1",
        "%(name)s %s \\'; SELECT pg_sleep(10); --",
    ]
    for attack in attacks:
        client.query("disp_pg", f"INSERT INTO {TABLE} (name) VALUES (%(name)s)", {"name": attack})
    rows = client.query("disp_pg", f"SELECT name FROM {TABLE} ORDER BY id")
    assert [row["name"] for row in rows] == attacks
    found = client.query(
        "disp_pg", f"SELECT count(*) AS n FROM {TABLE} WHERE name = %s", ["x' OR '1'='1"]
    )
    assert found == [{"n": 1}]


def test_timestamps_come_back_as_utc_api_strings(client: PostgresClient) -> None:
    client.query(
        "disp_pg",
        f"INSERT INTO {TABLE} (at, naive, day) VALUES (%s, %s, %s)",
        ["2024-05-01 12:30:45.123999+02", "2024-05-01 08:00:00", "2024-02-29"],
    )
    rows = client.query("disp_pg", f"SELECT at, naive, day, name FROM {TABLE}")
    assert rows == [
        {
            "at": "2024-05-01T10:30:45.123+0000",
            "naive": "2024-05-01T08:00:00.000+0000",
            "day": "2024-02-29",
            "name": None,
        }
    ]


def test_raw_psycopg2_keeps_its_own_types(client: PostgresClient, admin: Any) -> None:
    client.query("disp_pg", "SELECT now()")
    with admin.cursor() as cursor:
        cursor.execute("SELECT now()::date")
        row = cursor.fetchone()
    assert row is not None
    assert not isinstance(row[0], str)


def test_empty_sql_raises(client: PostgresClient) -> None:
    with pytest.raises(DatabaseException, match="Sql cannot be empty"):
        client.query("disp_pg", None)


def test_string_params_are_rejected(client: PostgresClient) -> None:
    with pytest.raises(DatabaseException, match="params must be"):
        client.query("disp_pg", "SELECT %s", "abc")


def test_params_not_matching_placeholders_raise(client: PostgresClient) -> None:
    with pytest.raises(DatabaseException, match="placeholders"):
        client.query("disp_pg", "SELECT %(missing)s", {"other": 1})


def test_bad_sql_raises_query_error_with_code(client: PostgresClient) -> None:
    with pytest.raises(QueryError, match=r"psql_servers\.disp_pg") as caught:
        client.query("disp_pg", "SELECT * FROM no_such_table_here")
    assert caught.value.pgcode == "42P01"
    assert client.query("disp_pg", "SELECT 1 AS ok") == [{"ok": 1}]


def test_chunked_reading_returns_every_page(client: PostgresClient) -> None:
    client.query(
        "disp_pg", f"INSERT INTO {TABLE} (name) SELECT 'n' || g FROM generate_series(1, 25) g"
    )
    params = {"chunk_size": 10}
    rows = client.query(
        "disp_pg",
        f"SELECT name FROM {TABLE} ORDER BY id LIMIT %(chunk_size)s OFFSET %(offset_limit)s",
        params,
    )
    assert [row["name"] for row in rows] == [f"n{n}" for n in range(1, 26)]
    assert params == {"chunk_size": 10}


def test_chunked_reading_starts_at_the_given_offset(client: PostgresClient) -> None:
    client.query(
        "disp_pg", f"INSERT INTO {TABLE} (name) SELECT 'n' || g FROM generate_series(1, 7) g"
    )
    rows = client.query(
        "disp_pg",
        f"SELECT name FROM {TABLE} ORDER BY id LIMIT %(chunk_size)s OFFSET %(offset_limit)s",
        {"chunk_size": 2, "offset_limit": 4},
    )
    assert [row["name"] for row in rows] == ["n5", "n6", "n7"]


def test_chunked_reading_without_offset_placeholder_raises(client: PostgresClient) -> None:
    with pytest.raises(DatabaseException, match="offset_limit"):
        client.query("disp_pg", f"SELECT * FROM {TABLE} LIMIT %(chunk_size)s", {"chunk_size": 5})


def test_transaction_commits(client: PostgresClient, admin: Any) -> None:
    with client.transaction("disp_pg") as db:
        db.query("disp_pg", f"INSERT INTO {TABLE} (name) VALUES ('a'), ('b')")
        assert count_rows(admin) == 0
    assert count_rows(admin) == 2


def test_transaction_that_raises_leaves_no_rows(client: PostgresClient, admin: Any) -> None:
    def insert_then_fail() -> None:
        with client.transaction("disp_pg") as db:
            db.query("disp_pg", f"INSERT INTO {TABLE} (name) VALUES ('a')")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        insert_then_fail()
    assert count_rows(admin) == 0
    assert client.query("disp_pg", "SELECT 1 AS ok") == [{"ok": 1}]


def test_transaction_uses_one_connection_in_its_thread(client: PostgresClient) -> None:
    with client.transaction("disp_pg") as db:
        first = db.query("disp_pg", "SELECT pg_backend_pid() AS pid, txid_current() AS tx")
        second = db.query("disp_pg", "SELECT pg_backend_pid() AS pid, txid_current() AS tx")
        other_key = db.query("disp_pg_other", "SELECT txid_current() AS tx")
    assert first == second
    assert other_key[0]["tx"] != first[0]["tx"]


def test_other_threads_do_not_see_an_open_transaction(client: PostgresClient) -> None:
    seen: list[Any] = []
    with client.transaction("disp_pg") as db:
        db.query("disp_pg", f"INSERT INTO {TABLE} (name) VALUES ('hidden')")
        reader = threading.Thread(
            target=lambda: seen.append(db.query("disp_pg", f"SELECT count(*) AS n FROM {TABLE}"))
        )
        reader.start()
        reader.join()
    assert seen == [[{"n": 0}]]


def test_nested_transaction_raises(client: PostgresClient) -> None:
    with client.transaction("disp_pg"):
        nested = client.transaction("disp_pg")
        with pytest.raises(DatabaseException, match="Nested transactions are not supported"):
            nested.__enter__()
        with client.transaction("disp_pg_other") as db:
            assert db.query("disp_pg_other", "SELECT 1 AS ok") == [{"ok": 1}]


def test_unknown_key_names_the_section_and_key(client: PostgresClient) -> None:
    with pytest.raises(UnknownServerError, match=r"psql_servers\.disp_nope") as caught:
        client.query("disp_nope", "SELECT 1")
    assert isinstance(caught.value, DatabaseException)
    assert isinstance(caught.value, ConfigError)


def test_default_string_is_never_a_server(client: PostgresClient) -> None:
    with pytest.raises(DatabaseException, match=r"psql_servers\.default"):
        client.query("default", "SELECT 1")


def test_url_setting_connects(client: PostgresClient) -> None:
    assert client.query("disp_pg_url", "SELECT current_database() AS db") == [{"db": DATABASE}]


def test_non_postgresql_url_raises(client: PostgresClient) -> None:
    with pytest.raises(DatabaseException, match="PostgreSQL"):
        client.query("disp_pg_mysql", "SELECT 1")


def test_schema_is_the_search_path(client: PostgresClient, admin: Any) -> None:
    client.query("disp_pg_schema", "CREATE TABLE in_schema (id int)")
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'in_schema'"
        )
        assert cursor.fetchall() == [(SCHEMA,)]


def test_pool_wait_times_out(client: PostgresClient) -> None:
    errors: list[BaseException] = []

    def other_thread() -> None:
        try:
            client.query("disp_pg_tiny", "SELECT 1")
        except BaseException as exc:
            errors.append(exc)

    with client.transaction("disp_pg_tiny"):
        started = time.monotonic()
        waiter = threading.Thread(target=other_thread)
        waiter.start()
        waiter.join()
        waited = time.monotonic() - started
    assert len(errors) == 1
    assert isinstance(errors[0], PoolTimeoutError)
    assert str(errors[0]).startswith("Timeout waiting for DB connection")
    assert 0.25 < waited < 3
    assert client.query("disp_pg_tiny", "SELECT 1 AS ok") == [{"ok": 1}]


def test_failed_connects_raise_after_three_attempts(client: PostgresClient) -> None:
    with pytest.raises(ConnectError, match="Failed after 3 attempts"):
        client.query("disp_pg_down", "SELECT 1")


def test_statement_timeout_cancels_long_statements(client: PostgresClient) -> None:
    with pytest.raises(QueryError) as caught:
        client.query("disp_pg_slow", "SELECT pg_sleep(2)")
    assert caught.value.pgcode == "57014"


def test_dead_pooled_connection_is_replaced(client: PostgresClient, admin: Any) -> None:
    backend = client.query("disp_pg", "SELECT pg_backend_pid() AS pid")[0]["pid"]
    with admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
        _wait_until_gone(cursor, backend)
    rows = client.query("disp_pg", "SELECT pg_backend_pid() AS pid")
    assert rows[0]["pid"] != backend


def test_fifty_threads_share_one_client(client: PostgresClient) -> None:
    def work(number: int) -> None:
        for round_number in range(10):
            rows = client.query(
                "disp_pg", "SELECT %s::int AS n, %s::int AS r", [number, round_number]
            )
            assert rows == [{"n": number, "r": round_number}]

    all_at_once(work, 50)


def test_many_threads_queue_for_a_small_pool(client: PostgresClient) -> None:
    def work(number: int) -> set[int]:
        backends = set()
        for _ in range(10):
            row = client.query("disp_pg_small", "SELECT pg_backend_pid() AS pid, %s AS n", [number])
            assert row[0]["n"] == number
            backends.add(row[0]["pid"])
        return backends

    assert 1 <= len(set().union(*all_at_once(work, 20))) <= 2


def test_forked_child_gets_its_own_connections(client: PostgresClient) -> None:
    parent_backend = client.query("disp_pg", "SELECT pg_backend_pid() AS pid")[0]["pid"]

    def in_the_child() -> int:
        backend = client.query("disp_pg", "SELECT pg_backend_pid() AS pid")[0]["pid"]
        client.close()
        return int(backend)

    assert in_child(in_the_child) != parent_backend
    assert client.query("disp_pg", "SELECT pg_backend_pid() AS pid") == [{"pid": parent_backend}]


# The deadline watcher (envoxy.utils.deadlines) is a thread: the child never touches the
# parent's, it starts its own (test_core_deadlines.py).
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded")
def test_child_exiting_normally_leaves_the_parent_session_alive(
    config_file: pathlib.Path,
) -> None:
    code = textwrap.dedent(
        f"""
        import gc, json, os, sys
        from envoxy.utils.config import Config
        Config.set_file_path({str(config_file)!r})
        from envoxy.postgresql import pgsqlc
        before = pgsqlc.query("disp_pg", "SELECT pg_backend_pid() AS pid")[0]["pid"]
        child = os.fork()
        if child == 0:
            pgsqlc.query("disp_pg", "SELECT 1")
            pgsqlc.close()
            gc.collect()
            sys.exit(0)  # a normal exit: the interpreter finalizes every object
        os.waitpid(child, 0)
        after = pgsqlc.query("disp_pg", "SELECT pg_backend_pid() AS pid")[0]["pid"]
        print(json.dumps({{"same_session": before == after}}))
        """
    )
    env = {key: value for key, value in os.environ.items() if key != "ENVOXY_CONFIG"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {"same_session": True}


def test_close_is_idempotent_and_reconnects(client: PostgresClient) -> None:
    assert client.query("disp_pg", "SELECT 1 AS ok") == [{"ok": 1}]
    client.close()
    client.close()
    assert client.query("disp_pg", "SELECT 1 AS ok") == [{"ok": 1}]


def test_pgsqlc_facade_query_and_transaction(admin: Any) -> None:
    with pgsqlc.transaction("disp_pg") as db:
        db.query("disp_pg", f"INSERT INTO {TABLE} (name) VALUES (%s)", ["facade"])
    assert pgsqlc.query("disp_pg", f"SELECT name FROM {TABLE}") == [{"name": "facade"}]
    assert isinstance(pgsqlc.client(), PostgresClient)


def test_default_key_is_used_when_none_is_given(client: PostgresClient) -> None:
    assert client.query(None, "SELECT current_database() AS db") == [{"db": DATABASE}]


def test_session_is_a_sqlalchemy_session_on_the_key() -> None:
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    session = pgsqlc.session("disp_pg")
    try:
        assert isinstance(session, Session)
        assert session.execute(text("SELECT current_database()")).scalar() == DATABASE
    finally:
        session.close()


def test_sa_session_and_transactional_delegate_to_the_orm(admin: Any) -> None:
    from sqlalchemy import text

    with pgsqlc.sa_session("disp_pg") as session:
        session.execute(text(f"INSERT INTO {TABLE} (name) VALUES ('orm')"))
    assert count_rows(admin) == 1

    @pgsqlc.sa_transactional("disp_pg")
    def insert(session: Any = None) -> None:
        session.execute(text(f"INSERT INTO {TABLE} (name) VALUES ('decorated')"))

    insert()
    assert count_rows(admin) == 2
    assert pgsqlc.sa_manager("disp_pg") is pgsqlc.sa_manager("disp_pg")


def test_queries_succeed_again_after_a_server_restart(
    private_postgres: Callable[..., PrivatePostgres],
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path: Path,
) -> None:
    # A private server: restarting the shared one would break everyone else's tests.
    server = private_postgres()
    config = {"psql_servers": {"disp_pg_private": server.client_config()}}
    with load_config(config, tmp_path):
        client = PostgresClient()
        try:
            assert client.query("disp_pg_private", "SELECT 1 AS ok") == [{"ok": 1}]
            server.restart()
            rows = retry_until(
                lambda: client.query("disp_pg_private", "SELECT 1 AS ok"), ConnectError, timeout=5
            )
            assert rows == [{"ok": 1}]
        finally:
            client.close()


def _wait_until_gone(cursor: Any, backend: int) -> None:
    deadline = time.monotonic() + 5
    while True:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend])
        if cursor.fetchone()[0] == 0:
            return
        assert time.monotonic() < deadline, "the backend was not terminated"
        time.sleep(0.02)
