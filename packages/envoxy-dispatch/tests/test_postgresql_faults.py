"""pgsqlc against a private PostgreSQL that is frozen, cut off, killed, reset and restarted.

Each test breaks its own server (``private_postgres``), or the path to it
(``fault_proxy``), and shows: calls fail within the key's ``timeout`` + 1 s with an
outage error (the daemon's 503), the client recovers by itself within 5 s once the
server is back, and the pool's capacity is intact: 20 concurrent calls succeed and its
slots equal the server's live sessions. Each test records what it measured
(``envoxy_testing.reliability``) for docs/RELIABILITY.md.
"""

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from envoxy.exceptions import ClientError, ConnectError, TimeoutError
from envoxy.postgresql import PostgresClient, QueryTimeoutError
from envoxy_testing.faultproxy import FaultProxy
from envoxy_testing.network import retry_until, wait_until
from envoxy_testing.plugin import FaultProxyFactory
from envoxy_testing.postgres import PrivatePostgres
from envoxy_testing.reliability import record

pytestmark = pytest.mark.postgresql

#: The key's ``timeout``: a call must end within it plus :data:`MARGIN`.
TIMEOUT = 1.0
MARGIN = 1.0
POOL_SIZE = 20
KEY = "faulty"


class Scene:
    """A private server, maybe behind a proxy, and a pgsqlc client configured for it."""

    def __init__(
        self, server: PrivatePostgres, proxy: FaultProxy | None, client: PostgresClient
    ) -> None:
        self.server = server
        self.proxy = proxy
        self.client = client

    def query(self, sql: str = "SELECT 1 AS ok") -> list[dict[str, Any]]:
        return self.client.query(KEY, sql)

    def concurrently(self, sql: str, count: int = POOL_SIZE) -> list[BaseException | None]:
        def call(_: int) -> BaseException | None:
            try:
                self.query(sql)
            except BaseException as exc:
                return exc
            return None

        with ThreadPoolExecutor(count) as executor:
            return list(executor.map(call, range(count)))

    def live_sessions(self) -> int:
        connection = self.server.connect(admin=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE usename = 'envoxy' AND backend_type = 'client backend'"
                )
                return int(cursor.fetchone()[0])
        finally:
            connection.close()

    def assert_capacity_intact(self) -> float:
        """20 concurrent calls succeed, and the pool's slots are the server's sessions;
        return the seconds the 20 calls took."""
        started = time.monotonic()
        assert self.concurrently("SELECT pg_sleep(0.3)") == [None] * POOL_SIZE
        took = time.monotonic() - started
        pool = self.client.pool(KEY)
        assert pool.size == pool.idle == POOL_SIZE
        # Sessions whose client went away may still end their statement on the server.
        wait_until(lambda: self.live_sessions() == POOL_SIZE, timeout=3, what="20 sessions")
        return took


@pytest.fixture
def scene(
    request: pytest.FixtureRequest,
    private_postgres: Callable[..., PrivatePostgres],
    fault_proxy: FaultProxyFactory,
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path: Path,
) -> Iterator[Scene]:
    server = private_postgres()
    proxy = fault_proxy(server) if getattr(request, "param", "") == "proxy" else None
    entry = server.client_config(timeout=TIMEOUT, max_conn=POOL_SIZE, conn_timeout=5)
    if proxy is not None:
        entry.update(host=proxy.host, port=proxy.port)
    with load_config({"psql_servers": {KEY: entry}}, tmp_path):
        client = PostgresClient()
        try:
            yield Scene(server, proxy, client)
        finally:
            client.close()


