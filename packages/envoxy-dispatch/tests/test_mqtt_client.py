"""mqttc against the real Mosquitto broker of tools/services."""

import json
import logging
import os
import pathlib
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import pytest

from envoxy.exceptions import ConfigError, ValidationException
from envoxy.mqtt import MqttClient, mqttc
from envoxy.utils.config import Config
from envoxy_testing import forking
from envoxy_testing.forking import in_child
from envoxy_testing.servers import PrivateMosquitto

pytestmark = pytest.mark.mqtt

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]


class Inbox:
    """Collects ``(payload, meta)`` pairs delivered to a callback."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, dict[str, Any]]] = []
        self._changed = threading.Condition()

    def __call__(self, payload: Any, **meta: Any) -> None:
        with self._changed:
            self.items.append((payload, meta))
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10) -> list[tuple[Any, dict[str, Any]]]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.items) >= count, timeout)
            return list(self.items)

    def wait_until(self, done: Callable[[list[Any]], bool], timeout: float = 20) -> list[Any]:
        """Wait until ``done(payloads)`` holds (QoS 1 may deliver a message twice)."""
        with self._changed:
            self._changed.wait_for(lambda: done(self.payloads), timeout)
            return self.payloads

    @property
    def payloads(self) -> list[Any]:
        return [payload for payload, _ in self.items]


class Recorder(logging.Handler):
    """Keeps the records of the ``envoxy`` loggers."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def topic() -> str:
    return f"envoxy-test/mqtt/{uuid.uuid4().hex[:12]}"


@pytest.fixture
def client(mqtt_url: str) -> Iterator[MqttClient]:
    mqtt = MqttClient({"broker": {"bind": mqtt_url, "connect_timeout": 5}})
    yield mqtt
    mqtt.close()


@pytest.fixture
def raw_subscriber(mqtt_url: str) -> Iterator[tuple[paho.Client, Inbox]]:
    """A plain paho client that records the raw payload bytes it receives."""
    parts = urlsplit(mqtt_url)
    inbox = Inbox()
    connected = threading.Event()
    raw = paho.Client(paho.CallbackAPIVersion.VERSION2)
    raw.on_connect = lambda *args: connected.set()
    raw.on_message = lambda _client, _userdata, message: inbox(message.payload, topic=message.topic)
    raw.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    raw.loop_start()
    assert connected.wait(5)
    yield raw, inbox
    raw.disconnect()
    raw.loop_stop()


def subscribe_raw(raw: paho.Client, topic: str) -> None:
    acked = threading.Event()
    raw.on_subscribe = lambda *args: acked.set()
    raw.subscribe(topic, 1)
    assert acked.wait(5)


def test_enveloped_message_round_trip(client: MqttClient, topic: str) -> None:
    inbox = Inbox()
    assert client.subscribe("broker", f"{topic}/#", inbox)
    message = {"state": "on", "level": 3}
    assert client.publish("broker", f"{topic}/lamp", message)
    ((payload, meta),) = inbox.wait_for(1)
    assert payload == {"state": "on", "level": 3}
    assert meta["topic"] == f"{topic}/lamp"
    assert (meta["qos"], meta["retain"]) == (0, False)
    assert list(meta["headers"]) == ["Accept", "Accept-Charset", "Date", "User-Agent", "X-Cid"]
    assert message == {"state": "on", "level": 3}


def test_envelope_on_the_wire_is_the_message_plus_headers_and_resource(
    client: MqttClient, raw_subscriber: tuple[paho.Client, Inbox], topic: str
) -> None:
    raw, inbox = raw_subscriber
    subscribe_raw(raw, topic)
    message = {"a": 1, "headers": {"X-Cid": "mine"}}
    assert client.publish("broker", topic, message)
    ((payload, _),) = inbox.wait_for(1)
    sent = json.loads(payload)
    assert sent["a"] == 1
    assert sent["resource"] == topic
    assert sent["headers"]["X-Cid"] == "mine"
    assert sent["headers"]["User-Agent"] == "Envoxy Server"
    assert message == {"a": 1, "headers": {"X-Cid": "mine"}}


def test_no_envelope_sends_json_and_bytes_as_is(
    client: MqttClient, raw_subscriber: tuple[paho.Client, Inbox], topic: str
) -> None:
    raw, wire = raw_subscriber
    subscribe_raw(raw, topic)
    inbox = Inbox()
    assert client.subscribe("broker", topic, inbox)
    assert client.publish("broker", topic, {"plain": True}, no_envelope=True)
    assert client.publish("broker", topic, b"\x00\xffraw", no_envelope=True)
    received = inbox.wait_for(2)
    assert [payload for payload, _ in received] == [{"plain": True}, b"\x00\xffraw"]
    assert all("headers" not in meta for _, meta in received)
    assert wire.wait_for(2)[0][0] == b'{"plain":true}'
    assert wire.items[1][0] == b"\x00\xffraw"


