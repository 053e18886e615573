"""``/_ready``: critical and optional checks, caching, latency, bounded checks, safe bodies,
and checks made through the settings given to ``create_app`` (not the global Config)."""

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.test import Client

from envoxy.daemon import health
from envoxy.daemon.app import create_app
from envoxy.daemon.health import ReadinessSettings
from envoxy.exceptions import ConfigError


class Listener:
    """A loopback TCP listener that counts connections and never answers (a frozen server)."""

    def __init__(self, accept: bool = True) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.accepted = 0
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True) if accept else None
        if self._thread is not None:
            self._thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            self.held.append(conn)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ready(config: Mapping[str, Any]) -> Any:
    return Client(create_app(dict(config), views=[])).get("/_ready")


@pytest.mark.parametrize(
    ("optional", "status", "overall"),
    [
        (None, 503, "not ready"),
        (["zmq"], 200, "degraded"),
        (["zmq:backend"], 200, "degraded"),
        (["zmq:other"], 503, "not ready"),
    ],
)
def test_optional_failures_degrade_and_critical_ones_fail(
    optional: list[str] | None, status: int, overall: str
) -> None:
    port = closed_port()
    config: dict[str, Any] = {"zmq_servers": {"backend": {"host": "127.0.0.1", "port": port}}}
    if optional is not None:
        config["readiness"] = {"optional": optional}
    answer = ready(config)
    assert answer.status_code == status
    assert answer.json["status"] == overall
    check = answer.json["checks"]["zmq:backend"]
    assert check["status"] == "error"
    assert check["reason"] == "unreachable"
    assert check["critical"] is (status == 503)
    assert isinstance(check["latency_ms"], float)
    assert str(port) not in answer.get_data(as_text=True)  # no host:port in the body
    assert "127.0.0.1" not in answer.get_data(as_text=True)


def test_each_check_reports_its_latency(listener: Listener) -> None:
    answer = ready({"zmq_servers": {"backend": {"host": "127.0.0.1", "port": listener.port}}})
    assert answer.status_code == 200
    assert answer.json["status"] == "ready"
    check = answer.json["checks"]["zmq:backend"]
    assert check == {"status": "ok", "latency_ms": check["latency_ms"], "critical": True}
    assert 0 <= check["latency_ms"] < 1000