def timed_failure(call: Callable[[], object]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value, time.monotonic() - started


def freeze(scene: Scene) -> None:
    if scene.proxy is not None:
        scene.proxy.freeze()
    else:
        scene.server.freeze()


def thaw(scene: Scene) -> None:
    if scene.proxy is not None:
        scene.proxy.passthrough()
    else:
        scene.server.thaw()


@pytest.mark.parametrize("scene", ["server", "proxy"], indirect=True)
def test_a_frozen_server_fails_calls_within_the_timeout_and_recovery_is_automatic(
    scene: Scene, request: pytest.FixtureRequest
) -> None:
    assert scene.concurrently("SELECT pg_sleep(0.1)", 4) == [None] * 4  # 4 idle connections
    freeze(scene)
    try:
        # A pooled connection: the statement gets no answer.
        error, fail = timed_failure(scene.query)
        assert isinstance(error, QueryTimeoutError)
        assert isinstance(error, TimeoutError)
        assert error.pgcode is None
        assert "no answer within the client deadline" in str(error)
        assert fail < TIMEOUT + MARGIN

        # 20 callers at once: 3 get the remaining pooled connections, the others connect.
        started = time.monotonic()
        errors = scene.concurrently("SELECT 1")
        all_fail = time.monotonic() - started
        assert all(isinstance(error, TimeoutError | ConnectError) for error in errors), errors
        assert all_fail < TIMEOUT + MARGIN

        # A new connection: libpq's connect_timeout, one attempt within the deadline.
        error, connect_fail = timed_failure(scene.query)
        assert isinstance(error, ConnectError)
        assert "Failed after 1 attempt " in str(error)
        assert connect_fail < TIMEOUT + MARGIN
        assert scene.client.pool(KEY).size == 0  # every broken connection gave its slot back
    finally:
        thaw(scene)
    started = time.monotonic()
    assert retry_until(scene.query, ClientError, timeout=5) == [{"ok": 1}]
    recover = time.monotonic() - started
    concurrent20 = scene.assert_capacity_intact()
    record(
        "pgsqlc",
        "path frozen" if scene.proxy else "SIGSTOP",
        f"a statement on a pooled connection fails in {fail:.2f} s (timeout {TIMEOUT:g} s) "
        f"with QueryTimeoutError, a call needing a new connection in {connect_fail:.2f} s "
        f"with ConnectError, 20 concurrent calls all within {all_fail:.2f} s; works again "
        f"{recover:.2f} s after the server returns; 20 concurrent calls in "
        f"{concurrent20:.2f} s, pool slots = live sessions",
        request.node.name,
        timeout=TIMEOUT,
        fail=fail,
        connect_fail=connect_fail,
        recover=recover,
        concurrent20=concurrent20,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_a_long_statement_is_cancelled_by_the_server_and_the_connection_kept(
    scene: Scene, request: pytest.FixtureRequest
) -> None:
    backend = scene.query("SELECT pg_backend_pid() AS pid")[0]["pid"]
    error, fail = timed_failure(lambda: scene.query("SELECT pg_sleep(5)"))
    assert isinstance(error, QueryTimeoutError)
    assert error.pgcode == "57014"  # statement_timeout defaults to the key's timeout
    assert TIMEOUT <= fail < TIMEOUT + MARGIN
    assert scene.query("SELECT pg_backend_pid() AS pid")[0]["pid"] == backend
    record(
        "pgsqlc",
        "statement past timeout",
        f"PostgreSQL cancels it at its statement_timeout (= timeout {TIMEOUT:g} s): "
        f"QueryTimeoutError (57014) in {fail:.2f} s; the connection stays in the pool",
        request.node.name,
        timeout=TIMEOUT,
        fail=fail,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_a_killed_server_fails_calls_at_once_and_a_restarted_one_serves_again(
    scene: Scene, request: pytest.FixtureRequest
) -> None:
    scene.assert_capacity_intact()
    scene.server.kill()
    error, fail = timed_failure(scene.query)
    assert isinstance(error, ConnectError)
    assert fail < TIMEOUT + MARGIN
    assert scene.client.pool(KEY).size == 0
    scene.server.start()
    started = time.monotonic()
    assert retry_until(scene.query, ClientError, timeout=5) == [{"ok": 1}]
    recover = time.monotonic() - started
    concurrent20 = scene.assert_capacity_intact()
    record(
        "pgsqlc",
        "kill -9",
        f"calls fail in {fail:.2f} s with ConnectError (refused; dead pooled connections "
        f"dropped, their slots freed); works again {recover:.2f} s after the server "
        f"accepts connections; 20 concurrent calls in {concurrent20:.2f} s, pool slots = "
        "live sessions",
        request.node.name,
        fail=fail,
        recover=recover,
        concurrent20=concurrent20,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_a_restart_costs_no_call_and_no_slot(scene: Scene, request: pytest.FixtureRequest) -> None:
    scene.assert_capacity_intact()
    scene.server.restart()
    started = time.monotonic()
    # The idle connections all died: the first caller drops them and connects.
    assert scene.query() == [{"ok": 1}]
    first_call = time.monotonic() - started
    assert scene.client.pool(KEY).size == scene.live_sessions() == 1
    concurrent20 = scene.assert_capacity_intact()
    record(
        "pgsqlc",
        "restart",
        f"no call fails: the first call after the restart drops the 20 dead pooled "
        f"connections and connects ({first_call:.2f} s); pool slots = live sessions (1); "
        f"20 concurrent calls in {concurrent20:.2f} s",
        request.node.name,
        first_call=first_call,
        concurrent20=concurrent20,
    )


@pytest.mark.parametrize("scene", ["proxy"], indirect=True)
def test_reset_connections_fail_the_calls_in_flight_only(
    scene: Scene, request: pytest.FixtureRequest
) -> None:
    assert scene.proxy is not None
    scene.assert_capacity_intact()
    with ThreadPoolExecutor(5) as executor:
        busy = [executor.submit(scene.query, "SELECT pg_sleep(1)") for _ in range(5)]
        time.sleep(0.3)
        started = time.monotonic()
        scene.proxy.reset()  # RST on every connection through the proxy
        for future in busy:
            with pytest.raises(ConnectError, match="the connection broke"):
                future.result()
        fail = time.monotonic() - started
    scene.proxy.passthrough()
    started = time.monotonic()
    assert scene.query() == [{"ok": 1}]
    recover = time.monotonic() - started
    concurrent20 = scene.assert_capacity_intact()
    record(
        "pgsqlc",
        "connections reset",
        f"the calls in flight fail in {fail:.2f} s with ConnectError; the next call "
        f"reconnects ({recover:.2f} s); 20 concurrent calls in {concurrent20:.2f} s",
        request.node.name,
        fail=fail,
        recover=recover,
        concurrent20=concurrent20,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_terminated_backends_leave_no_stale_slot(
    scene: Scene, request: pytest.FixtureRequest
) -> None:
    scene.assert_capacity_intact()
    assert scene.server.terminate_backends() == POOL_SIZE
    wait_until(lambda: scene.live_sessions() == 0, timeout=3, what="the backends gone")
    started = time.monotonic()
    assert scene.query() == [{"ok": 1}]  # one caller drains the 20 dead connections
    first_call = time.monotonic() - started
    assert scene.client.pool(KEY).size == scene.live_sessions() == 1
    concurrent20 = scene.assert_capacity_intact()
    record(
        "pgsqlc",
        "pg_terminate_backend",
        f"no call fails: one caller drops the 20 dead idle connections and connects "
        f"({first_call:.2f} s); pool slots = live sessions (1); 20 concurrent calls in "
        f"{concurrent20:.2f} s",
        request.node.name,
        first_call=first_call,
        concurrent20=concurrent20,
    )
