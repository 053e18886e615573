"""pgsqlc against a private PostgreSQL that is frozen, cut off, killed, reset and restarted.

Each test breaks its own server (``private_postgres``), or the path to it
(``fault_proxy``), and shows: calls fail within the key's ``timeout`` + 1 s with an
outage error (the daemon's 503), the client recovers by itself within 5 s once the
server is back, and the pool's capacity is intact: 20 concurrent calls succeed and its
slots equal the server's live sessions. Each test records what it measured
(``envoxy_testing.reliability``) for docs/RELIABILITY.md. The scene and its steps are
shared with the ORM's fault tests (``envoxy_testing.pgfaults``).
"""

from collections.abc import Iterator
from typing import Any

import pytest

from envoxy.exceptions import ClientError, ConnectError, TimeoutError
from envoxy.postgresql import PostgresClient, QueryTimeoutError
from envoxy_testing import pgfaults
from envoxy_testing.faultproxy import FaultProxy
from envoxy_testing.postgres import PrivatePostgres

pytestmark = pytest.mark.postgresql

#: The key's ``timeout``: a call must end within it plus :data:`pgfaults.MARGIN`.
TIMEOUT = 1.0
KEY = "faulty"


class Scene(pgfaults.PgFaultScene):
    """The scene with a pgsqlc client of :data:`KEY`."""

    client = "pgsqlc"
    ok = [{"ok": 1}]

    def __init__(
        self,
        request: pytest.FixtureRequest,
        server: PrivatePostgres,
        proxy: FaultProxy | None,
        client: PostgresClient,
    ) -> None:
        super().__init__(request, server, proxy)
        self.pgsqlc = client

    def call(self, sql: str = pgfaults.OK_SQL) -> list[dict[str, Any]]:
        return self.pgsqlc.query(KEY, sql)

    def assert_pool_whole(self) -> None:
        pool = self.pgsqlc.pool(KEY)
        assert pool.size == pool.idle == pgfaults.CONCURRENCY


@pytest.fixture
def scene(request: pytest.FixtureRequest) -> Iterator[Scene]:
    with pgfaults.configured(
        request, KEY, timeout=TIMEOUT, max_conn=pgfaults.CONCURRENCY, conn_timeout=5
    ) as (server, proxy):
        client = PostgresClient()
        try:
            yield Scene(request, server, proxy, client)
        finally:
            client.close()


