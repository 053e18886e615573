"""ORM sessions behind a real PgBouncer in transaction pooling mode (``"pooler": "transaction"``).

PgBouncer (``pool_mode = transaction``, two server connections) sits in front of a
private PostgreSQL. A key with ``pooler`` sends no startup ``options`` and no session
``SET``: each transaction starts with ``SET LOCAL`` of ``statement_timeout`` and
``search_path``, and other clients of the same server connections see nothing of it.
"""

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from envoxy.db.exceptions import DatabaseException
from envoxy.db.orm.session import dispose_manager, get_manager, session_scope
from envoxy_testing.pgbouncer import PrivatePgBouncer
from envoxy_testing.postgres import PrivatePostgres

pytestmark = pytest.mark.postgresql

KEY = "orm_pooled"
SERVER_CONNECTIONS = 2
STATEMENT_TIMEOUT = 0.5


@pytest.fixture
def bouncer(
    private_postgres: Callable[..., PrivatePostgres],
    private_pgbouncer: Callable[..., PrivatePgBouncer],
) -> PrivatePgBouncer:
    server = private_postgres()
    admin = server.connect()
    with admin.cursor() as cursor:
        cursor.execute("CREATE SCHEMA app")
        cursor.execute("CREATE TABLE app.items (id int PRIMARY KEY, name text)")
    admin.close()
    return private_pgbouncer(server, pool_size=SERVER_CONNECTIONS)


@pytest.fixture
def pooled(
    bouncer: PrivatePgBouncer,
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path: Path,
) -> Iterator[PrivatePgBouncer]:
    entry = bouncer.client_config(
        pooler="transaction",
        schema="app",
        timeout=3,
        statement_timeout=STATEMENT_TIMEOUT,
        pool_size=6,
        max_overflow=0,
    )
    with load_config({"psql_servers": {KEY: entry}}, tmp_path):
        try:
            yield bouncer
        finally:
            dispose_manager(KEY)


def others_see(bouncer: PrivatePgBouncer) -> set[tuple[str, str]]:
    """statement_timeout and search_path that other clients see on every server connection."""
    connections = [bouncer.connect() for _ in range(SERVER_CONNECTIONS * 2)]
    barrier = threading.Barrier(len(connections))

    def look(connection: Any) -> tuple[str, str]:
        barrier.wait(timeout=5)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('statement_timeout'), current_setting('search_path'), "
                "pg_sleep(0.05)"
            )
            row = cursor.fetchone()
        return (row[0], row[1])

    with ThreadPoolExecutor(len(connections)) as executor:
        seen = set(executor.map(look, connections))
    for connection in connections:
        connection.close()
    return seen


def test_without_pooler_pgbouncer_refuses_the_engine(
    bouncer: PrivatePgBouncer,
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path: Path,
) -> None:
    with load_config({"psql_servers": {KEY: bouncer.client_config(timeout=2)}}, tmp_path):
        with (
            pytest.raises(OperationalError, match="unsupported startup parameter: options"),
            session_scope(KEY) as session,
        ):
            session.execute(text("SELECT 1"))
        dispose_manager(KEY)


def test_each_transaction_gets_search_path_and_statement_timeout(
    pooled: PrivatePgBouncer,
) -> None:
    with session_scope(KEY) as session:
        session.execute(text("INSERT INTO items VALUES (1, 'one')"))  # into app.items
    for _ in range(10):
        with session_scope(KEY) as session:
            schema, limit, name = session.execute(
                text(
                    "SELECT current_schema(), current_setting('statement_timeout'), "
                    "(SELECT name FROM items WHERE id = 1)"
                )
            ).one()
        assert (schema, limit, name) == ("app", f"{round(STATEMENT_TIMEOUT * 1000)}ms", "one")
    started = time.monotonic()
    with (
        pytest.raises(OperationalError, match="statement timeout"),
        session_scope(KEY) as session,
    ):
        session.execute(text("SELECT pg_sleep(2)"))
    assert time.monotonic() - started < STATEMENT_TIMEOUT + 1
    assert others_see(pooled) == {("0", '"$user", public')}


def test_concurrent_sessions_share_two_server_connections_without_wrong_results(
    pooled: PrivatePgBouncer,
) -> None:
    def work(worker: int) -> list[str]:
        problems = []
        for round_ in range(10):
            with session_scope(KEY) as session:
                row = session.execute(
                    text("SELECT :worker AS worker, :round AS round, current_schema()"),
                    {"worker": worker, "round": round_},
                ).one()
            if tuple(row) != (worker, round_, "app"):
                problems.append(repr(row))
        return problems

    with ThreadPoolExecutor(6) as executor:
        problems = [problem for found in executor.map(work, range(6)) for problem in found]
    assert problems == []
    assert pooled.server_connections() <= SERVER_CONNECTIONS
    assert others_see(pooled) == {("0", '"$user", public')}


def test_startup_options_with_pooler_are_refused(
    load_config: Callable[..., AbstractContextManager[Path]], tmp_path: Path
) -> None:
    url = "postgresql+psycopg2://u:p@127.0.0.1:1/db?options=-c%20work_mem%3D64MB"
    with (
        load_config({"psql_servers": {KEY: {"url": url, "pooler": "transaction"}}}, tmp_path),
        pytest.raises(DatabaseException, match="transaction pooler refuses"),
    ):
        get_manager(KEY)
