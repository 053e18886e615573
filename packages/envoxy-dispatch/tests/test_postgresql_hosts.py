"""pgsqlc and ORM sessions of a key with several PostgreSQL hosts (``hosts``, per-host
ports) and ``target_session_attrs``.

Private servers stand for a primary and a standby: a server with
``default_transaction_read_only`` reports itself read-only, which is what libpq's
``target_session_attrs=read-write`` looks at. A dead host (a free port) comes first in
the list. The switchover test flips the roles and ends the old primary's sessions, as
a failover does: the clients find the new primary by themselves.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy import text

from envoxy.db.orm.session import dispose_manager, session_scope
from envoxy.exceptions import ClientError
from envoxy.postgresql import PostgresClient
from envoxy_testing.network import free_port, retry_until
from envoxy_testing.postgres import PrivatePostgres
from envoxy_testing.reliability import record

pytestmark = pytest.mark.postgresql

KEY = "multi"


@pytest.fixture
def client() -> Iterator[PostgresClient]:
    client = PostgresClient()
    yield client
    client.close()
    dispose_manager(KEY)


def entry(hosts: list[PrivatePostgres | int], attrs: str, **more: object) -> dict[str, object]:
    """A psql_servers entry listing ``hosts`` (servers, or bare ports where nothing listens)."""
    listed = [
        f"127.0.0.1:{host}" if isinstance(host, int) else f"{host.host}:{host.port}"
        for host in hosts
    ]
    return {
        "hosts": listed,
        "target_session_attrs": attrs,
        "db": "envoxy_test",
        "user": "envoxy",
        "passwd": "envoxy",
        "timeout": 3,
        **more,
    }


def orm_port() -> int:
    with session_scope(KEY) as session:
        return int(session.scalar(text("SELECT inet_server_port()")))


def test_read_write_skips_a_dead_host_and_a_read_only_one(
    private_postgres: Callable[..., PrivatePostgres],
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path: Path,
    client: PostgresClient,
) -> None:
    standby = private_postgres(settings={"default_transaction_read_only": "on"})
    primary = private_postgres()
    dead = free_port()
    for attrs, expected in (("read-write", primary), ("read-only", standby)):
        config = {"psql_servers": {KEY: entry([dead, standby, primary], attrs)}}
        with load_config(config, tmp_path):
            (row,) = client.query(KEY, "SELECT inet_server_port() AS port")
            assert row["port"] == expected.port
            assert orm_port() == expected.port
            client.close()
            dispose_manager(KEY)


def test_after_a_switchover_new_calls_find_the_new_primary(
    private_postgres: Callable[..., PrivatePostgres],
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path: Path,
    client: PostgresClient,
) -> None:
    first, second = private_postgres(), private_postgres()
    for server in (first, second):
        connection = server.connect()
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE marks (port int)")
        connection.close()
    set_read_only(second, True)
    with load_config({"psql_servers": {KEY: entry([first, second], "read-write")}}, tmp_path):
        client.query(KEY, "INSERT INTO marks SELECT inet_server_port()")
        assert orm_port() == first.port
        # The switchover: the old primary turns read-only and its sessions end (as when
        # it restarts as a standby); the other one becomes writable.
        set_read_only(second, False)
        set_read_only(first, True)
        started = time.monotonic()
        first.terminate_backends()

        def write() -> int:
            (row,) = client.query(KEY, "INSERT INTO marks SELECT inet_server_port() RETURNING port")
            return int(row["port"])

        assert retry_until(write, ClientError, timeout=5) == second.port
        recovered = time.monotonic() - started
        assert retry_until(orm_port, Exception, timeout=5) == second.port
        orm_recovered = time.monotonic() - started
    assert marks(first) == [first.port]  # nothing written to the old primary after
    assert marks(second) == [second.port]
    record(
        "pgsqlc",
        "primary switchover (hosts, target_session_attrs)",
        "pgsqlc and ORM: the next call after the old primary's sessions end connects to "
        "the new primary (libpq skips the read-only host); no write lands on the old one",
        "test_after_a_switchover_new_calls_find_the_new_primary",
        recover=max(recovered, orm_recovered),
    )


def set_read_only(server: PrivatePostgres, read_only: bool) -> None:
    connection = server.connect(admin=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"ALTER SYSTEM SET default_transaction_read_only = {'on' if read_only else 'off'}"
            )
            cursor.execute("SELECT pg_reload_conf()")
    finally:
        connection.close()


def marks(server: PrivatePostgres) -> list[int]:
    connection = server.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT port FROM marks")
            return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()
