"""/_metrics of a real envoxyd with several workers: exact counts, dead workers, the
multiprocess directory's life, the switch, and hostile request ids over a raw socket."""

import json
import os
import re
import signal
import socket
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from envoxy.daemon.metrics import FLUSH_SECONDS
from envoxy.daemon.metrics_dir import default_parent
from envoxy_testing.network import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

VIEWS = textwrap.dedent(
    """
    import os
    import time

    from envoxy.decorators import on
    from envoxy.utils.logs import log
    from envoxy.views import View


    @on(endpoint="/v1/items/{item_id:int}", protocols=["http"])
    class ItemView(View):
        def get(self, request, item_id, **kwargs):
            return {"id": item_id, "pid": os.getpid()}


    @on(endpoint="/v1/boom", protocols=["http"])
    class BoomView(View):
        def get(self, request, **kwargs):
            raise RuntimeError("boom")


    @on(endpoint="/v1/slow", protocols=["http"])
    class SlowView(View):
        def get(self, request, **kwargs):
            with open(os.environ["SLOW_PID_FILE"], "w") as handle:
                handle.write(str(os.getpid()))
            time.sleep(60)
            return {}


    __loader__ = [ItemView, BoomView, SlowView]
    """
)


def _get(base: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(base + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _scrape(base: str) -> str:
    with urllib.request.urlopen(base + "/_metrics", timeout=10) as answer:
        assert answer.status == 200
        return str(answer.read().decode())


def _value(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


ITEMS = 'envoxy_http_requests_total{method="GET",route="/v1/items/{item_id:int}",status="200"}'
BOOM = 'envoxy_http_requests_total{method="GET",route="/v1/boom",status="500"}'
MISSING = 'envoxy_http_requests_total{method="GET",route="(unmatched)",status="404"}'
ITEMS_COUNT = (
    'envoxy_http_request_duration_seconds_count{method="GET",route="/v1/items/{item_id:int}"}'
)
IN_FLIGHT = "envoxy_http_requests_in_flight"


@pytest.fixture
def service(tmp_path: Path, write_config: Callable[..., Path]) -> Path:
    (tmp_path / "obs_views.py").write_text(VIEWS)
    return write_config({"modules": ["obs_views.py"], "log": {"level": 4}})


def _metrics_dirs(master_pid: int) -> list[Path]:
    return sorted(Path(default_parent()).glob(f"envoxyd-metrics-{master_pid}-*"))


def test_four_workers_add_up_exactly(start_envoxyd: Callable[..., Any], service: Path) -> None:
    daemon = start_envoxyd("--processes", "4", "--threads", "2", "--set", f"conf={service}")
    (directory,) = _metrics_dirs(daemon.process.pid)
    pids: set[int] = set()

    def item(number: int) -> int:
        status, body = _get(daemon.base, f"/v1/items/{number}")
        assert status == 200
        pids.add(json.loads(body)["pid"])
        return status

    with ThreadPoolExecutor(16) as pool:
        assert list(pool.map(item, range(400))) == [200] * 400
        assert list(pool.map(lambda _: _get(daemon.base, "/v1/boom")[0], range(30))) == [500] * 30
        assert list(pool.map(lambda n: _get(daemon.base, f"/x/{n}")[0], range(20))) == [404] * 20
    assert len(pids) >= 2, "the requests should have reached several workers"
    # each worker writes what it counted within FLUSH_SECONDS (the scraping one at once)
    wait_until(lambda: _value(_scrape(daemon.base), ITEMS) == 400, timeout=FLUSH_SECONDS + 4)
    # then every scrape, whichever worker answers it, sees the sum of all workers
    for _ in range(8):
        text = _scrape(daemon.base)
        assert _value(text, ITEMS) == 400
        assert _value(text, ITEMS_COUNT) == 400
        assert _value(text, BOOM) == 30
        assert _value(text, MISSING) == 20
        assert _value(text, IN_FLIGHT) == 1  # the scrape itself
        assert "/x/1" not in text
    files = {name.name for name in directory.iterdir()}
    assert len([name for name in files if name.startswith("counter_")]) >= 2
    assert daemon.stop() == 0
    assert not directory.exists(), "the master removes the directory at exit"


def test_a_worker_killed_mid_request_is_marked_dead(
    start_envoxyd: Callable[..., Any], service: Path, tmp_path: Path
) -> None:
    pid_file = tmp_path / "slow.pid"
    daemon = start_envoxyd(
        "--processes", "2", "--set", f"conf={service}", env={"SLOW_PID_FILE": str(pid_file)}
    )
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(_get, daemon.base, "/v1/slow")
        wait_until(pid_file.exists, timeout=10)
        wait_until(lambda: pid_file.read_text() != "", timeout=5)
        # the slow one and the scrape (the slow worker writes it within FLUSH_SECONDS)
        wait_until(lambda: _value(_scrape(daemon.base), IN_FLIGHT) == 2, timeout=FLUSH_SECONDS + 4)
        worker = int(pid_file.read_text())
        os.kill(worker, signal.SIGKILL)
        with pytest.raises(OSError):  # the connection dies with the worker
            pending.result(timeout=10)
    wait_until(lambda: _get(daemon.base, "/_health")[0] == 200, timeout=10)
    text = _scrape(daemon.base)
    assert _value(text, IN_FLIGHT) == 1, "the killed worker's request is no longer in flight"
    assert worker != 0


def test_metrics_off_means_no_route_and_no_directory(
    start_envoxyd: Callable[..., Any], tmp_path: Path, write_config: Callable[..., Path]
) -> None:
    (tmp_path / "obs_views.py").write_text(VIEWS)
    conf = write_config({"modules": ["obs_views.py"], "metrics": {"enabled": False}}, "off.json")
    daemon = start_envoxyd("--processes", "2", "--set", f"conf={conf}")
    assert _get(daemon.base, "/_metrics")[0] == 404
    assert _metrics_dirs(daemon.process.pid) == []


def test_an_inherited_multiproc_dir_is_not_reused(
    start_envoxyd: Callable[..., Any], service: Path, tmp_path: Path
) -> None:
    stale = tmp_path / "stale"
    stale.mkdir()
    (stale / "counter_1.db").write_bytes(b"garbage")
    daemon = start_envoxyd(
        "--processes", "2", "--set", f"conf={service}",
        env={"PROMETHEUS_MULTIPROC_DIR": str(stale)},
    )  # fmt: skip
    assert _get(daemon.base, "/v1/items/1")[0] == 200
    wait_until(lambda: _value(_scrape(daemon.base), ITEMS) == 1, timeout=FLUSH_SECONDS + 4)
    time.sleep(FLUSH_SECONDS + 0.5)
    assert _value(_scrape(daemon.base), ITEMS) == 1
    assert (stale / "counter_1.db").read_bytes() == b"garbage"


def _raw_request(port: int, header_lines: list[bytes]) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            b"GET /v1/items/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + b"".join(line + b"\r\n" for line in header_lines)
            + b"\r\n"
        )
        data = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            chunk = connection.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


@pytest.mark.parametrize(
    "header",
    [
        b"X-Request-ID: " + b"a" * 10_240,
        b'X-Request-ID: inj"ected\\\\',
        b"X-Request-ID: two words",
        b"X-Request-ID: caf\xc3\xa9",
        b"X-Request-ID: ok-1\r\nX-Request-ID: ok-2",
    ],
)
def test_hostile_request_ids_over_a_raw_socket(
    start_envoxyd: Callable[..., Any], service: Path, header: bytes
) -> None:
    daemon = start_envoxyd("--processes", "1", "--set", f"conf={service}")
    answer = _raw_request(daemon.port, [header])
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith("HTTP/1.1 200")
    echoed = [line.split(": ", 1)[1] for line in head.split("\r\n") if line.startswith("X-Request")]
    assert len(echoed) == 1
    assert re.fullmatch(r"[0-9a-f-]{36}|ok-[12]", echoed[0]), echoed
