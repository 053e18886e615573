"""The local test servers of ``tools/services`` answer real round trips.

One test per server proves that what every other integration test relies on is there:
PostgreSQL with the ``envoxy`` role and ``envoxy_test`` database behind password auth,
Redis, the Mosquitto broker (anonymous publish -> subscribe) and the CouchDB-API server
with Mango ``_find``. Each test uses names of its own (random suffixes) so parallel runs
do not collide.
"""

import os
import pathlib
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import paho.mqtt.client as mqtt
import psycopg2
import pytest
import redis

from envoxy_testing.servers import PrivateRedis

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
SERVICES = REPO_ROOT / "tools" / "services"
TIMEOUT = 10.0


def libpq_dsn(url: str) -> str:
    """Turn the SQLAlchemy URL of the fixture (``postgresql+psycopg2://``) into a libpq one."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


def run_services(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``tools/services`` with ``args`` and capture what it prints."""
    return subprocess.run(
        [str(SERVICES), *args], capture_output=True, text=True, timeout=120, check=False, env=env
    )


# --------------------------------------------------------------------------- postgresql


@pytest.mark.postgresql
def test_postgresql_round_trip_as_envoxy_role(postgresql_url: str) -> None:
    connection = psycopg2.connect(libpq_dsn(postgresql_url), connect_timeout=5)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("select current_user, current_database()")
            assert cursor.fetchone() == ("envoxy", "envoxy_test")
            cursor.execute("create temporary table services_probe (word text)")
            cursor.execute("insert into services_probe values (%s), (%s)", ("alpha", "beta"))
            cursor.execute("select word from services_probe order by word")
            assert cursor.fetchall() == [("alpha",), ("beta",)]
    finally:
        connection.close()


@pytest.mark.postgresql
def test_postgresql_role_may_create_databases(postgresql_url: str) -> None:
    name = f"envoxy_services_{uuid.uuid4().hex[:8]}"
    connection = psycopg2.connect(libpq_dsn(postgresql_url), connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"create database {name}")
            cursor.execute("select 1 from pg_database where datname = %s", (name,))
            assert cursor.fetchone() == (1,)
            cursor.execute(f"drop database {name}")
    finally:
        connection.close()


@pytest.mark.postgresql
def test_postgresql_rejects_a_wrong_password(postgresql_url: str) -> None:
    parts = urlsplit(libpq_dsn(postgresql_url))
    wrong = parts._replace(netloc=f"envoxy:not-the-password@{parts.hostname}:{parts.port}")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(urlunsplit(wrong), connect_timeout=5)


# --------------------------------------------------------------------------- redis


@pytest.mark.redis
def test_redis_set_then_get(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_timeout=TIMEOUT)
    key = f"envoxy:tests-integration:services:{uuid.uuid4().hex}"
    try:
        assert client.set(key, "value", ex=60) is True
        assert client.get(key) == b"value"
        assert 0 < client.ttl(key) <= 60
    finally:
        client.delete(key)
        client.close()


def private_services_env(state: pathlib.Path, **ports: int) -> dict[str, str]:
    """Environment that points ``tools/services`` at a private directory and ports."""
    env = {**os.environ, "ENVOXY_SERVICES_DIR": str(state)}
    for name, port in ports.items():
        env[f"ENVOXY_SERVICES_{name.upper()}_PORT"] = str(port)
    return env


@pytest.mark.redis
def test_redis_restart_answers_as_soon_as_it_returns(
    tmp_path: pathlib.Path, free_port: int
) -> None:
    # On a private port and directory: restarting the shared Redis would break the
    # tests other people run at the same time.
    env = private_services_env(tmp_path, redis=free_port)
    try:
        assert run_services("start", "redis", env=env).returncode == 0
        result = run_services("restart", "redis", env=env)
        assert result.returncode == 0, result.stderr
        assert f"redis://127.0.0.1:{free_port}" in result.stdout
        client = redis.Redis(host="127.0.0.1", port=free_port, socket_timeout=TIMEOUT)
        try:
            assert client.ping() is True
        finally:
            client.close()
    finally:
        run_services("stop", "redis", env=env)
    assert not (tmp_path / "redis" / "redis.pid").exists()


@pytest.mark.redis
def test_stop_leaves_a_redis_it_did_not_start_running(
    tmp_path: pathlib.Path, private_redis: Callable[..., PrivateRedis]
) -> None:
    # Item 6 of issue 13: a server on the port that tools/services does not own (no pid
    # file) is reported and left alone; tests therefore never rely on restarting one.
    server = private_redis()
    env = private_services_env(tmp_path, redis=server.port)
    result = run_services("stop", "redis", env=env)
    assert result.returncode == 0, result.stderr
    assert "was not started by tools/services (no pid file); leaving it" in result.stderr
    assert server.answers()


