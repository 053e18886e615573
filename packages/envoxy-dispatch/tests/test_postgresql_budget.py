"""A key's connection budget holds with pgsqlc and ORM sessions busy at once.

A private server counts the sessions: with ``"connection_budget": 6`` (pgsqlc
``max_conn`` 3, ORM ``pool_size`` 2 + ``max_overflow`` 1), 12 pgsqlc calls and 12 ORM
sessions running together never hold more than 6 connections, and all of them succeed
(they wait for a connection instead). Pools that do not fit are refused by both clients.
"""

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy import text

from envoxy.db.exceptions import DatabaseException
from envoxy.db.orm.session import dispose_manager, get_manager, session_scope
from envoxy.exceptions import ConfigError
from envoxy.postgresql import PostgresClient
from envoxy_testing.postgres import PrivatePostgres

pytestmark = pytest.mark.postgresql

KEY = "budgeted"
BUDGET = 6


@pytest.fixture
def client() -> Iterator[PostgresClient]:
    client = PostgresClient()
    yield client
    client.close()
    dispose_manager(KEY)


def test_pgsqlc_and_orm_together_never_pass_the_budget(
    private_postgres: Callable[..., PrivatePostgres],
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path: Path,
    client: PostgresClient,
) -> None:
    server = private_postgres()
    entry = server.client_config(connection_budget=BUDGET, timeout=10, conn_timeout=10)
    with load_config({"psql_servers": {KEY: entry}}, tmp_path):
        pool = get_manager(KEY).engine.pool
        assert (pool.size(), pool._max_overflow) == (2, 1)  # type: ignore[attr-defined]
        peak = 0
        done = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, server.client_sessions())

        def pgsqlc_call(_: int) -> object:
            return client.query(KEY, "SELECT pg_sleep(0.2) AS slept")

        def orm_call(_: int) -> object:
            with session_scope(KEY) as session:
                return session.execute(text("SELECT pg_sleep(0.2)")).all()

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            with ThreadPoolExecutor(24) as executor:
                calls = [executor.submit(pgsqlc_call, index) for index in range(12)]
                calls += [executor.submit(orm_call, index) for index in range(12)]
                results = [call.result(timeout=30) for call in calls]
        finally:
            done.set()
            watcher.join(timeout=5)
        assert len(results) == 24
        assert client.pool(KEY).max_size == 3
        assert 4 <= peak <= BUDGET  # without the budget: up to 24


def test_pools_past_the_budget_are_refused_by_both_clients(
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path: Path,
    client: PostgresClient,
) -> None:
    entry = {"db": "x", "connection_budget": 10, "max_conn": 8, "pool_size": 5}
    with load_config({"psql_servers": {KEY: entry}}, tmp_path):
        with pytest.raises(ConfigError, match="exceed connection_budget 10"):
            client.query(KEY, "SELECT 1")
        with pytest.raises(DatabaseException, match="exceed connection_budget 10"):
            get_manager(KEY)
