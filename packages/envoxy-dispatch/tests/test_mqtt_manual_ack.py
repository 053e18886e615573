"""mqttc manual acknowledgements, shared subscriptions and per-process client ids, on
Mosquitto brokers started by the tests.

A "crash" stops a client's network thread and closes its socket without DISCONNECT or
the acknowledgements it still owed: what a killed process leaves behind.
"""

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from envoxy.exceptions import ValidationException
from envoxy.mqtt import MqttClient
from envoxy.utils.identity import set_process_tag
from envoxy_testing.servers import PrivateMosquitto

pytestmark = pytest.mark.mqtt


class Recorder:
    """A ``manual_ack`` callback: records ``{"n": ...}`` payloads and acknowledges those
    ``acknowledge(n)`` allows, at once or later from another thread."""

    def __init__(self, acknowledge: Callable[[int], bool] = lambda number: True) -> None:
        self.acknowledge = acknowledge
        self.numbers: list[int] = []
        self.dups: list[int] = []
        self.held: list[Callable[[], None]] = []
        self._changed = threading.Condition()

    def __call__(self, payload: Any, *, ack: Callable[[], None], **meta: Any) -> None:
        with self._changed:
            self.numbers.append(payload["n"])
            if self.acknowledge(payload["n"]):
                ack()
            else:
                self.held.append(ack)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10) -> list[int]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.numbers) >= count, timeout)
            return list(self.numbers)


def crash(client: MqttClient, server_key: str) -> None:
    """Leave like a killed process: no DISCONNECT, no pending acknowledgement sent."""
    paho_client = client.connection(server_key)._client
    paho_client.loop_stop()
    sock = paho_client.socket()
    if sock is not None:
        sock.close()


@pytest.fixture
def broker(private_mosquitto: Callable[..., PrivateMosquitto]) -> PrivateMosquitto:
    return private_mosquitto(extra="max_queued_messages 10000")


@pytest.fixture
def publisher(broker: PrivateMosquitto) -> Iterator[MqttClient]:
    client = MqttClient({"broker": {"bind": broker.url, "connect_timeout": 5}})
    yield client
    client.close()


def persistent(broker: PrivateMosquitto, client_id: str) -> MqttClient:
    return MqttClient(
        {
            "broker": {
                "bind": broker.url,
                "client_id": client_id,
                "persistent_session": True,
                "connect_timeout": 5,
            }
        }
    )


def test_only_acknowledged_messages_are_gone_after_a_crash(
    broker: PrivateMosquitto, publisher: MqttClient
) -> None:
    client_id = f"envoxy-ack-{uuid.uuid4().hex[:8]}"
    first = persistent(broker, client_id)
    even_only = Recorder(lambda number: number % 2 == 0)
    assert first.subscribe("broker", "acks/t", even_only, qos=1, manual_ack=True)
    for number in range(10):
        assert publisher.publish("broker", "acks/t", {"n": number}, qos=1)
    assert sorted(even_only.wait_for(10)) == list(range(10))
    time.sleep(0.2)  # the even acknowledgements leave
    crash(first, "broker")
    again = persistent(broker, client_id)
    returned = Recorder()
    try:
        assert again.subscribe("broker", "acks/t", returned, qos=1, manual_ack=True)
        assert sorted(returned.wait_for(5)) == [1, 3, 5, 7, 9]
        time.sleep(0.3)
        assert len(returned.numbers) == 5
    finally:
        again.close()


