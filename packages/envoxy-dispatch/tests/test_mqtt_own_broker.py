"""mqttc against Mosquitto brokers started by the test: TLS, and restarts with persistence.

The shared broker of tools/services runs without persistence; these tests start
their own (the ``mosquitto`` binary tools/services installs) on free loopback ports.
"""

import getpass
import pathlib
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from envoxy.mqtt import MqttClient

pytestmark = pytest.mark.mqtt


class Broker:
    """One Mosquitto process with its own config, data directory and port."""

    def __init__(self, directory: pathlib.Path, extra: str = "", tls: bool = False) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not pathlib.Path(binary).exists():
            pytest.fail("mosquitto is not installed: run `tools/services start mosquitto`")
        self.binary = binary
        self.directory = directory
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.config = directory / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            f"persistence_location {directory}/\n"
            f"user {getpass.getuser()}\n"
            f"{extra}\n"
        )
        self.url = f"{'mqtts' if tls else 'mqtt'}://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        log = (self.directory / "mosquitto.out").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # poll until the port accepts connections
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert self.process.poll() is None, (self.directory / "mosquitto.out").read_text()
                time.sleep(0.05)
        pytest.fail(f"mosquitto did not listen on {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # a clean stop writes the persistence file
            self.process.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()


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
def persistent_broker(tmp_path: pathlib.Path) -> Iterator[Broker]:
    broker = Broker(tmp_path, "persistence true\nmax_queued_messages 10000")
    yield broker
    broker.stop()


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture
def tls_broker(tmp_path: pathlib.Path) -> Iterator[tuple[Broker, pathlib.Path]]:
    ca_key, ca, key, csr, cert = (
        tmp_path / name for name in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem")
    )
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout",
             str(ca_key), "-out", str(ca), "-subj", "/CN=envoxy test CA")  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
             "-subj", "/CN=localhost")  # fmt: skip
    extensions = tmp_path / "san.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
             "-CAcreateserial", "-days", "1", "-out", str(cert),
             "-extfile", str(extensions))  # fmt: skip
    broker = Broker(tmp_path, f"cafile {ca}\ncertfile {cert}\nkeyfile {key}", tls=True)
    yield broker, ca
    broker.stop()


def test_mqtts_verified_with_cert_path(tls_broker: tuple[Broker, pathlib.Path]) -> None:
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
    tls_broker: tuple[Broker, pathlib.Path],
) -> None:
    broker, _ = tls_broker
    client = MqttClient({"tls": {"bind": broker.url, "connect_timeout": 1}})
    try:
        assert client.publish("tls", "secure/1", {"a": 1}) is False
        assert not client.is_connected("tls")
    finally:
        client.close()


def test_persistent_subscriber_loses_no_qos1_message_across_a_restart(
    persistent_broker: Broker,
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
    persistent_broker: Broker,
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
