"""pgsqlc's pool keeps "open slots == live connections" when its backends die.

Runs on the shared PostgreSQL of tools/services: the backends killed here are only
this module's own, found by the ``application_name`` its connections carry.
"""

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.extensions
import pytest

from envoxy.postgresql import PostgresClient

pytestmark = pytest.mark.postgresql

APP_NAME = f"envoxy-slots-{uuid.uuid4().hex[:8]}"
KEY = "slots"
POOL_SIZE = 20


@pytest.fixture(scope="module")
def admin(postgresql_url: str) -> Iterator[psycopg2.extensions.connection]:
    parts = urlsplit(postgresql_url)
    connection = psycopg2.connect(
        host=parts.hostname,
        port=parts.port,
        user=parts.username,
        password=parts.password,
        dbname=parts.path.strip("/"),
    )
    connection.autocommit = True
    yield connection
    connection.close()


@pytest.fixture(scope="module", autouse=True)
def config(
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path_factory: pytest.TempPathFactory,
    postgresql_url: str,
) -> Iterator[Path]:
    parts = urlsplit(postgresql_url)
    url = urlunsplit(("postgresql", parts.netloc, parts.path, f"application_name={APP_NAME}", ""))
    servers = {KEY: {"url": url, "max_conn": POOL_SIZE, "conn_timeout": 5}}
    with load_config({"psql_servers": servers}, tmp_path_factory.mktemp("slots")) as path:
        yield path


@pytest.fixture
def client() -> Iterator[PostgresClient]:
    instance = PostgresClient()
    yield instance
    instance.close()


def test_one_caller_draining_dead_connections_frees_their_slots(
    client: PostgresClient, admin: psycopg2.extensions.connection
) -> None:
    _concurrently(client, POOL_SIZE, "SELECT pg_sleep(0.2)")
    pool = client.pool(KEY)
    assert pool.size == pool.idle == _live_backends(admin) == POOL_SIZE

    _terminate_own_backends(admin)
    # One caller (a /_ready probe) drains all 20 dead idle connections.
    assert client.query(KEY, "SELECT 1 AS ok") == [{"ok": 1}]
    assert pool.size == _live_backends(admin) == 1

    started = time.monotonic()
    results = _concurrently(client, POOL_SIZE, "SELECT pg_sleep(1)")
    assert [error for error in results if error is not None] == []
    assert time.monotonic() - started < 4
    assert pool.size == _live_backends(admin) == POOL_SIZE


def test_slots_match_live_connections_after_kills_under_load(
    client: PostgresClient, admin: psycopg2.extensions.connection
) -> None:
    _concurrently(client, POOL_SIZE, "SELECT pg_sleep(0.1)")
    pool = client.pool(KEY)
    for _ in range(3):
        # Kill the backends while half the callers are in a statement.
        with ThreadPoolExecutor(POOL_SIZE) as executor:
            busy = [
                executor.submit(_query_or_error, client, "SELECT pg_sleep(0.5)")
                for _ in range(POOL_SIZE // 2)
            ]
            time.sleep(0.2)
            _terminate_own_backends(admin)
            assert all(future.result() is not None for future in busy)
        assert pool.size == pool.idle  # nothing is in use
        results = _concurrently(client, POOL_SIZE, "SELECT pg_sleep(0.3)")
        assert [error for error in results if error is not None] == []
        assert pool.size == pool.idle == _live_backends(admin) == POOL_SIZE


def _query_or_error(client: PostgresClient, sql: str) -> BaseException | None:
    try:
        client.query(KEY, sql)
    except BaseException as exc:
        return exc
    return None


def _concurrently(client: PostgresClient, count: int, sql: str) -> list[BaseException | None]:
    with ThreadPoolExecutor(count) as executor:
        return list(executor.map(lambda _: _query_or_error(client, sql), range(count)))


def _live_backends(admin: psycopg2.extensions.connection) -> int:
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME]
        )
        row: Any = cursor.fetchone()
    return int(row[0])


def _terminate_own_backends(admin: psycopg2.extensions.connection) -> None:
    """``pg_terminate_backend`` every backend of this module, and wait until they are gone."""
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            [APP_NAME],
        )
    deadline = time.monotonic() + 5
    while _live_backends(admin):
        assert time.monotonic() < deadline, "the backends were not terminated"
        time.sleep(0.02)
    # The server's "terminating connection" message reaches the idle sockets.
    time.sleep(0.05)