@pytest.mark.parametrize("command", ["stop", "restart"])
@pytest.mark.parametrize("name", ["postgresql", "redis", "mosquitto", "couchdb"])
def test_stop_and_restart_refuse_the_shared_servers_during_the_tests(
    tmp_path: pathlib.Path, command: str, name: str
) -> None:
    # The plugin sets ENVOXY_SERVICES_PROTECT=1. The private state directory keeps this
    # harmless even if the guard broke: tools/services stops only what its pid files name.
    assert os.environ["ENVOXY_SERVICES_PROTECT"] == "1"
    result = run_services(command, name, env={**os.environ, "ENVOXY_SERVICES_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert f"refusing to {command} the shared {name} server" in result.stderr
    assert not (tmp_path / ".lock").exists()


# --------------------------------------------------------------------------- mqtt


class Inbox:
    """Collects what a paho client hears, with events to wait on."""

    def __init__(self) -> None:
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.received = threading.Event()
        self.payloads: list[bytes] = []

    def on_connect(self, client: mqtt.Client, userdata: object, *args: object) -> None:
        self.connected.set()

    def on_subscribe(self, client: mqtt.Client, userdata: object, *args: object) -> None:
        self.subscribed.set()

    def on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self.payloads.append(bytes(message.payload))
        self.received.set()


@pytest.fixture
def mqtt_client(mqtt_url: str) -> Iterator[tuple[mqtt.Client, Inbox]]:
    """A connected paho client (network loop running) and its inbox."""
    parts = urlsplit(mqtt_url)
    inbox = Inbox()
    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"envoxy-services-{uuid.uuid4().hex[:8]}",
    )
    client.on_connect = inbox.on_connect
    client.on_subscribe = inbox.on_subscribe
    client.on_message = inbox.on_message
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883, keepalive=30)
    client.loop_start()
    try:
        assert inbox.connected.wait(TIMEOUT), f"no CONNACK from {mqtt_url}"
        yield client, inbox
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.mark.mqtt
def test_mqtt_publish_reaches_a_subscriber(mqtt_client: tuple[mqtt.Client, Inbox]) -> None:
    client, inbox = mqtt_client
    topic = f"envoxy/tests-integration/services/{uuid.uuid4().hex}"
    client.subscribe(topic, qos=1)
    assert inbox.subscribed.wait(TIMEOUT), f"no SUBACK for {topic}"
    info = client.publish(topic, b"hello broker", qos=1)
    info.wait_for_publish(TIMEOUT)
    assert inbox.received.wait(TIMEOUT), f"nothing arrived on {topic}"
    assert inbox.payloads == [b"hello broker"]


# --------------------------------------------------------------------------- couchdb


@pytest.fixture
def couchdb_database(couchdb_url: str) -> Iterator[tuple[httpx.Client, str]]:
    """An HTTP client on the CouchDB-API server and a fresh database, deleted afterwards."""
    name = f"envoxy_services_{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=couchdb_url, timeout=TIMEOUT) as client:
        created = client.put(f"/{name}")
        assert created.status_code in (201, 202), created.text
        try:
            yield client, name
        finally:
            client.delete(f"/{name}")


@pytest.mark.couchdb
def test_couchdb_welcome_is_json(couchdb_url: str) -> None:
    response = httpx.get(f"{couchdb_url}/", timeout=TIMEOUT)
    assert response.status_code == 200
    assert isinstance(response.json(), dict)


@pytest.mark.couchdb
def test_couchdb_find_selects_matching_documents(
    couchdb_database: tuple[httpx.Client, str],
) -> None:
    client, name = couchdb_database
    documents = [
        {"_id": "ada", "team": "math", "age": 36},
        {"_id": "alan", "team": "math", "age": 41},
        {"_id": "grace", "team": "navy", "age": 85},
    ]
    stored = client.post(f"/{name}/_bulk_docs", json={"docs": documents})
    assert stored.status_code == 201, stored.text
    index = client.post(f"/{name}/_index", json={"index": {"fields": ["age"]}})
    assert index.status_code in (200, 201), index.text

    found = client.post(
        f"/{name}/_find",
        json={"selector": {"team": "math", "age": {"$gt": 30}}, "fields": ["_id", "age"]},
    )

    assert found.status_code == 200, found.text
    assert sorted(found.json()["docs"], key=lambda doc: doc["_id"]) == [
        {"_id": "ada", "age": 36},
        {"_id": "alan", "age": 41},
    ]


# --------------------------------------------------------------------------- the script


@pytest.mark.postgresql
@pytest.mark.redis
@pytest.mark.mqtt
@pytest.mark.couchdb
def test_services_status_lists_every_server_up() -> None:
    result = run_services("status")
    assert result.returncode == 0, result.stdout + result.stderr
    for name, where in [
        ("postgresql", "127.0.0.1:5432"),
        ("redis", "127.0.0.1:6379"),
        ("mosquitto", "127.0.0.1:1883"),
        ("couchdb", "5984"),
    ]:
        line = next(line for line in result.stdout.splitlines() if line.split()[0] == name)
        assert " up " in line, line
        assert where in line, line


def test_services_rejects_an_unknown_server_name() -> None:
    result = run_services("status", "mongodb")
    assert result.returncode == 1
    assert "unknown server 'mongodb'" in result.stderr
    assert "postgresql redis mosquitto couchdb" in result.stderr


def test_services_rejects_an_unknown_command() -> None:
    result = run_services("launch")
    assert result.returncode == 1
    assert "unknown command 'launch'" in result.stderr
