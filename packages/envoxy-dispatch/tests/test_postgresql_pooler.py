"""pgsqlc behind a real PgBouncer in transaction pooling mode (``"pooler": "transaction"``).

Each test starts its own PostgreSQL and a PgBouncer (``pool_mode = transaction``) in
front of it, with fewer server connections than clients, so consecutive statements of
one pgsqlc connection land on different server connections, and other clients get the
server connections pgsqlc used. It shows: no startup ``options`` (PgBouncer refuses
them: a key without ``pooler`` cannot connect at all), ``statement_timeout``,
``search_path``, ``TimeZone`` and ``DateStyle`` apply to every statement and every
``transaction`` block, and nothing of them leaks to the next client of a server
connection.
"""

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from envoxy.exceptions import ConfigError
from envoxy.postgresql import ConnectError, PostgresClient, QueryTimeoutError
from envoxy_testing.pgbouncer import PrivatePgBouncer
from envoxy_testing.postgres import PrivatePostgres

pytestmark = pytest.mark.postgresql

KEY = "pooled"
SERVER_CONNECTIONS = 2
STATEMENT_TIMEOUT = 0.5


class Bounced:
    """A private server, a PgBouncer in front of it and a pgsqlc client of the bouncer."""

    def __init__(
        self, server: PrivatePostgres, bouncer: PrivatePgBouncer, client: PostgresClient
    ) -> None:
        self.server = server
        self.bouncer = bouncer
        self.client = client

    def query(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        return self.client.query(KEY, sql, params)

    def raw_settings(self) -> set[tuple[str, str, str]]:
        """What other clients of the bouncer see on every server connection."""
        seen = set()
        connections = [self.bouncer.connect() for _ in range(SERVER_CONNECTIONS * 2)]
        barrier = threading.Barrier(len(connections))

        def look(connection: Any) -> tuple[str, str, str]:
            barrier.wait(timeout=5)  # all at once: every server connection is used
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT current_setting('statement_timeout'), "
                    "current_setting('search_path'), current_setting('TimeZone'), "
                    "pg_sleep(0.05)"
                )
                row = cursor.fetchone()
            return (row[0], row[1], row[2])

        with ThreadPoolExecutor(len(connections)) as executor:
            seen.update(executor.map(look, connections))
        for connection in connections:
            connection.close()
        return seen


@pytest.fixture
def bounced(
    private_postgres: Callable[..., PrivatePostgres],
    private_pgbouncer: Callable[..., PrivatePgBouncer],
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path: Path,
) -> Iterator[Bounced]:
    server = private_postgres(settings={"TimeZone": "America/New_York"})
    admin = server.connect()
    with admin.cursor() as cursor:
        cursor.execute("CREATE SCHEMA app")
        cursor.execute("CREATE TABLE app.items (id int PRIMARY KEY, name text)")
        cursor.execute("CREATE TABLE public.items (id int PRIMARY KEY, name text)")
        cursor.execute("INSERT INTO public.items VALUES (0, 'public, not app')")
    admin.close()
    bouncer = private_pgbouncer(server, pool_size=SERVER_CONNECTIONS)
    entry = bouncer.client_config(
        pooler="transaction",
        schema="app",
        timeout=3,
        statement_timeout=STATEMENT_TIMEOUT,
        max_conn=8,
    )
    with load_config({"psql_servers": {KEY: entry}}, tmp_path):
        client = PostgresClient()
        try:
            yield Bounced(server, bouncer, client)
        finally:
            client.close()


def test_without_pooler_pgbouncer_refuses_the_connection(
    private_postgres: Callable[..., PrivatePostgres],
    private_pgbouncer: Callable[..., PrivatePgBouncer],
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path: Path,
) -> None:
    bouncer = private_pgbouncer(private_postgres())
    with load_config({"psql_servers": {KEY: bouncer.client_config(timeout=2)}}, tmp_path):
        client = PostgresClient()
        with pytest.raises(ConnectError, match="unsupported startup parameter: options"):
            client.query(KEY, "SELECT 1")
        client.close()


def test_every_statement_gets_its_settings_on_whatever_server_connection(
    bounced: Bounced,
) -> None:
    bounced.query("INSERT INTO items VALUES (%s, %s)", [1, "in app"])  # search_path: app
    for _ in range(20):  # 20 statements over 2 server connections shared with others
        (row,) = bounced.query(
            "SELECT current_schema() AS schema, current_setting('statement_timeout') AS st, "
            "current_setting('TimeZone') AS tz, current_setting('DateStyle') AS ds, "
            "now() AS now, (SELECT name FROM items WHERE id = 1) AS name"
        )
        assert row["schema"] == "app"
        assert row["st"] == f"{round(STATEMENT_TIMEOUT * 1000)}ms"
        assert row["tz"] == "UTC"
        assert row["ds"].startswith("ISO")
        assert row["now"].endswith("+0000")  # pgsqlc's UTC timestamp strings
        assert row["name"] == "in app"
    # A % in the SQL stays literal without params and is a placeholder with them.
    assert bounced.query("SELECT '100%' AS p") == [{"p": "100%"}]
    assert bounced.query("SELECT %s || '%%' AS p", ["5"]) == [{"p": "5%"}]
    # Nothing set for the session: other clients of the bouncer see the server defaults.
    assert bounced.raw_settings() == {("0", '"$user", public', "America/New_York")}
    assert bounced.bouncer.server_connections() <= SERVER_CONNECTIONS


