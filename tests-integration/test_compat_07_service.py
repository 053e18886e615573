"""A service written exactly in the envoxy 0.7 style runs unchanged under envoxyd 1.x.

This is the promise docs/MIGRATING.md makes for the whole 1.x series: ``import uwsgi``
at the top of the view module, ``from envoxy import *``, ``@on(..., protocols=["http",
"mqtt"])`` on a ``View`` with ``get``/``post``/``on_event``, ``__loader__``,
``Response(...)`` returns, ``assertz_*`` checks, configuration read from
``uwsgi.opt["conf_content"]``, ``uwsgi.opt["plugins"]`` and ``uwsgi.opt["credentials"]``
as well as ``Config.get(...)``, and ``redisc``/``pgsqlc``/``mqttc`` calls, served by a
real envoxyd against the real Redis, PostgreSQL and Mosquitto of ``tools/services``.
"""

import http.server
import json
import textwrap
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from envoxy_testing.envoxyd import Envoxyd
from envoxy_testing.network import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.postgresql, pytest.mark.mqtt]


LEGACY_SERVICE = textwrap.dedent(
    """
    import uwsgi  # 0.7 services read their configuration from uwsgi.opt

    from envoxy import *
    from envoxy.asserts import *

    IMPORT_TIME_CONF = uwsgi.opt.get("conf_content", {})


    @on(endpoint="/v1/legacy/notes", protocols=["http", "mqtt"], server="legacy")
    class NoteView(View):
        def get(self, request, **kwargs):
            conf = uwsgi.opt.get("conf_content", {})
            return Response(
                {
                    "from_opt": conf.get("legacy_service"),
                    "from_config": Config.get("legacy_service"),
                    "at_import": IMPORT_TIME_CONF.get("legacy_service"),
                    "plugins": uwsgi.opt.get("plugins"),
                    "credentials": uwsgi.opt.get("credentials"),
                    "worker": uwsgi.worker_id(),
                }
            )

        def post(self, request, **kwargs):
            body = request.get_json()
            assertz_mandatory(body, "key")
            assertz_mandatory(body, "text")
            assertz_string(body, "text")
            redisc.set("legacy", "legacy:note:" + body["key"], body["text"], ttl=60)
            mqttc.publish("legacy", "/v1/legacy/notes", {"key": body["key"], "text": body["text"]})
            return Response({"status": 201, "payload": {"stored": body["key"]}})

        def on_event(self, data, **kwargs):
            redisc.set("legacy", "legacy:event:" + data["key"], data["text"].upper(), ttl=60)


    @on(endpoint="/v1/legacy/notes/{key:str}", protocols=["http"])
    class NoteItem(View):
        def get(self, request, key, **kwargs):
            sql = "SELECT %(key)s::text AS key, 40 + 2 AS answer"
            rows = pgsqlc.query("legacy", sql, {"key": key})
            return Response(
                {
                    "key": key,
                    "text": redisc.get("legacy", "legacy:note:" + key),
                    "event": redisc.get("legacy", "legacy:event:" + key),
                    "rows": rows,
                }
            )


    __loader__ = [NoteView, NoteItem]
    """
)


class _CredentialsServer:
    """An OAuth-like endpoint answering the credentials POST of envoxyd."""

    def __init__(self) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.dumps({"access_token": "legacy-token", "client_id": "svc"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def legacy_daemon(
    start_envoxyd: Callable[..., Envoxyd],
    tmp_path: Path,
    redis_url: str,
    postgresql_url: str,
    mqtt_url: str,
) -> Iterator[str]:
    credentials = _CredentialsServer()
    (tmp_path / "legacy_service.py").write_text(LEGACY_SERVICE)
    redis = urlsplit(redis_url)
    mqtt = urlsplit(mqtt_url)
    config = {
        "modules": ["legacy_service.py"],
        "log": {"level": 4},
        "legacy_service": {"name": "notes", "owner": "team-a"},
        "plugins": {"legacy_flag": "on"},
        "credentials": {
            "server": credentials.url,
            "client_id": "svc",
            "client_secret": "s3cret",
            "response_type": "token",
            "scope": "all",
            "timeout": 2,
        },
        "redis_servers": {"legacy": {"bind": f"{redis.hostname}:{redis.port}", "db": 1}},
        "psql_servers": {"legacy": {"url": postgresql_url}},
        "mqtt_servers": {"legacy": {"bind": f"mqtt://{mqtt.hostname}:{mqtt.port}"}},
    }
    (tmp_path / "envoxy.json").write_text(json.dumps(config))
    daemon = start_envoxyd(
        "--processes", "2", "--set", "conf=envoxy.json", listen="--http", env={"ENVOXY_CONFIG": ""}
    )
    try:
        _wait_for(lambda: _get(daemon.base, "/_ready")[0] == 200, daemon, timeout=30)
        yield daemon.base
    finally:
        credentials.close()


def test_a_07_style_service_runs_unchanged(legacy_daemon: str) -> None:
    base = legacy_daemon
    seen_workers = set()
    for _ in range(20):  # both workers, each after its own credentials fetch
        status, body = _get(base, "/v1/legacy/notes")
        assert status == 200, body
        assert body["from_opt"] == {"name": "notes", "owner": "team-a"}
        assert body["from_config"] == body["from_opt"]
        assert body["at_import"] == body["from_opt"]
        assert body["plugins"] == {"legacy_flag": "on"}
        seen_workers.add(body["worker"])
        if body["credentials"] == {"access_token": "legacy-token", "client_id": "svc"}:
            continue
        time.sleep(0.2)
    assert seen_workers <= {1, 2}
    _wait_for(
        lambda: (
            _get(base, "/v1/legacy/notes")[1]["credentials"].get("access_token") == "legacy-token"
        ),
    )

    key = uuid.uuid4().hex
    status, body = _post(base, "/v1/legacy/notes", {"key": key, "text": "hello"})
    assert (status, body) == (201, {"stored": key})

    status, body = _post(base, "/v1/legacy/notes", {"key": key})
    assert status == 412
    assert "text" in body["error"]

    # the MQTT view (in the service mule) got the message the HTTP view published
    _wait_for(lambda: _get(base, f"/v1/legacy/notes/{key}")[1]["event"] == "HELLO")
    status, body = _get(base, f"/v1/legacy/notes/{key}")
    assert status == 200
    assert body["text"] == "hello"
    assert body["rows"] == [{"key": key, "answer": 42}]


def _get(base: str, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(base + path, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
    except OSError:
        return 0, None


def _post(base: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _wait_for(
    condition: Callable[[], Any], daemon: Envoxyd | None = None, timeout: float = 15
) -> None:
    def met() -> bool:
        if daemon is not None and daemon.process.poll() is not None:
            raise AssertionError(daemon.log())
        try:
            return bool(condition())
        except (KeyError, TypeError, AttributeError):
            return False

    wait_until(
        met,
        timeout,
        interval=0.1,
        what=f"condition{' (log: ' + str(daemon.log_path) + ')' if daemon else ''}",
    )
