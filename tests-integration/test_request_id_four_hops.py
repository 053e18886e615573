"""One request id across four hops, each a real process: an HTTP request to envoxyd whose
view publishes to MQTT; the MQTT view (in envoxyd's service mule) calls a ZeroMQ service
and sends a Celery task. Every log line each hop writes for the request carries the id.

The ZeroMQ service is a separate process written with envoxy's public API (it adopts the
envelope's context with ``context_from_headers``), the Celery worker is
``celery -A envoxy.celery worker``, the broker is the shared Mosquitto and Redis.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import pytest

from envoxy_testing.network import free_port, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.mqtt,
    pytest.mark.redis,
    pytest.mark.zmq,
    pytest.mark.celery,
    pytest.mark.slow,
]

BIN = Path(sys.executable).parent
REDIS_DB = 11

VIEWS = """
from envoxy.celery import celeryc
from envoxy.decorators import on
from envoxy.mqtt import mqttc
from envoxy.utils.logs import log
from envoxy.views import View
from envoxy.zeromq import zmqc

TOPIC = {topic!r}


@on(endpoint="/v1/orders", protocols=["http"])
class Orders(View):
    def post(self, request, **kwargs):
        log.info("hop 1: order received", extra={{"hop": "http"}})
        mqttc.publish("broker", TOPIC, {{"order": 7}}, qos=1)
        return {{"accepted": True}}


@on(endpoint=TOPIC, protocols=["mqtt"], server="broker")
class OrderEvents(View):
    def on_event(self, data, **meta):
        log.info("hop 2: order event", extra={{"hop": "mqtt", "meta_id": meta["request_id"]}})
        stock = zmqc.get("stock", "/v1/stock/7")
        log.info("hop 2: stock answered", extra={{"status": stock["status"]}})
        celeryc.send_task({task!r}, args=(data["order"],), queue={queue!r})


__loader__ = [Orders, OrderEvents]
"""

TASKS = """
from envoxy.celery import celeryc
from envoxy.utils.logs import log


@celeryc.task
def ship(order):
    log.info("hop 4: shipping", extra={"hop": "celery", "order": order})
    return order
"""

ZMQ_SERVICE = """
import json
import sys

import zmq

from envoxy.utils.context import bound, context_from_headers
from envoxy.utils.logs import log

socket = zmq.Context().socket(zmq.REP)
socket.bind(f"tcp://127.0.0.1:{sys.argv[1]}")
log.info("zmq service ready")
while True:
    request = json.loads(socket.recv_multipart()[-1])
    with bound(context_from_headers(request["headers"])):
        log.info("hop 3: stock asked", extra={"hop": "zmq", "resource": request["resource"]})
        socket.send_json({"status": 200, "payload": {"stock": 3}})
"""


def _reader(stream: IO[str], sink: list[str]) -> None:
    for line in stream:
        sink.append(line)


class Process:
    """A child process whose combined output is collected line by line."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.output: list[str] = []
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        threading.Thread(
            target=_reader, args=(self.process.stdout, self.output), daemon=True
        ).start()

    def text(self) -> str:
        return "".join(self.output)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


