"""A real envoxyd whose views use pgsqlc and an ORM session, while its PostgreSQL freezes,
restarts and comes back.

The server is private (``private_postgres``). While it is frozen the views answer 503
with ``Retry-After`` within the key's ``timeout`` + 1 s and ``/_health`` keeps answering
200 at once; once it is back the views answer 200 again within 5 s, and 20 concurrent
requests succeed. After a restart one ``/_ready`` probe, then 20 concurrent requests:
all succeed (the probe used to leak the pool's slots).
"""

import http.client
import json
import textwrap
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from envoxy_testing.network import wait_until
from envoxy_testing.postgres import PrivatePostgres

pytestmark = [pytest.mark.postgresql, pytest.mark.integration, pytest.mark.slow]

TIMEOUT = 1.0
MARGIN = 1.0

VIEWS = textwrap.dedent(
    """
    from sqlalchemy import text

    from envoxy.db.orm.session import session_scope
    from envoxy.decorators import on
    from envoxy.postgresql import pgsqlc
    from envoxy.views import View


    @on(endpoint="/v1/pg", protocols=["http"])
    class PgView(View):
        def get(self, request, **kwargs):
            sleep = float(request.args.get("sleep") or 0)
            rows = pgsqlc.query("main", "SELECT 1 AS ok, pg_sleep(%s)::text AS slept", [sleep])
            return {"ok": rows[0]["ok"]}


    @on(endpoint="/v1/orm", protocols=["http"])
    class OrmView(View):
        def get(self, request, **kwargs):
            sleep = float(request.args.get("sleep") or 0)
            with session_scope("main") as session:
                session.execute(text("SELECT pg_sleep(:s)"), {"s": sleep})
                return {"ok": session.scalar(text("SELECT 1"))}


    __loader__ = [PgView, OrmView]
    """
)


def get(port: int, path: str, timeout: float = 10) -> tuple[int, dict[str, str], Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        answer = connection.getresponse()
        body = answer.read()
        headers = {name.lower(): value for name, value in answer.getheaders()}
        return answer.status, headers, json.loads(body) if body else None
    finally:
        connection.close()


def timed_get(port: int, path: str) -> tuple[int, dict[str, str], Any, float]:
    started = time.monotonic()
    status, headers, body = get(port, path)
    return status, headers, body, time.monotonic() - started


def report(fault: str, what: str, seconds: float) -> None:
    print(f"RELIABILITY envoxyd (pgsqlc + ORM views) | {fault} | {what} | {seconds:.2f} s")


@pytest.fixture
def service(
    tmp_path: Path,
    private_postgres: Callable[..., PrivatePostgres],
    write_config: Callable[..., Path],
    start_envoxyd: Callable[..., Any],
) -> tuple[PrivatePostgres, Any]:
    server = private_postgres()
    views = tmp_path / "pg_views.py"
    views.write_text(VIEWS)
    # As many pooled connections as a worker has threads: a leaked slot shows at once.
    entry = server.client_config(timeout=TIMEOUT, max_conn=4, conn_timeout=2, pool_size=4)
    config = write_config(
        {"modules": [str(views)], "log": {"level": 4}, "psql_servers": {"main": entry}}
    )
    daemon = start_envoxyd("--processes", "2", "--threads", "4", "--set", f"conf={config}")
    return server, daemon


def all_ok(port: int, paths: list[str]) -> list[int]:
    with ThreadPoolExecutor(len(paths)) as executor:
        return [status for status, _, _ in executor.map(lambda path: get(port, path), paths)]


def test_a_frozen_database_answers_503_keeps_health_and_recovers(
    service: tuple[PrivatePostgres, Any],
) -> None:
    server, daemon = service
    port = daemon.port
    # Warm both workers' pools.
    assert all_ok(port, ["/v1/pg?sleep=0.2", "/v1/orm?sleep=0.2"] * 4) == [200] * 8

    health_times: list[float] = []
    health_statuses: list[int] = []
    frozen = threading.Event()

    def probe_health() -> None:
        while not frozen.is_set():
            time.sleep(0.01)
        while frozen.is_set():
            status, _, _, took = timed_get(port, "/_health")
            health_statuses.append(status)
            health_times.append(took)
            time.sleep(0.05)

    prober = threading.Thread(target=probe_health, daemon=True)
    prober.start()
    server.freeze()
    frozen.set()
    try:
        with ThreadPoolExecutor(4) as executor:
            answers = list(
                executor.map(lambda path: timed_get(port, path), ["/v1/pg", "/v1/orm"] * 2)
            )
        for status, headers, body, took in answers:
            assert status == 503
            assert headers["retry-after"]
            assert body["error"].startswith("Service Unavailable :: ELRC(")
            assert took < TIMEOUT + MARGIN
        report("server frozen (SIGSTOP)", "a view answers 503", max(a[3] for a in answers))
    finally:
        frozen.clear()
        server.thaw()
    prober.join(5)
    assert health_statuses
    assert set(health_statuses) == {200}
    assert max(health_times) < 0.5
    report("server frozen (SIGSTOP)", "slowest /_health meanwhile", max(health_times))

    started = time.monotonic()
    wait_until(
        lambda: get(port, "/v1/pg")[0] == 200 and get(port, "/v1/orm")[0] == 200,
        timeout=5,
        interval=0.1,
        what="the views answer 200 again",
    )
    report("server frozen (SIGSTOP)", "views answer 200 again", time.monotonic() - started)
    assert all_ok(port, ["/v1/pg?sleep=0.2"] * 20) == [200] * 20
    assert all_ok(port, ["/v1/orm?sleep=0.2"] * 20) == [200] * 20


def test_one_ready_probe_after_a_restart_leaves_the_pool_whole(
    service: tuple[PrivatePostgres, Any],
) -> None:
    server, daemon = service
    port = daemon.port
    assert all_ok(port, ["/v1/pg?sleep=0.2"] * 16) == [200] * 16  # both pools fill up
    server.restart()
    started = time.monotonic()
    status, _, body = get(port, "/_ready")
    assert status == 200, body
    assert all_ok(port, ["/v1/pg?sleep=0.5"] * 20) == [200] * 20
    report("server restarted", "/_ready, then 20 concurrent requests", time.monotonic() - started)
