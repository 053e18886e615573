"""The reference service under a real envoxyd, with Redis caching and MQTT events.

This is what ``make run`` starts, plus the optional ``cache`` and ``mqtt_servers``
sections pointed at the local servers.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

ENVOXYD = str(Path(sys.executable).with_name("envoxyd"))
SERVICE_ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.mqtt]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def service(
    tmp_path: Path, redis_url: str, mqtt_url: str, migrated_sqlite: Callable[[Path], str]
) -> Iterator[tuple[str, Path]]:
    """envoxyd serving the service on a free port; yields (base URL, log file)."""
    database = migrated_sqlite(tmp_path)
    redis_parts = urlsplit(redis_url)
    config = json.loads((SERVICE_ROOT / "envoxy.json").read_text())
    config.update(
        log={"level": 6, "format": "json"},
        psql_servers={"default": {"url": database}},
        cache={
            "backend": "redis",
            "bind": f"{redis_parts.hostname}:{redis_parts.port}",
            "db": 3,
            "ttl": 60,
            "key_prefix": f"template-service-test-{uuid.uuid4().hex[:8]}",
        },
        mqtt_servers={"default": {"bind": mqtt_url}},
    )
    config_path = tmp_path / "envoxy.json"
    config_path.write_text(json.dumps(config))
    port = free_port()
    log_path = tmp_path / "envoxyd.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("ENVOXY_")}
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                ENVOXYD,
                "--http-socket",
                f"127.0.0.1:{port}",
                "--processes",
                "2",
                "--set",
                f"conf={config_path}",
            ],
            cwd=tmp_path,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{base}/_health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        yield base, log_path
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0, log_path.read_text()


class EventInbox:
    """Product events received from the broker, by product id."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.arrived = threading.Condition()

    def __call__(self, payload: Any, **meta: Any) -> None:
        with self.arrived:
            self.events.append(payload)
            self.arrived.notify_all()

    def wait_for(self, product_id: str, event: str, timeout: float = 10) -> dict[str, Any]:
        def match() -> dict[str, Any] | None:
            for item in self.events:
                if item.get("event") == event and item.get("product", {}).get("id") == product_id:
                    return item
            return None

        with self.arrived:
            assert self.arrived.wait_for(lambda: match() is not None, timeout), self.events
            found = match()
            assert found is not None
            return found


@pytest.fixture
def inbox(mqtt_url: str, tmp_path: Path) -> Iterator[EventInbox]:
    from envoxy import mqttc
    from envoxy.utils.config import Config

    config_path = tmp_path / "subscriber.json"
    config_path.write_text(json.dumps({"mqtt_servers": {"inbox": {"bind": mqtt_url}}}))
    previous = Config.file_path
    Config.set_file_path(config_path)
    received = EventInbox()
    mqttc.subscribe("inbox", "/v1/products/+", received)
    time.sleep(0.5)  # let the broker acknowledge the subscription before the writes
    try:
        yield received
    finally:
        mqttc.close()
        Config.set_file_path(previous)


def test_writes_publish_events_reads_are_cached_and_invalidated(
    service: tuple[str, Path], inbox: EventInbox
) -> None:
    base, log_path = service
    accept = {"Accept": "application/json"}
    ready = httpx.get(f"{base}/_ready", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["postgresql:default"]["status"] == "ok"

    created = httpx.post(f"{base}/v1/products", json={"sku": "E2E-1", "name": "Lamp"})
    assert created.status_code == 201, created.text
    product = created.json()
    inbox.wait_for(product["id"], "created")

    item_url = f"{base}/v1/products/{product['id']}"
    first = httpx.get(item_url, headers=accept)
    second = httpx.get(item_url, headers=accept)
    assert first.status_code == second.status_code == 200
    assert "X-Cache" not in first.headers
    assert second.headers.get("X-Cache") == "HIT"
    assert second.json() == product

    changed = httpx.patch(item_url, json={"price_cents": 1234})
    assert changed.status_code == 200
    inbox.wait_for(product["id"], "updated")
    fresh = httpx.get(item_url, headers=accept)
    assert "X-Cache" not in fresh.headers
    assert fresh.json()["price_cents"] == 1234

    assert httpx.delete(item_url).status_code == 204
    inbox.wait_for(product["id"], "deleted")
    assert httpx.get(item_url, headers=accept).status_code == 404

    deadline = time.monotonic() + 10
    consumed = f"products: consumed created on /v1/products/{product['id']}"
    while consumed not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert log_path.read_text().count(consumed) == 1