@pytest.mark.parametrize("scene", ["server", "proxy"], indirect=True)
def test_a_frozen_server_fails_calls_within_the_timeout_and_recovery_is_automatic(
    scene: Scene,
) -> None:
    assert scene.concurrently("SELECT pg_sleep(0.1)", 4) == [None] * 4  # 4 idle connections
    with scene.frozen():
        # A pooled connection: the statement gets no answer.
        error, fail = pgfaults.timed_failure(scene.call, ClientError)
        assert isinstance(error, QueryTimeoutError)
        assert isinstance(error, TimeoutError)
        assert error.pgcode is None
        assert "no answer within the client deadline" in str(error)
        assert fail < TIMEOUT + pgfaults.MARGIN

        # 20 callers at once: 3 get the remaining pooled connections, the others connect.
        errors, all_fail = pgfaults.timed(lambda: scene.concurrently("SELECT 1"))
        assert all(isinstance(error, TimeoutError | ConnectError) for error in errors), errors
        assert all_fail < TIMEOUT + pgfaults.MARGIN

        # A new connection: libpq's connect_timeout, one attempt within the deadline.
        error, connect_fail = pgfaults.timed_failure(scene.call, ClientError)
        assert isinstance(error, ConnectError)
        assert "Failed after 1 attempt " in str(error)
        assert connect_fail < TIMEOUT + pgfaults.MARGIN
        assert scene.pgsqlc.pool(KEY).size == 0  # every broken connection gave its slot back
    recover = scene.recovery(ClientError)
    concurrent20 = scene.assert_capacity_intact()
    scene.record(
        scene.fault,
        f"a statement on a pooled connection fails in {fail:.2f} s (timeout {TIMEOUT:g} s) "
        f"with QueryTimeoutError, a call needing a new connection in {connect_fail:.2f} s "
        f"with ConnectError, 20 concurrent calls all within {all_fail:.2f} s; works again "
        f"{recover:.2f} s after the server returns; 20 concurrent calls in "
        f"{concurrent20:.2f} s, pool slots = live sessions",
        timeout=TIMEOUT,
        fail=fail,
        connect_fail=connect_fail,
        recover=recover,
        concurrent20=concurrent20,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_a_long_statement_is_cancelled_by_the_server_and_the_connection_kept(scene: Scene) -> None:
    backend = scene.call("SELECT pg_backend_pid() AS pid")[0]["pid"]
    error, fail = pgfaults.timed_failure(
        lambda: scene.call("SELECT pg_sleep(5)"), QueryTimeoutError
    )
    assert error.pgcode == "57014"  # statement_timeout defaults to the key's timeout
    assert TIMEOUT <= fail < TIMEOUT + pgfaults.MARGIN
    assert scene.call("SELECT pg_backend_pid() AS pid")[0]["pid"] == backend
    scene.record(
        "statement past timeout",
        f"PostgreSQL cancels it at its statement_timeout (= timeout {TIMEOUT:g} s): "
        f"QueryTimeoutError (57014) in {fail:.2f} s; the connection stays in the pool",
        timeout=TIMEOUT,
        fail=fail,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_a_killed_server_fails_calls_at_once_and_a_restarted_one_serves_again(scene: Scene) -> None:
    scene.assert_capacity_intact()
    scene.server.kill()
    _, fail = pgfaults.timed_failure(scene.call, ConnectError)
    assert fail < TIMEOUT + pgfaults.MARGIN
    assert scene.pgsqlc.pool(KEY).size == 0
    scene.server.start()
    recover = scene.recovery(ClientError)
    concurrent20 = scene.assert_capacity_intact()
    scene.record(
        "kill -9",
        f"calls fail in {fail:.2f} s with ConnectError (refused; dead pooled connections "
        f"dropped, their slots freed); works again {recover:.2f} s after the server "
        f"accepts connections; 20 concurrent calls in {concurrent20:.2f} s, pool slots = "
        "live sessions",
        fail=fail,
        recover=recover,
        concurrent20=concurrent20,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_a_restart_costs_no_call_and_no_slot(scene: Scene) -> None:
    scene.assert_capacity_intact()
    scene.server.restart()
    first_call = scene.ok_call()  # the idle connections all died: it drops them and connects
    assert scene.pgsqlc.pool(KEY).size == scene.live_sessions() == 1
    concurrent20 = scene.assert_capacity_intact()
    scene.record(
        "restart",
        f"no call fails: the first call after the restart drops the 20 dead pooled "
        f"connections and connects ({first_call:.2f} s); pool slots = live sessions (1); "
        f"20 concurrent calls in {concurrent20:.2f} s",
        first_call=first_call,
        concurrent20=concurrent20,
    )


@pytest.mark.parametrize("scene", ["proxy"], indirect=True)
def test_reset_connections_fail_the_calls_in_flight_only(scene: Scene) -> None:
    scene.assert_capacity_intact()
    fail = scene.reset_in_flight(ConnectError, match="the connection broke")
    recover = scene.ok_call()
    concurrent20 = scene.assert_capacity_intact()
    scene.record(
        "connections reset",
        f"the calls in flight fail in {fail:.2f} s with ConnectError; the next call "
        f"reconnects ({recover:.2f} s); 20 concurrent calls in {concurrent20:.2f} s",
        fail=fail,
        recover=recover,
        concurrent20=concurrent20,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_terminated_backends_leave_no_stale_slot(scene: Scene) -> None:
    scene.assert_capacity_intact()
    scene.terminate_backends()
    first_call = scene.ok_call()  # one caller drains the 20 dead connections
    assert scene.pgsqlc.pool(KEY).size == scene.live_sessions() == 1
    concurrent20 = scene.assert_capacity_intact()
    scene.record(
        "pg_terminate_backend",
        f"no call fails: one caller drops the 20 dead idle connections and connects "
        f"({first_call:.2f} s); pool slots = live sessions (1); 20 concurrent calls in "
        f"{concurrent20:.2f} s",
        first_call=first_call,
        concurrent20=concurrent20,
    )