def test_a_late_acknowledgement_from_another_thread_completes_the_message(
    broker: PrivateMosquitto, publisher: MqttClient
) -> None:
    client_id = f"envoxy-ack-{uuid.uuid4().hex[:8]}"
    first = persistent(broker, client_id)
    held = Recorder(lambda number: False)
    assert first.subscribe("broker", "acks/late", held, qos=1, manual_ack=True)
    for number in range(4):
        assert publisher.publish("broker", "acks/late", {"n": number}, qos=1)
    held.wait_for(4)
    workers = [threading.Thread(target=ack) for ack in held.held[:2]]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    held.held[0]()  # a second call of the same ack does nothing
    time.sleep(0.2)
    crash(first, "broker")
    again = persistent(broker, client_id)
    returned = Recorder()
    try:
        assert again.subscribe("broker", "acks/late", returned, qos=1, manual_ack=True)
        assert sorted(returned.wait_for(2)) == sorted(held.numbers[2:])
        time.sleep(0.3)
        assert len(returned.numbers) == 2
    finally:
        again.close()


def test_a_manual_callback_that_raises_has_its_message_acknowledged(
    broker: PrivateMosquitto, publisher: MqttClient
) -> None:
    client_id = f"envoxy-ack-{uuid.uuid4().hex[:8]}"
    first = persistent(broker, client_id)
    seen: list[int] = []

    def failing(payload: Any, *, ack: Callable[[], None], **meta: Any) -> None:
        seen.append(payload["n"])
        raise RuntimeError("handler bug")

    assert first.subscribe("broker", "acks/raise", failing, qos=1, manual_ack=True)
    assert publisher.publish("broker", "acks/raise", {"n": 1}, qos=1)
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    crash(first, "broker")
    again = persistent(broker, client_id)
    returned = Recorder()
    try:
        assert again.subscribe("broker", "acks/raise", returned, qos=1, manual_ack=True)
        time.sleep(0.5)
        assert seen == [1]
        assert returned.numbers == []  # not sent again: a poison message cannot loop
    finally:
        again.close()


def test_plain_and_manual_listeners_of_one_message_all_finish_before_its_ack(
    broker: PrivateMosquitto, publisher: MqttClient
) -> None:
    client_id = f"envoxy-ack-{uuid.uuid4().hex[:8]}"
    first = persistent(broker, client_id)
    plain: list[Any] = []
    held = Recorder(lambda number: False)
    assert first.subscribe("broker", "acks/both", held, qos=1, manual_ack=True)
    assert first.subscribe("broker", "acks/#", lambda payload, **meta: plain.append(payload), 1)
    assert publisher.publish("broker", "acks/both", {"n": 7}, qos=1)
    held.wait_for(1)
    time.sleep(0.2)
    assert plain == [{"n": 7}]  # the plain listener returned; the manual one holds it
    crash(first, "broker")
    again = persistent(broker, client_id)
    returned = Recorder()
    try:
        assert again.subscribe("broker", "acks/both", returned, qos=1, manual_ack=True)
        assert returned.wait_for(1) == [7]
    finally:
        again.close()


def test_manual_ack_on_a_key_started_without_it_is_refused(
    broker: PrivateMosquitto, publisher: MqttClient
) -> None:
    assert publisher.publish("broker", "acks/x", {"n": 0})
    with pytest.raises(ValidationException, match="first subscription of the key"):
        publisher.subscribe("broker", "acks/x", Recorder(), qos=1, manual_ack=True)


def test_qos0_messages_get_a_no_op_ack(broker: PrivateMosquitto, publisher: MqttClient) -> None:
    client = MqttClient({"broker": {"bind": broker.url, "connect_timeout": 5}})
    recorder = Recorder()
    try:
        assert client.subscribe("broker", "acks/q0", recorder, qos=0, manual_ack=True)
        assert publisher.publish("broker", "acks/q0", {"n": 3}, qos=0)
        assert recorder.wait_for(1) == [3]
    finally:
        client.close()


