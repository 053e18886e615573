"""ORM sessions of ``psql_servers`` against a private PostgreSQL that is frozen, cut off,
killed, reset and restarted.

Like ``test_postgresql_faults.py`` for pgsqlc: statements, commits and new connections
fail within the key's ``timeout`` + 1 s with SQLAlchemy's ``OperationalError`` (the
daemon's 503), the engine recovers by itself within 5 s once the server is back, and 20
concurrent sessions then succeed. Each test records what it measured
(``envoxy_testing.reliability``) for docs/RELIABILITY.md.
"""

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool

from envoxy.db.orm.session import dispose_manager, get_manager, session_scope
from envoxy.db.postgres.deadline import DeadlineError
from envoxy.exceptions import TimeoutError
from envoxy_testing.faultproxy import FaultProxy
from envoxy_testing.network import retry_until, wait_until
from envoxy_testing.plugin import FaultProxyFactory
from envoxy_testing.postgres import PrivatePostgres
from envoxy_testing.reliability import record

pytestmark = pytest.mark.postgresql

TIMEOUT = 1.0
MARGIN = 1.0
SESSIONS = 20
KEY = "orm_faulty"


class Scene:
    """A private server, maybe behind a proxy, and the ORM key configured for it."""

    def __init__(self, server: PrivatePostgres, proxy: FaultProxy | None) -> None:
        self.server = server
        self.proxy = proxy

    def select(self, sql: str = "SELECT 1") -> Any:
        with session_scope(KEY) as session:
            return session.scalar(text(sql))

    def concurrently(self, sql: str, count: int = SESSIONS) -> list[BaseException | None]:
        def call(_: int) -> BaseException | None:
            try:
                self.select(sql)
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
        """20 concurrent sessions succeed; the engine's pool holds the server's sessions.
        Return the seconds the 20 sessions took."""
        started = time.monotonic()
        assert self.concurrently("SELECT pg_sleep(0.3)") == [None] * SESSIONS
        took = time.monotonic() - started
        pool = get_manager(KEY).engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.checkedout() == 0
        assert pool.checkedin() == SESSIONS
        wait_until(lambda: self.live_sessions() == SESSIONS, timeout=3, what="20 sessions")
        return took

    def freeze(self) -> None:
        if self.proxy is not None:
            self.proxy.freeze()
        else:
            self.server.freeze()

    def thaw(self) -> None:
        if self.proxy is not None:
            self.proxy.passthrough()
        else:
            self.server.thaw()

    @property
    def fault(self) -> str:
        return "path frozen" if self.proxy else "SIGSTOP"


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
    entry = server.client_config(timeout=TIMEOUT, pool_size=SESSIONS, max_overflow=0)
    if proxy is not None:
        entry.update(host=proxy.host, port=proxy.port)
    with load_config({"psql_servers": {KEY: entry}}, tmp_path):
        try:
            yield Scene(server, proxy)
        finally:
            dispose_manager(KEY)


def timed_failure(call: Callable[[], object]) -> tuple[OperationalError, float]:
    started = time.monotonic()
    with pytest.raises(OperationalError) as caught:
        call()
    return caught.value, time.monotonic() - started


