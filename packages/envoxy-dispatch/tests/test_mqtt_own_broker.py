"""mqttc against Mosquitto brokers started by the test: TLS (mutual too), and restarts
with persistence.

The shared broker of tools/services runs without persistence; these tests start
their own (``private_mosquitto`` of envoxy_testing) on free loopback ports.
"""

import pathlib
import subprocess
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from envoxy.exceptions import ConfigError
from envoxy.mqtt import MqttClient
from envoxy_testing.servers import PrivateMosquitto
from envoxy_testing.tls import TlsFiles

pytestmark = pytest.mark.mqtt


class Inbox:
    def __init__(self) -> None:
        self.payloads: list[Any] = []
        self._changed = threading.Condition()

    def __call__(self, payload: Any, **meta: Any) -> None:
        with self._changed:
            self.payloads.append(payload)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 15) -> list[Any]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.payloads) >= count, timeout)
            return list(self.payloads)

    def wait_for_numbers(self, expected: set[int], timeout: float = 30) -> set[int]:
        """Wait until every ``{"n": number}`` in ``expected`` arrived (QoS 1 may repeat)."""

        def numbers() -> set[int]:
            return {payload["n"] for payload in self.payloads}

        with self._changed:
            self._changed.wait_for(lambda: expected <= numbers(), timeout)
            return numbers()


@pytest.fixture
def persistent_broker(private_mosquitto: Callable[..., PrivateMosquitto]) -> PrivateMosquitto:
    return private_mosquitto(persistence=True, extra="max_queued_messages 10000")


@pytest.fixture
def tls_broker(
    private_mosquitto: Callable[..., PrivateMosquitto], tls_files: TlsFiles
) -> tuple[PrivateMosquitto, pathlib.Path]:
    return private_mosquitto(tls=tls_files), tls_files.ca


def test_mqtts_verified_with_cert_path(tls_broker: tuple[PrivateMosquitto, pathlib.Path]) -> None:
    broker, ca = tls_broker
    client = MqttClient({"tls": {"bind": broker.url, "cert_path": str(ca), "connect_timeout": 5}})
    inbox = Inbox()
    try:
        assert client.subscribe("tls", "secure/#", inbox)
        assert client.publish("tls", "secure/1", {"over": "tls"}, qos=1)
        assert inbox.wait_for(1) == [{"over": "tls"}]
    finally:
        client.close()


def test_mqtts_with_system_cas_refuses_an_unknown_ca(
    tls_broker: tuple[PrivateMosquitto, pathlib.Path],
) -> None:
    broker, _ = tls_broker
    client = MqttClient({"tls": {"bind": broker.url, "connect_timeout": 1}})
    try:
        assert client.publish("tls", "secure/1", {"a": 1}) is False
        assert not client.is_connected("tls")
    finally:
        client.close()


def test_persistent_subscriber_loses_no_qos1_message_across_a_restart(
    persistent_broker: PrivateMosquitto,
) -> None:
    subscriber = MqttClient(
        {
            "broker": {
                "bind": persistent_broker.url,
                "client_id": f"envoxy-test-{uuid.uuid4().hex[:8]}",
                "persistent_session": True,
                "connect_timeout": 10,
            }
        }
    )
    publisher = MqttClient({"broker": {"bind": persistent_broker.url, "connect_timeout": 10}})
    inbox = Inbox()
    accepted: list[int] = []
    restarted = threading.Event()

    def keep_publishing() -> None:
        # Before, during and after the restart; publish() waits for the reconnection.
        after_restart = 0
        for number in range(3000):
            if publisher.publish("broker", "persist/all", {"n": number}, qos=1):
                accepted.append(number)
            if restarted.is_set():
                after_restart += 1
                if after_restart >= 50:
                    return
            restarted.wait(0.002)  # pacing, so the run spans the restart

    try:
        assert subscriber.subscribe("broker", "persist/all", inbox, qos=1)
        sender = threading.Thread(target=keep_publishing)
        sender.start()
        inbox.wait_for(30)
        persistent_broker.restart()
        restarted.set()
        sender.join(60)
        assert set(accepted) - inbox.wait_for_numbers(set(accepted)) == set()
        assert len(accepted) > 80
    finally:
        restarted.set()
        publisher.close()
        subscriber.close()


