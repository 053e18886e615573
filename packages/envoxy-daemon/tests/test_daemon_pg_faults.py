"""A real envoxyd whose views use pgsqlc and an ORM session, while its PostgreSQL freezes,
restarts and comes back.

The server is private (``private_postgres``). While it is frozen the views answer 503
with ``Retry-After`` within the key's ``timeout`` + 1 s and ``/_health`` keeps answering
200 at once; once it is back the views answer 200 again within 5 s, and 20 concurrent
requests succeed. After a restart, a ``/_ready`` probe then 20 concurrent requests all
succeed: the first request of each worker drops its dead pooled connections, and with a
pool as small as the worker's threads a leaked slot would turn the others into 503s.
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
from envoxy_testing.reliability import record

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
    service: tuple[PrivatePostgres, Any], request: pytest.FixtureRequest
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
    finally:
        frozen.clear()
        server.thaw()
    prober.join(5)
    assert health_statuses
    assert set(health_statuses) == {200}
    health = max(health_times)
    assert health < 0.5

    recover = wait_until(
        lambda: get(port, "/v1/pg")[0] == 200 and get(port, "/v1/orm")[0] == 200,
        timeout=5,
        interval=0.1,
        what="the views answer 200 again",
    )
    started = time.monotonic()
    assert all_ok(port, ["/v1/pg?sleep=0.2"] * 20) == [200] * 20
    assert all_ok(port, ["/v1/orm?sleep=0.2"] * 20) == [200] * 20
    concurrent = time.monotonic() - started
    for client, view in (("pgsqlc", 0), ("orm", 1)):
        answered = max(answer[3] for answer in answers[view::2])
        record(
            client,
            "SIGSTOP under envoxyd",
            f"the view answers 503 with Retry-After in {answered:.2f} s (timeout "
            f"{TIMEOUT:g} s); /_health answers 200 meanwhile (slowest {health:.2f} s); "
            f"200 again {recover:.2f} s after the server returns; 2 x 20 concurrent "
            f"requests in {concurrent:.2f} s (2 workers x 4 threads)",
            request.node.name,
            timeout=TIMEOUT,
            http=answered,
            health=health,
            recover=recover,
        )


def test_one_ready_probe_after_a_restart_leaves_the_pool_whole(
    service: tuple[PrivatePostgres, Any], request: pytest.FixtureRequest
) -> None:
    server, daemon = service
    port = daemon.port
    assert all_ok(port, ["/v1/pg?sleep=0.2"] * 16) == [200] * 16  # both pools fill up
    server.restart()
    status, _, body = get(port, "/_ready")
    assert status == 200, body
    started = time.monotonic()
    assert get(port, "/v1/pg")[0] == 200
    first_call = time.monotonic() - started
    started = time.monotonic()
    assert all_ok(port, ["/v1/pg?sleep=0.5"] * 20) == [200] * 20
    concurrent20 = time.monotonic() - started
    record(
        "pgsqlc",
        "restart under envoxyd",
        f"no request fails: after a /_ready probe the first request answers 200 in "
        f"{first_call:.2f} s, then 20 concurrent requests (pool of 4 per worker, "
        f"pg_sleep(0.5)) all 200 in {concurrent20:.2f} s",
        request.node.name,
        first_call=first_call,
        concurrent20=concurrent20,
    )