def test_results_are_cached_and_concurrent_probes_share_one_run(listener: Listener) -> None:
    app = create_app(
        {"zmq_servers": {"backend": {"host": "127.0.0.1", "port": listener.port}}}, views=[]
    )
    statuses: list[int] = []

    def probe() -> None:
        statuses.append(Client(app).get("/_ready").status_code)

    threads = [threading.Thread(target=probe) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert statuses == [200] * 20
    deadline = time.monotonic() + 2
    while listener.accepted < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert listener.accepted == 1  # one TCP check for twenty probes
    time.sleep(1.05)  # the result is a second old: the next probe checks again
    assert Client(app).get("/_ready").status_code == 200
    deadline = time.monotonic() + 2
    while listener.accepted < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert listener.accepted == 2


@pytest.mark.parametrize("kind", ["couchdb", "redis"])
def test_a_frozen_server_fails_its_check_within_the_timeout(listener: Listener, kind: str) -> None:
    # the listener accepts and never answers: HTTP and RESP wait for a reply
    if kind == "couchdb":
        servers = {"couchdb_servers": {"main": {"bind": f"http://127.0.0.1:{listener.port}"}}}
    else:
        servers = {"redis_servers": {"main": {"host": "127.0.0.1", "port": listener.port}}}
    started = time.monotonic()
    answer = ready({**servers, "readiness": {"timeout": 0.3}})
    elapsed = time.monotonic() - started
    assert answer.status_code == 503
    check = answer.json["checks"][f"{kind}:main"]
    assert (check["status"], check["reason"]) == ("error", "timeout")
    assert 250 <= check["latency_ms"] <= 600
    assert elapsed < 0.8


def test_a_hung_check_is_not_started_again_until_it_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()
    started: list[float] = []

    def hanging(key: str, conf: Mapping[str, Any], timeout: float) -> Callable[[], None]:
        def check() -> None:
            started.append(time.monotonic())
            release.wait(10)  # a check whose library ignores its timeout

        return check

    monkeypatch.setitem(health.CHECKS, "zmq", hanging)
    config = {
        "zmq_servers": {"backend": {"host": "h", "port": 1}},
        "readiness": {"timeout": 0.1, "cache_seconds": 0},
    }
    client = Client(create_app(config, views=[]))
    for _ in range(3):
        answer = client.get("/_ready")
        assert answer.status_code == 503
        assert answer.json["checks"]["zmq:backend"]["reason"] == "timeout"
    assert len(started) == 1  # probes did not pile up threads on the hung check
    release.set()
    deadline = time.monotonic() + 2
    while client.get("/_ready").status_code != 200:  # the hung check's own result, or a rerun
        assert time.monotonic() < deadline
    runs = len(started)
    assert client.get("/_ready").status_code == 200
    assert len(started) == runs + 1  # with nothing in flight, the next probe runs the check


def test_a_bad_server_setting_fails_its_check_not_the_probe() -> None:
    answer = ready({"couchdb_servers": {"main": {"bind": ""}}})
    assert answer.status_code == 503
    assert answer.json["checks"]["couchdb:main"]["reason"] == "error"


def test_readiness_settings_are_validated() -> None:
    settings = ReadinessSettings.from_config({"timeout": "0.5", "optional": "couchdb"})
    assert settings.timeout == 0.5
    assert not settings.is_critical("couchdb:main")
    assert settings.is_critical("redis:main")
    for bad, name in (
        ({"timeout": 0}, "readiness.timeout"),
        ({"cache_seconds": -1}, "readiness.cache_seconds"),
        ({"optional": [1]}, "readiness.optional"),
        ([], "readiness"),
    ):
        with pytest.raises(ConfigError, match=name):
            ReadinessSettings.from_config(bad)


LoadConfig = Callable[[dict[str, Any], Path], AbstractContextManager[Path]]


@pytest.mark.redis
def test_redis_is_checked_through_the_given_settings(
    redis_url: str, load_config: LoadConfig, tmp_path: Path
) -> None:
    parts = urlsplit(redis_url)
    given = {"redis_servers": {"probe": {"host": parts.hostname, "port": parts.port}}}
    # the process-wide envoxy.json names the same key on a closed port
    wrong = {"redis_servers": {"probe": {"host": "127.0.0.1", "port": closed_port()}}}
    with load_config(wrong, tmp_path):
        answer = ready(given)
    assert answer.status_code == 200, answer.json
    assert answer.json["checks"]["redis:probe"]["status"] == "ok"


@pytest.mark.postgresql
def test_postgresql_is_checked_through_the_given_settings(
    postgresql_url: str, load_config: LoadConfig, tmp_path: Path
) -> None:
    given = {"psql_servers": {"probe": {"url": postgresql_url}}}
    wrong_url = postgresql_url.replace(f":{urlsplit(postgresql_url).port}/", f":{closed_port()}/")
    with load_config({"psql_servers": {"probe": {"url": wrong_url}}}, tmp_path):
        answer = ready(given)
        refused = ready({"psql_servers": {"probe": {"url": wrong_url}}})
    assert answer.status_code == 200, answer.json
    assert answer.json["checks"]["postgresql:probe"]["status"] == "ok"
    assert refused.status_code == 503
    assert refused.json["checks"]["postgresql:probe"]["reason"] in ("unreachable", "error")
    assert "envoxy:envoxy" not in json.dumps(refused.json)


@pytest.mark.postgresql
def test_postgresql_behind_a_transaction_pooler_is_checked_without_startup_options(
    private_postgres: Callable[..., Any], private_pgbouncer: Callable[..., Any]
) -> None:
    bouncer = private_pgbouncer(private_postgres())
    pooled = ready({"psql_servers": {"probe": bouncer.client_config(pooler="transaction")}})
    assert pooled.status_code == 200, pooled.json
    assert pooled.json["checks"]["postgresql:probe"]["status"] == "ok"
    # Without "pooler" the probe's startup options are refused by PgBouncer.
    direct = ready({"psql_servers": {"probe": bouncer.client_config()}})
    assert direct.status_code == 503
