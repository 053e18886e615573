"""docker/dev/envoxy.json works against the local servers of tools/services.

Docker does not run here, so the compose file itself is checked by review; its
envoxy.json points at the same ports as tools/services, and these tests prove every
client it configures really works with it.
"""

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from envoxy import mqttc, pgsqlc, redisc
from envoxy.cache import Cache
from envoxy.utils.config import Config

DEV_CONFIG = Path(__file__).resolve().parents[1] / "docker" / "dev" / "envoxy.json"
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dev_config() -> Iterator[dict]:
    previous = Config.file_path
    Config.set_file_path(DEV_CONFIG)
    try:
        yield json.loads(DEV_CONFIG.read_text())
    finally:
        redisc.close()
        Config.set_file_path(previous)


@pytest.mark.redis
def test_redis_server_and_cache(dev_config: dict, redis_url: str) -> None:
    key = f"dev-config:{uuid.uuid4().hex}"
    assert redisc.set("default", key, {"ok": True}, ttl=30)
    assert redisc.get("default", key) == {"ok": True}
    assert redisc.delete("default", key) == 1

    cache = Cache()
    params = {"probe": uuid.uuid4().hex}
    assert cache.set("/dev-config", "get", params, {"cached": 1}, ttl=30)
    assert cache.get("/dev-config", "get", params) == {"cached": 1}


@pytest.mark.postgresql
def test_postgresql_server(dev_config: dict, postgresql_url: str) -> None:
    assert pgsqlc.query("default", "SELECT %(n)s::int + 1 AS answer", {"n": 41}) == [{"answer": 42}]


@pytest.mark.mqtt
def test_mqtt_server(dev_config: dict, mqtt_url: str) -> None:
    topic = f"/dev-config/{uuid.uuid4().hex}"
    received = threading.Event()
    payloads: list[object] = []

    def on_message(payload: object, **meta: object) -> None:
        payloads.append(payload)
        received.set()

    mqttc.subscribe("default", topic, on_message)
    for _ in range(50):  # the subscription is acknowledged asynchronously
        assert mqttc.publish("default", topic, {"hello": "dev"}, qos=1)
        if received.wait(0.2):
            break
    assert received.is_set()
    assert payloads[0]["hello"] == "dev"


# The compose file's CouchDB 3 requires an admin (envoxy/envoxy); the local pouchdb-server
# runs without one, so only the address is checked here, not the credentials.
@pytest.mark.couchdb
def test_couchdb_bind_points_at_the_local_server(dev_config: dict, couchdb_url: str) -> None:
    bind = dev_config["couchdb_servers"]["default"]["bind"]
    assert httpx.URL(bind).port == httpx.URL(couchdb_url).port
    answer = httpx.get(bind, timeout=5)
    assert answer.status_code == 200
    assert "version" in answer.json()  # the CouchDB welcome document