def test_offline_persistent_subscriber_gets_messages_queued_across_a_restart(
    persistent_broker: PrivateMosquitto,
) -> None:
    subscriber = {
        "bind": persistent_broker.url,
        "client_id": f"envoxy-test-{uuid.uuid4().hex[:8]}",
        "persistent_session": True,
        "connect_timeout": 10,
    }
    first = MqttClient({"broker": subscriber})
    assert first.subscribe("broker", "persist/offline", Inbox(), qos=1)
    first.close()
    publisher = MqttClient({"broker": {"bind": persistent_broker.url}})
    for number in range(10):
        assert publisher.publish("broker", "persist/offline", {"n": number}, qos=1)
    assert publisher.flush("broker")
    publisher.close()
    persistent_broker.restart()
    again = MqttClient({"broker": subscriber})
    inbox = Inbox()
    try:
        again.subscribe("broker", "persist/offline", inbox, qos=1)
        received = inbox.wait_for(10)
        assert sorted(payload["n"] for payload in received) == list(range(10))
    finally:
        again.close()


@pytest.fixture
def mutual_tls_broker(
    private_mosquitto: Callable[..., PrivateMosquitto], tls_files: TlsFiles
) -> PrivateMosquitto:
    return private_mosquitto(tls=tls_files, extra="require_certificate true")


def test_mutual_tls_with_the_client_certificate(
    mutual_tls_broker: PrivateMosquitto, tls_files: TlsFiles
) -> None:
    client = MqttClient(
        {
            "mtls": {
                "bind": mutual_tls_broker.url,
                "cert_path": str(tls_files.ca),
                "client_cert": str(tls_files.client_cert),
                "client_key": str(tls_files.client_key),
                "connect_timeout": 5,
            }
        }
    )
    inbox = Inbox()
    try:
        assert client.subscribe("mtls", "mutual/#", inbox, qos=1)
        assert client.publish("mtls", "mutual/1", {"over": "mtls"}, qos=1)
        assert inbox.wait_for(1) == [{"over": "mtls"}]
    finally:
        client.close()


def test_mutual_tls_broker_refuses_a_client_without_certificate(
    mutual_tls_broker: PrivateMosquitto, tls_files: TlsFiles
) -> None:
    conf = {"bind": mutual_tls_broker.url, "cert_path": str(tls_files.ca), "connect_timeout": 1}
    client = MqttClient({"mtls": conf})
    try:
        assert client.publish("mtls", "mutual/1", {"a": 1}) is False
        assert not client.is_connected("mtls")
    finally:
        client.close()


def test_an_encrypted_client_key_with_its_password(
    mutual_tls_broker: PrivateMosquitto, tls_files: TlsFiles, tmp_path: pathlib.Path
) -> None:
    encrypted = tmp_path / "client-encrypted.key"
    command = ["openssl", "pkey", "-in", str(tls_files.client_key), "-aes256"]
    subprocess.run(
        [*command, "-passout", "pass:s3cr%t", "-out", str(encrypted)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    conf = {
        "bind": mutual_tls_broker.url,
        "cert_path": str(tls_files.ca),
        "client_cert": str(tls_files.client_cert),
        "client_key": str(encrypted),
        "client_key_password": "s3cr%t",
        "connect_timeout": 5,
    }
    client = MqttClient({"mtls": conf})
    try:
        assert client.publish("mtls", "mutual/2", {"a": 1}, qos=1)
        assert client.flush("mtls")
    finally:
        client.close()
    wrong = MqttClient({"mtls": {**conf, "client_key_password": "not-the-password"}})
    with pytest.raises(ConfigError, match=r"mqtt_servers\.mtls\.client_cert/client_key") as error:
        wrong.publish("mtls", "mutual/3", {"a": 1})
    assert "not-the-password" not in str(error.value)
    assert "client_key_password" in str(error.value)


def test_unreadable_client_key_names_the_setting(
    mutual_tls_broker: PrivateMosquitto, tls_files: TlsFiles, tmp_path: pathlib.Path
) -> None:
    client = MqttClient(
        {
            "mtls": {
                "bind": mutual_tls_broker.url,
                "client_cert": str(tls_files.client_cert),
                "client_key": str(tmp_path / "missing.key"),
            }
        }
    )
    with pytest.raises(ConfigError, match=r"mqtt_servers\.mtls\.client_cert/client_key"):
        client.publish("mtls", "mutual/4", {"a": 1})