@pytest.mark.parametrize("scene", ["server", "proxy"], indirect=True)
def test_a_frozen_server_fails_sessions_within_the_timeout_and_recovery_is_automatic(
    scene: Scene, request: pytest.FixtureRequest
) -> None:
    assert scene.concurrently("SELECT pg_sleep(0.1)", 4) == [None] * 4
    scene.freeze()
    try:
        error, fail = timed_failure(scene.select)
        assert isinstance(error.orig, DeadlineError)
        assert isinstance(error.orig, TimeoutError)
        assert "psql_servers.orm_faulty" in str(error.orig)
        assert error.connection_invalidated
        assert fail < TIMEOUT + MARGIN

        started = time.monotonic()
        errors = scene.concurrently("SELECT 1")
        all_fail = time.monotonic() - started
        assert all(isinstance(error, OperationalError) for error in errors), errors
        assert all_fail < TIMEOUT + MARGIN

        error, connect_fail = timed_failure(scene.select)  # the pool was invalidated
        assert "timeout expired" in str(error)
        assert connect_fail < TIMEOUT + MARGIN
    finally:
        scene.thaw()
    started = time.monotonic()
    assert retry_until(scene.select, OperationalError, timeout=5) == 1
    recover = time.monotonic() - started
    concurrent20 = scene.assert_capacity_intact()
    record(
        "orm",
        scene.fault,
        f"a statement fails in {fail:.2f} s (timeout {TIMEOUT:g} s) with OperationalError "
        f"(DeadlineError; SQLAlchemy invalidates the pool), a new connection in "
        f"{connect_fail:.2f} s, 20 concurrent sessions all within {all_fail:.2f} s; works "
        f"again {recover:.2f} s after the server returns; 20 concurrent sessions in "
        f"{concurrent20:.2f} s",
        request.node.name,
        timeout=TIMEOUT,
        fail=fail,
        connect_fail=connect_fail,
        recover=recover,
        concurrent20=concurrent20,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_a_commit_to_a_frozen_server_fails_within_the_timeout(
    scene: Scene, request: pytest.FixtureRequest
) -> None:
    session = get_manager(KEY).create_session()
    try:
        session.execute(text("CREATE TEMPORARY TABLE note (body text)"))
        session.execute(text("INSERT INTO note VALUES ('kept?')"))
        scene.freeze()
        try:
            error, fail = timed_failure(session.commit)
            assert isinstance(error.orig, DeadlineError)
            assert fail < TIMEOUT + MARGIN
        finally:
            scene.thaw()
        session.rollback()
    finally:
        session.close()
    started = time.monotonic()
    assert retry_until(scene.select, OperationalError, timeout=5) == 1
    record(
        "orm",
        "SIGSTOP at commit",
        f"commit fails in {fail:.2f} s (timeout {TIMEOUT:g} s) with OperationalError "
        "(DeadlineError); the next session works once the server returns",
        request.node.name,
        timeout=TIMEOUT,
        fail=fail,
        recover=time.monotonic() - started,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_a_long_statement_is_cancelled_by_the_server(
    scene: Scene, request: pytest.FixtureRequest
) -> None:
    error, fail = timed_failure(lambda: scene.select("SELECT pg_sleep(5)"))
    assert getattr(error.orig, "pgcode", None) == "57014"  # statement_timeout = timeout
    assert TIMEOUT <= fail < TIMEOUT + MARGIN
    assert scene.select() == 1
    record(
        "orm",
        "statement past timeout",
        f"PostgreSQL cancels it at its statement_timeout (= timeout {TIMEOUT:g} s): "
        f"OperationalError (57014) in {fail:.2f} s; the connection stays in the pool",
        request.node.name,
        timeout=TIMEOUT,
        fail=fail,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_a_killed_server_fails_sessions_at_once_and_a_restarted_one_serves_again(
    scene: Scene, request: pytest.FixtureRequest
) -> None:
    scene.assert_capacity_intact()
    scene.server.kill()
    error, fail = timed_failure(scene.select)
    assert "Connection refused" in str(error)
    assert fail < TIMEOUT + MARGIN
    scene.server.start()
    started = time.monotonic()
    assert retry_until(scene.select, OperationalError, timeout=5) == 1
    recover = time.monotonic() - started
    concurrent20 = scene.assert_capacity_intact()
    record(
        "orm",
        "kill -9",
        f"sessions fail in {fail:.2f} s with OperationalError (the checkout poll drops the "
        f"dead connection, reconnecting is refused); works again {recover:.2f} s after the "
        f"server accepts connections; 20 concurrent sessions in {concurrent20:.2f} s",
        request.node.name,
        fail=fail,
        recover=recover,
        concurrent20=concurrent20,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_a_restart_and_terminated_backends_cost_no_session(
    scene: Scene, request: pytest.FixtureRequest
) -> None:
    scene.assert_capacity_intact()
    scene.server.restart()
    started = time.monotonic()
    assert scene.select() == 1  # the checkout poll drops the dead connection, no error
    first_call = time.monotonic() - started
    concurrent20 = scene.assert_capacity_intact()
    record(
        "orm",
        "restart",
        f"no session fails: the checkout poll replaces dead pooled connections (first "
        f"session {first_call:.2f} s); 20 concurrent sessions in {concurrent20:.2f} s",
        request.node.name,
        first_call=first_call,
        concurrent20=concurrent20,
    )
    assert scene.server.terminate_backends() == SESSIONS
    wait_until(lambda: scene.live_sessions() == 0, timeout=3, what="the backends gone")
    started = time.monotonic()
    assert scene.select() == 1
    first_call = time.monotonic() - started
    concurrent20 = scene.assert_capacity_intact()
    record(
        "orm",
        "pg_terminate_backend",
        f"no session fails (first session {first_call:.2f} s); 20 concurrent sessions in "
        f"{concurrent20:.2f} s",
        request.node.name,
        first_call=first_call,
        concurrent20=concurrent20,
    )


@pytest.mark.parametrize("scene", ["proxy"], indirect=True)
def test_reset_connections_fail_the_sessions_in_flight_only(
    scene: Scene, request: pytest.FixtureRequest
) -> None:
    assert scene.proxy is not None
    scene.assert_capacity_intact()
    with ThreadPoolExecutor(5) as executor:
        busy = [executor.submit(scene.select, "SELECT pg_sleep(1)") for _ in range(5)]
        time.sleep(0.3)
        started = time.monotonic()
        scene.proxy.reset()
        for future in busy:
            with pytest.raises(OperationalError):
                future.result()
        fail = time.monotonic() - started
    scene.proxy.passthrough()
    started = time.monotonic()
    assert scene.select() == 1
    recover = time.monotonic() - started
    concurrent20 = scene.assert_capacity_intact()
    record(
        "orm",
        "connections reset",
        f"the sessions in flight fail in {fail:.2f} s with OperationalError; the next "
        f"session reconnects ({recover:.2f} s); 20 concurrent sessions in "
        f"{concurrent20:.2f} s",
        request.node.name,
        fail=fail,
        recover=recover,
        concurrent20=concurrent20,
    )
