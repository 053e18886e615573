"""ORM sessions of ``psql_servers`` against a private PostgreSQL that is frozen, cut off,
killed, reset and restarted.

Like ``test_postgresql_faults.py`` for pgsqlc, with the same scene and steps
(``envoxy_testing.pgfaults``): statements, commits and new connections fail within the
key's ``timeout`` + 1 s with SQLAlchemy's ``OperationalError`` (the daemon's 503), the
engine recovers by itself within 5 s once the server is back, and 20 concurrent sessions
then succeed. Each test records what it measured (``envoxy_testing.reliability``) for
docs/RELIABILITY.md.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool

from envoxy.db.orm.session import dispose_manager, get_manager, session_scope
from envoxy.db.postgres.deadline import DeadlineError
from envoxy.exceptions import TimeoutError
from envoxy_testing import pgfaults

pytestmark = pytest.mark.postgresql

TIMEOUT = 1.0
KEY = "orm_faulty"


class Scene(pgfaults.PgFaultScene):
    """The scene with the ORM key :data:`KEY`: each call is one session."""

    client = "orm"
    ok = 1

    def call(self, sql: str = pgfaults.OK_SQL) -> Any:
        with session_scope(KEY) as session:
            return session.scalar(text(sql))

    def assert_pool_whole(self) -> None:
        pool = get_manager(KEY).engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.checkedout() == 0
        assert pool.checkedin() == pgfaults.CONCURRENCY


@pytest.fixture
def scene(request: pytest.FixtureRequest) -> Iterator[Scene]:
    with pgfaults.configured(
        request, KEY, timeout=TIMEOUT, pool_size=pgfaults.CONCURRENCY, max_overflow=0
    ) as (server, proxy):
        try:
            yield Scene(request, server, proxy)
        finally:
            dispose_manager(KEY)


@pytest.mark.parametrize("scene", ["server", "proxy"], indirect=True)
def test_a_frozen_server_fails_sessions_within_the_timeout_and_recovery_is_automatic(
    scene: Scene,
) -> None:
    assert scene.concurrently("SELECT pg_sleep(0.1)", 4) == [None] * 4
    with scene.frozen():
        error, fail = pgfaults.timed_failure(scene.call, OperationalError)
        assert isinstance(error.orig, DeadlineError)
        assert isinstance(error.orig, TimeoutError)
        assert "psql_servers.orm_faulty" in str(error.orig)
        assert error.connection_invalidated
        assert fail < TIMEOUT + pgfaults.MARGIN

        errors, all_fail = pgfaults.timed(lambda: scene.concurrently("SELECT 1"))
        assert all(isinstance(error, OperationalError) for error in errors), errors
        assert all_fail < TIMEOUT + pgfaults.MARGIN

        error, connect_fail = pgfaults.timed_failure(
            scene.call, OperationalError
        )  # pool invalidated
        assert "timeout expired" in str(error)
        assert connect_fail < TIMEOUT + pgfaults.MARGIN
    recover = scene.recovery(OperationalError)
    concurrent20 = scene.assert_capacity_intact()
    scene.record(
        scene.fault,
        f"a statement fails in {fail:.2f} s (timeout {TIMEOUT:g} s) with OperationalError "
        f"(DeadlineError; SQLAlchemy invalidates the pool), a new connection in "
        f"{connect_fail:.2f} s, 20 concurrent sessions all within {all_fail:.2f} s; works "
        f"again {recover:.2f} s after the server returns; 20 concurrent sessions in "
        f"{concurrent20:.2f} s",
        timeout=TIMEOUT,
        fail=fail,
        connect_fail=connect_fail,
        recover=recover,
        concurrent20=concurrent20,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_a_commit_to_a_frozen_server_fails_within_the_timeout(scene: Scene) -> None:
    session = get_manager(KEY).create_session()
    try:
        session.execute(text("CREATE TEMPORARY TABLE note (body text)"))
        session.execute(text("INSERT INTO note VALUES ('kept?')"))
        with scene.frozen():
            error, fail = pgfaults.timed_failure(session.commit, OperationalError)
            assert isinstance(error.orig, DeadlineError)
            assert fail < TIMEOUT + pgfaults.MARGIN
        session.rollback()
    finally:
        session.close()
    recover = scene.recovery(OperationalError)
    scene.record(
        "SIGSTOP at commit",
        f"commit fails in {fail:.2f} s (timeout {TIMEOUT:g} s) with OperationalError "
        "(DeadlineError); the next session works once the server returns",
        timeout=TIMEOUT,
        fail=fail,
        recover=recover,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_a_long_statement_is_cancelled_by_the_server(scene: Scene) -> None:
    error, fail = pgfaults.timed_failure(lambda: scene.call("SELECT pg_sleep(5)"), OperationalError)
    assert getattr(error.orig, "pgcode", None) == "57014"  # statement_timeout = timeout
    assert TIMEOUT <= fail < TIMEOUT + pgfaults.MARGIN
    scene.ok_call()
    scene.record(
        "statement past timeout",
        f"PostgreSQL cancels it at its statement_timeout (= timeout {TIMEOUT:g} s): "
        f"OperationalError (57014) in {fail:.2f} s; the connection stays in the pool",
        timeout=TIMEOUT,
        fail=fail,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_a_killed_server_fails_sessions_at_once_and_a_restarted_one_serves_again(
    scene: Scene,
) -> None:
    scene.assert_capacity_intact()
    scene.server.kill()
    error, fail = pgfaults.timed_failure(scene.call, OperationalError)
    assert "Connection refused" in str(error)
    assert fail < TIMEOUT + pgfaults.MARGIN
    scene.server.start()
    recover = scene.recovery(OperationalError)
    concurrent20 = scene.assert_capacity_intact()
    scene.record(
        "kill -9",
        f"sessions fail in {fail:.2f} s with OperationalError (the checkout poll drops the "
        f"dead connection, reconnecting is refused); works again {recover:.2f} s after the "
        f"server accepts connections; 20 concurrent sessions in {concurrent20:.2f} s",
        fail=fail,
        recover=recover,
        concurrent20=concurrent20,
    )


@pytest.mark.parametrize("scene", ["server"], indirect=True)
def test_a_restart_and_terminated_backends_cost_no_session(scene: Scene) -> None:
    scene.assert_capacity_intact()
    scene.server.restart()
    first_call = scene.ok_call()  # the checkout poll drops the dead connection, no error
    concurrent20 = scene.assert_capacity_intact()
    scene.record(
        "restart",
        f"no session fails: the checkout poll replaces dead pooled connections (first "
        f"session {first_call:.2f} s); 20 concurrent sessions in {concurrent20:.2f} s",
        first_call=first_call,
        concurrent20=concurrent20,
    )
    scene.terminate_backends()
    first_call = scene.ok_call()
    concurrent20 = scene.assert_capacity_intact()
    scene.record(
        "pg_terminate_backend",
        f"no session fails (first session {first_call:.2f} s); 20 concurrent sessions in "
        f"{concurrent20:.2f} s",
        first_call=first_call,
        concurrent20=concurrent20,
    )


@pytest.mark.parametrize("scene", ["proxy"], indirect=True)
def test_reset_connections_fail_the_sessions_in_flight_only(scene: Scene) -> None:
    scene.assert_capacity_intact()
    fail = scene.reset_in_flight(OperationalError)
    recover = scene.ok_call()
    concurrent20 = scene.assert_capacity_intact()
    scene.record(
        "connections reset",
        f"the sessions in flight fail in {fail:.2f} s with OperationalError; the next "
        f"session reconnects ({recover:.2f} s); 20 concurrent sessions in "
        f"{concurrent20:.2f} s",
        fail=fail,
        recover=recover,
        concurrent20=concurrent20,
    )