def test_wildcards_plus_and_hash(client: MqttClient, topic: str) -> None:
    one_level, all_levels = Inbox(), Inbox()
    assert client.subscribe("broker", f"{topic}/+/state", one_level)
    assert client.subscribe("broker", f"{topic}/#", all_levels)
    for suffix in ("a/state", "b/state", "a/b/state", "a/other"):
        assert client.publish("broker", f"{topic}/{suffix}", {"at": suffix})
    all_levels.wait_for(4)
    one_level.wait_for(2)
    assert client.flush("broker")
    assert sorted(item["at"] for item in all_levels.payloads) == [
        "a/b/state",
        "a/other",
        "a/state",
        "b/state",
    ]
    assert sorted(item["at"] for item in one_level.payloads) == ["a/state", "b/state"]


def test_qos1_subscription_receives_qos1_messages(client: MqttClient, topic: str) -> None:
    inbox = Inbox()
    assert client.subscribe("broker", topic, inbox, qos=1)
    for number in range(20):
        assert client.publish("broker", topic, {"n": number}, qos=1)
    received = inbox.wait_for(20)
    assert sorted(payload["n"] for payload, _ in received) == list(range(20))
    assert {meta["qos"] for _, meta in received} == {1}


def test_callback_exception_is_logged_and_delivery_continues(
    client: MqttClient, topic: str
) -> None:
    handler = Recorder()
    logger = logging.getLogger("envoxy")
    logger.addHandler(handler)
    inbox = Inbox()

    def broken(payload: Any, **meta: Any) -> None:
        raise RuntimeError(f"cannot handle {payload['n']}")

    try:
        assert client.subscribe("broker", topic, broken)
        assert client.subscribe("broker", topic, inbox)
        for number in range(3):
            assert client.publish("broker", topic, {"n": number})
        assert [payload["n"] for payload in [item[0] for item in inbox.wait_for(3)]] == [0, 1, 2]
    finally:
        logger.removeHandler(handler)
    errors = [record.getMessage() for record in handler.records if record.levelno >= logging.ERROR]
    assert any("RuntimeError: cannot handle 0" in message for message in errors)
    assert any("cannot handle 2" in message for message in errors)


def test_publish_from_inside_a_callback_does_not_deadlock(client: MqttClient, topic: str) -> None:
    replies = Inbox()

    def echo(payload: Any, **meta: Any) -> None:
        client.publish("broker", f"{topic}/reply", {"echo": payload["n"]})
        client.subscribe("broker", f"{topic}/late", replies)

    assert client.subscribe("broker", f"{topic}/request", echo)
    assert client.subscribe("broker", f"{topic}/reply", replies)
    assert client.publish("broker", f"{topic}/request", {"n": 7})
    assert replies.wait_for(1)[0][0] == {"echo": 7}