def test_statement_timeout_cancels_on_the_server_per_transaction(bounced: Bounced) -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError, match="statement timeout"):
        bounced.query("SELECT pg_sleep(2)")
    assert time.monotonic() - started < STATEMENT_TIMEOUT + 1
    assert bounced.query("SELECT 1 AS ok") == [{"ok": 1}]  # the connection is fine
    with pytest.raises(QueryTimeoutError), bounced.client.transaction(KEY):
        bounced.query("SELECT pg_sleep(2)")
    assert bounced.raw_settings() == {("0", '"$user", public', "America/New_York")}


def test_transaction_blocks_get_their_settings_and_commit_or_roll_back(
    bounced: Bounced,
) -> None:
    with bounced.client.transaction(KEY):
        (row,) = bounced.query("SELECT current_schema() AS schema, now() AS now")
        bounced.query("INSERT INTO items VALUES (2, 'two')")
        assert bounced.query("SELECT name FROM items WHERE id = 2") == [{"name": "two"}]
    assert row["schema"] == "app"
    assert row["now"].endswith("+0000")

    def roll_back() -> None:
        with bounced.client.transaction(KEY):
            bounced.query("INSERT INTO items VALUES (3, 'three')")
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        roll_back()
    names = bounced.query("SELECT name FROM items ORDER BY id")
    assert names == [{"name": "two"}]
    assert bounced.raw_settings() == {("0", '"$user", public', "America/New_York")}


def test_many_threads_share_two_server_connections_without_wrong_results(
    bounced: Bounced,
) -> None:
    def work(worker: int) -> list[str]:
        problems = []
        for round_ in range(15):
            (row,) = bounced.query(
                "SELECT %(worker)s::int AS worker, %(round)s::int AS round, "
                "current_schema() AS schema",
                {"worker": worker, "round": round_},
            )
            if row != {"worker": worker, "round": round_, "schema": "app"}:
                problems.append(repr(row))
        return problems

    with ThreadPoolExecutor(8) as executor:
        problems = [problem for found in executor.map(work, range(8)) for problem in found]
    assert problems == []
    pool = bounced.client.pool(KEY)
    assert pool.size <= 8
    assert bounced.bouncer.server_connections() <= SERVER_CONNECTIONS


def test_startup_options_with_pooler_are_refused_with_the_fix(
    load_config: Callable[..., AbstractContextManager[Path]], tmp_path: Path
) -> None:
    url = "postgresql://envoxy:envoxy@127.0.0.1:1/db?options=-c%20work_mem%3D64MB"
    with load_config({"psql_servers": {KEY: {"url": url, "pooler": "transaction"}}}, tmp_path):
        client = PostgresClient()
        with pytest.raises(ConfigError, match="ALTER ROLE"):
            client.query(KEY, "SELECT 1")
    with (
        load_config({"psql_servers": {KEY: {"pooler": "statement"}}}, tmp_path),
        pytest.raises(ConfigError, match="statement pooling cannot run transactions"),
    ):
        client.query(KEY, "SELECT 1")


def test_a_frozen_pgbouncer_fails_calls_within_the_timeout_and_they_recover(
    private_postgres: Callable[..., PrivatePostgres],
    private_pgbouncer: Callable[..., PrivatePgBouncer],
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path: Path,
) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from envoxy.db.orm.session import dispose_manager, session_scope
    from envoxy.exceptions import ClientError, TimeoutError
    from envoxy_testing.network import retry_until

    bouncer = private_pgbouncer(private_postgres())
    entry = bouncer.client_config(pooler="transaction", timeout=1)
    with load_config({"psql_servers": {KEY: entry}}, tmp_path):
        client = PostgresClient()
        try:
            assert client.query(KEY, "SELECT 1 AS ok") == [{"ok": 1}]
            with session_scope(KEY) as session:
                assert session.scalar(text("SELECT 1")) == 1
            bouncer.freeze()
            started = time.monotonic()
            with pytest.raises(QueryTimeoutError) as caught:
                client.query(KEY, "SELECT 1")
            assert isinstance(caught.value, TimeoutError)
            assert time.monotonic() - started < 1 + 1
            started = time.monotonic()
            with pytest.raises(OperationalError), session_scope(KEY) as session:
                session.scalar(text("SELECT 1"))  # the begin listener's SET LOCAL times out
            assert time.monotonic() - started < 1 + 1
            bouncer.thaw()
            thawed = time.monotonic()
            assert retry_until(lambda: client.query(KEY, "SELECT 2 AS ok"), ClientError, 5) == [
                {"ok": 2}
            ]

            def orm() -> object:
                with session_scope(KEY) as session:
                    return session.scalar(text("SELECT 3"))

            assert retry_until(orm, OperationalError, 5) == 3
            assert time.monotonic() - thawed < 5
        finally:
            client.close()
            dispose_manager(KEY)