@pytest.fixture
def service(tmp_path: Path, mqtt_url: str, redis_url: str) -> Iterator[dict[str, Process]]:
    tag = uuid.uuid4().hex[:10]
    topic = f"envoxy-test/hops/{tag}"
    tasks_module = f"hops_tasks_{tag}"
    queue = f"envoxy-hops-{tag}"
    zmq_port, http_port = free_port(), free_port()
    (tmp_path / "hops_views.py").write_text(
        VIEWS.format(topic=topic, task=f"{tasks_module}.ship", queue=queue)
    )
    (tmp_path / f"{tasks_module}.py").write_text(TASKS)
    (tmp_path / "zmq_service.py").write_text(ZMQ_SERVICE)
    redis = urlsplit(redis_url)
    config = tmp_path / "envoxy.json"
    config.write_text(
        json.dumps(
            {
                "modules": ["hops_views.py"],
                "log": {"level": 6, "format": "json"},
                "mqtt_servers": {"broker": {"bind": mqtt_url}},
                "zmq_servers": {"stock": {"host": "127.0.0.1", "port": zmq_port, "timeout": 5}},
                "redis_servers": {
                    "celery": {"bind": f"{redis.hostname}:{redis.port}", "db": REDIS_DB}
                },
                "task_modules": [tasks_module],
            }
        )
    )
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "ENVOXY_CONFIG")},
        "ENVOXY_CONFIG": str(config),
        "PYTHONPATH": str(tmp_path),
        "ENVOXY_LOG_FORMAT": "json",
    }
    processes: dict[str, Process] = {}
    try:
        processes["zmq"] = Process([sys.executable, "zmq_service.py", str(zmq_port)], tmp_path, env)
        processes["celery"] = Process(
            [
                str(BIN / "celery"), "-A", "envoxy.celery", "worker", "--pool=solo",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--loglevel=INFO", "-Q", queue, "-n", f"{tag}@%h",
            ],
            tmp_path,
            env,
        )  # fmt: skip
        processes["envoxyd"] = Process(
            [
                str(BIN / "envoxyd"), "--http-socket", f"127.0.0.1:{http_port}",
                "--processes", "2", "--set", f"conf={config}",
            ],
            tmp_path,
            env,
        )  # fmt: skip
        wait_until(lambda: "zmq service ready" in processes["zmq"].text(), timeout=20)
        wait_until(lambda: " ready." in processes["celery"].text(), timeout=60)
        # the mule registers its views' filters, then connects: the SUBSCRIBE goes out
        # before the "connected" line (no worker connects before the first request)
        wait_until(lambda: "mqttc broker: connected to" in processes["envoxyd"].text(), timeout=30)
        processes["envoxyd"].port = http_port  # type: ignore[attr-defined]
        yield processes
    finally:
        for process in processes.values():
            process.stop()


def _json_lines(text: str) -> list[dict[str, object]]:
    found = []
    for line in text.splitlines():
        start = line.find('{"version":"1.1"')
        if start >= 0:
            found.append(json.loads(line[start:]))
    return found


def test_one_request_id_in_every_log_line_of_four_hops(service: dict[str, Process]) -> None:
    request_id = f"hops-{uuid.uuid4().hex}"
    port = service["envoxyd"].port  # type: ignore[attr-defined]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/orders",
        data=b"{}",
        method="POST",
        headers={"Content-Type": "application/json", "X-Request-ID": request_id},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
        assert answer.headers["X-Request-ID"] == request_id
    wait_until(lambda: "hop 4: shipping" in service["celery"].text(), timeout=30)
    time.sleep(0.2)  # the last lines of the other hops are flushed by now

    hops = {
        "http": ("envoxyd", ("hop 1: order received", "< Response [HTTP] POST")),
        "mqtt": ("envoxyd", ("hop 2: order event", "hop 2: stock answered")),
        "zmq": ("zmq", ("hop 3: stock asked",)),
        "celery": ("celery", ("hop 4: shipping",)),
    }
    for hop, (process, messages) in hops.items():
        lines = _json_lines(service[process].text())
        for message in messages:
            matching = [line for line in lines if str(line["short_message"]).startswith(message)]
            assert matching, f"{hop}: no line {message!r} in\n{service[process].text()}"
            for line in matching:
                assert line.get("_request_id") == request_id, (hop, line)
    # every envoxyd line written while handling the request, in the worker and the mule
    handled = [
        line
        for line in _json_lines(service["envoxyd"].text())
        if str(line["short_message"]).startswith("hop ") or "[HTTP]" in str(line["short_message"])
    ]
    assert len(handled) >= 4
    assert {line["_request_id"] for line in handled} == {request_id}
    mqtt_line = next(line for line in handled if line.get("_hop") == "mqtt")
    assert mqtt_line["_meta_id"] == request_id

    # /_metrics (answered by a worker) includes what the mule counted
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_metrics", timeout=10) as answer:
        metrics = answer.read().decode()
    samples = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line and not line.startswith("#")
    }
    topic = next(
        name.split('route="', 1)[1].split('"', 1)[0]
        for name in samples
        if name.startswith("envoxy_mqtt_messages_total")
    )
    assert (
        samples[f'envoxy_mqtt_messages_total{{outcome="ok",route="{topic}",server="broker"}}'] == 1
    )
    assert samples['envoxy_client_calls_total{client="mqtt",key="broker"}'] == 1
    assert samples['envoxy_client_calls_total{client="zmq",key="stock"}'] == 1
    assert samples['envoxy_client_calls_total{client="celery",key="celery"}'] == 1
    assert samples['envoxy_client_pool_connections{client="zmq",key="stock",state="open"}'] == 1