def test_threads_publish_concurrently(client: MqttClient, topic: str) -> None:
    inbox = Inbox()
    assert client.subscribe("broker", topic, inbox, qos=1)

    def publish_many(worker: int) -> None:
        for number in range(25):
            assert client.publish("broker", topic, {"w": worker, "n": number}, qos=1)

    threads = [threading.Thread(target=publish_many, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    received = inbox.wait_for(200, timeout=20)
    assert {(payload["w"], payload["n"]) for payload, _ in received} == {
        (worker, number) for worker in range(8) for number in range(25)
    }


def test_invalid_topic_and_filter_raise_validation_exception(
    client: MqttClient, topic: str
) -> None:
    with pytest.raises(ValidationException, match="wildcard") as caught:
        client.publish("broker", f"{topic}/+/x", {"a": 1})
    assert caught.value.status == 400
    with pytest.raises(ValidationException, match="'#' must be the last level"):
        client.subscribe("broker", f"{topic}/#/x", Inbox())
    with pytest.raises(ValidationException, match="QoS"):
        client.publish("broker", topic, {"a": 1}, qos=3)
    with pytest.raises(ValidationException, match="must be a dict"):
        client.publish("broker", topic, ["not", "a", "dict"])


def test_unreachable_broker_makes_publish_return_false_within_connect_timeout() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = MqttClient({"down": {"bind": f"mqtt://127.0.0.1:{port}", "connect_timeout": 0.5}})
    started = time.monotonic()
    try:
        assert client.publish("down", "envoxy-test/nowhere", {"a": 1}) is False
    finally:
        client.close()
    assert 0.4 <= time.monotonic() - started < 3


def test_unknown_server_key_names_the_section_and_key(client: MqttClient) -> None:
    with pytest.raises(ConfigError, match=r"mqtt_servers.*'nope'"):
        client.publish("nope", "t", {})


def test_mqttc_uses_envoxy_json_and_close_is_idempotent(
    mqtt_url: str, tmp_path: pathlib.Path, topic: str
) -> None:
    config = tmp_path / "envoxy.json"
    config.write_text(json.dumps({"mqtt_servers": {"default": {"bind": mqtt_url}}}))
    previous = Config.file_path
    Config.set_file_path(config)
    inbox = Inbox()
    try:
        assert mqttc.subscribe("default", topic, inbox)
        assert mqttc.publish("default", topic, {"via": "mqttc"})
        assert inbox.wait_for(1)[0][0] == {"via": "mqttc"}
        with pytest.raises(ConfigError, match=r"mqtt_servers.*'missing'"):
            mqttc.publish("missing", topic, {})
    finally:
        mqttc.close()
        mqttc.close()
        Config.set_file_path(previous)


def test_forked_child_publishes_over_its_own_connection(client: MqttClient, topic: str) -> None:
    inbox = Inbox()
    assert client.subscribe("broker", topic, inbox, qos=1)
    assert client.publish("broker", topic, {"from": "parent"}, qos=1)
    inbox.wait_for(1)

    def in_the_child() -> bool:
        sent = client.publish("broker", topic, {"from": "child"}, qos=1) and client.flush("broker")
        client.close()
        return bool(sent)

    assert in_child(in_the_child) is True
    assert client.publish("broker", topic, {"from": "parent again"}, qos=1)
    received = inbox.wait_for(3)
    assert sorted(payload["from"] for payload, _ in received) == ["child", "parent", "parent again"]


def test_publishing_and_subscription_resume_after_a_broker_restart(
    private_mosquitto: Callable[..., PrivateMosquitto], topic: str
) -> None:
    # A private broker without persistence, like the shared one: restarting the shared
    # broker would break everyone else's tests. What is checked here is the reconnection
    # and the renewed subscription; loss-free delivery across a restart needs broker
    # persistence: test_mqtt_own_broker.py.
    broker = private_mosquitto()
    client = MqttClient({"broker": {"bind": broker.url, "connect_timeout": 5}})
    inbox = Inbox()
    assert client.subscribe("broker", topic, inbox, qos=1)
    assert client.publish("broker", topic, {"n": "before"}, qos=1)
    inbox.wait_for(1)
    handler = Recorder()
    logging.getLogger("envoxy").addHandler(handler)
    try:
        broker.restart()
        # publish() waits up to connect_timeout for the reconnection.
        assert client.publish("broker", f"{topic}/probe", {"n": "probe"}, qos=1)
        probes = Inbox()
        assert client.subscribe("broker", f"{topic}/probe", probes, qos=1)
        deadline = time.monotonic() + 20
        while not probes.items and time.monotonic() < deadline:  # poll: subscription renewed?
            client.publish("broker", f"{topic}/probe", {"n": "probe"}, qos=1)
            probes.wait_for(1, timeout=0.5)
        for number in range(50):
            assert client.publish("broker", topic, {"n": number}, qos=1)
        received = inbox.wait_until(
            lambda payloads: {payload["n"] for payload in payloads} >= set(range(50))
        )
        messages = [record.getMessage() for record in handler.records]
        assert any("connection to mqtt://" in message and "lost" in message for message in messages)
        assert client.is_connected("broker")
        assert {payload["n"] for payload in received} >= set(range(50))
    finally:
        logging.getLogger("envoxy").removeHandler(handler)
        client.close()


def test_a_worker_forked_from_c_publishes_over_its_own_connection(
    mqtt_url: str, topic: str
) -> None:
    # uWSGI forks its workers from C, without Python's at-fork hooks: a client that
    # relied on os.register_at_fork handed the worker the master's connection (same
    # client id, same socket once started). The master's connection is built but not
    # started. The fork happens in a fresh interpreter, as in uWSGI's master: a C fork
    # of this test process, where earlier tests left threads running, can hang the
    # child in CPython itself (a lock one of them held), whatever the client does.
    inbox = Inbox()
    watcher = MqttClient({"broker": {"bind": mqtt_url, "connect_timeout": 5}})
    try:
        assert watcher.subscribe("broker", topic, inbox, qos=1)
        done = subprocess.run(
            [sys.executable, "-c", _C_FORK_SCRIPT, mqtt_url, topic],
            capture_output=True,
            text=True,
            timeout=90,
            env={**os.environ, "PYTHONPATH": str(pathlib.Path(forking.__file__).parents[1])},
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert json.loads(done.stdout.splitlines()[-1]) == {
            "child": [True, True, True],
            "parent_kept_its_connection": True,
            "parent_published": True,
        }
        received = inbox.wait_for(2)
        assert sorted(payload["from"] for payload, _ in received) == ["parent", "worker"]
    finally:
        watcher.close()


_C_FORK_SCRIPT = """
import json, sys
from envoxy.mqtt import MqttClient
from envoxy_testing.forking import c_fork, in_child

url, topic = sys.argv[1], sys.argv[2]
client = MqttClient({"broker": {"bind": url, "connect_timeout": 5}})
parent_connection = client.connection("broker")


def publish_in_the_worker():
    own = client.connection("broker") is not parent_connection
    sent = client.publish("broker", topic, {"from": "worker"}, qos=1)
    acknowledged = client.flush("broker")
    client.close()
    return [own, sent, acknowledged]


child = in_child(publish_in_the_worker, c_fork)
kept = client.connection("broker") is parent_connection
published = client.publish("broker", topic, {"from": "parent"}, qos=1) and client.flush("broker")
client.close()
print(json.dumps({"child": child, "parent_kept_its_connection": kept,
                  "parent_published": bool(published)}))
"""