def test_a_shared_subscription_gives_each_message_to_one_member(
    broker: PrivateMosquitto, publisher: MqttClient
) -> None:
    members = [MqttClient({"broker": {"bind": broker.url, "connect_timeout": 5}}) for _ in "abc"]
    recorders = [Recorder() for _ in members]
    outsider = Recorder()
    watcher = MqttClient({"broker": {"bind": broker.url, "connect_timeout": 5}})
    try:
        for member, recorder in zip(members, recorders, strict=True):
            assert member.subscribe("broker", "$share/g/jobs/+", recorder, 1, manual_ack=True)
        assert watcher.subscribe("broker", "jobs/+", outsider, 1, manual_ack=True)
        for number in range(90):
            assert publisher.publish("broker", f"jobs/{number % 3}", {"n": number}, qos=1)
        assert publisher.flush("broker")
        outsider.wait_for(90)
        deadline = time.monotonic() + 10
        while sum(len(r.numbers) for r in recorders) < 90 and time.monotonic() < deadline:
            time.sleep(0.02)
        handled = [number for recorder in recorders for number in recorder.numbers]
        assert sorted(handled) == list(range(90))  # each message once in the group
        assert all(recorder.numbers for recorder in recorders)  # shared among the members
        assert sorted(outsider.numbers) == list(range(90))  # a plain subscriber gets all
    finally:
        for member in (*members, watcher):
            member.close()


def test_each_process_qualifies_the_configured_client_id(broker: PrivateMosquitto) -> None:
    base = f"envoxy-id-{uuid.uuid4().hex[:8]}"
    set_process_tag("w2")
    try:
        worker = MqttClient({"broker": {"bind": broker.url, "client_id": base}})
        assert worker.connection("broker").client_id == f"{base}-w2"
    finally:
        set_process_tag("")
    mule = MqttClient({"broker": {"bind": broker.url, "client_id": base}})
    assert mule.connection("broker").client_id == base
    # both connect at once: distinct ids, so neither takes over the other's session
    try:
        assert worker.publish("broker", "ids/x", {"n": 1}, qos=1)
        assert mule.publish("broker", "ids/x", {"n": 2}, qos=1)
        time.sleep(0.5)
        assert worker.is_connected("broker")
        assert mule.is_connected("broker")
    finally:
        worker.close()
        mule.close()


def test_an_acknowledgement_never_crosses_a_reconnection(
    private_mosquitto: Callable[..., PrivateMosquitto],
) -> None:
    broker = private_mosquitto(persistence=True)
    client_id = f"envoxy-ack-{uuid.uuid4().hex[:8]}"
    first = persistent(broker, client_id)
    held = Recorder(lambda number: False)
    publisher = MqttClient({"broker": {"bind": broker.url, "connect_timeout": 5}})
    try:
        assert first.subscribe("broker", "acks/gen", held, qos=1, manual_ack=True)
        assert publisher.publish("broker", "acks/gen", {"n": 5}, qos=1)
        assert held.wait_for(1) == [5]
        broker.restart()
        # the resumed session sends the unacknowledged message again
        assert held.wait_for(2, timeout=20) == [5, 5]
        held.held[0]()  # the first copy's ack: its connection is gone, so it is not sent
        time.sleep(0.3)
        crash(first, "broker")
        again = persistent(broker, client_id)
        returned = Recorder()
        try:
            assert again.subscribe("broker", "acks/gen", returned, qos=1, manual_ack=True)
            assert returned.wait_for(1) == [5]
        finally:
            again.close()
    finally:
        publisher.close()


def test_a_subscription_made_while_connected_gets_a_retained_message_once(
    broker: PrivateMosquitto, publisher: MqttClient
) -> None:
    assert publisher.publish("broker", "acks/retained", {"n": 1}, qos=1, retain=True)
    assert publisher.flush("broker")
    received: list[Any] = []
    client = MqttClient({"broker": {"bind": broker.url, "connect_timeout": 5}})
    try:
        assert client.publish("broker", "acks/other", {"n": 0})  # connected first
        assert client.subscribe("broker", "acks/retained", lambda p, **m: received.append(p), 1)
        time.sleep(0.5)
        assert received == [{"n": 1}]  # one SUBSCRIBE: the retained message came once
    finally:
        client.close()
