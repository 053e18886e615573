"""The service mule's MqttSubscriber in-process, on Mosquitto brokers started by the tests:
handler threads, order per topic, acknowledgement after the handler, and draining on stop.
"""

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from envoxy.daemon.metrics import Metrics
from envoxy.daemon.mqtt import MqttSubscriber
from envoxy.daemon.mqtt_route import MqttRoute
from envoxy.mqtt import MqttClient
from envoxy.utils.context import RequestContext, bound, current_request_id
from envoxy_testing.servers import PrivateMosquitto

pytestmark = pytest.mark.mqtt


class Recording:
    """An MQTT view recording ``{"n": ...}`` payloads, their topics and threads."""

    def __init__(self, delay: float = 0.0, fail_on: int | None = None) -> None:
        self.delay = delay
        self.fail_on = fail_on
        self.handled: list[tuple[str, int]] = []
        #: number -> (the request_id= meta, the id bound while on_event ran)
        self.request_ids: dict[int, tuple[str | None, str | None]] = {}
        self.running = 0
        self.peak = 0
        self._lock = threading.Condition()

    def on_event(self, data: Any, **meta: Any) -> None:
        self.request_ids[data["n"]] = (meta.get("request_id"), current_request_id())
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            time.sleep(self.delay)
            if data["n"] == self.fail_on:
                raise RuntimeError("handler bug")
        finally:
            with self._lock:
                self.running -= 1
                self.handled.append((meta["topic"], data["n"]))
                self._lock.notify_all()

    def numbers(self) -> list[int]:
        with self._lock:
            return [number for _, number in self.handled]

    def wait_for(self, count: int, timeout: float = 15) -> list[int]:
        with self._lock:
            self._lock.wait_for(lambda: len(self.handled) >= count, timeout)
        return self.numbers()


@pytest.fixture
def broker(private_mosquitto: Callable[..., PrivateMosquitto]) -> PrivateMosquitto:
    return private_mosquitto(extra="max_queued_messages 10000")


@pytest.fixture
def clients(broker: PrivateMosquitto) -> Iterator[Callable[..., MqttClient]]:
    made: list[MqttClient] = []

    def make(client_id: str | None = None) -> MqttClient:
        conf: dict[str, Any] = {"bind": broker.url, "connect_timeout": 5}
        if client_id:
            conf.update(client_id=client_id, persistent_session=True)
        made.append(MqttClient({"local": conf}))
        return made[-1]

    yield make
    for client in made:
        client.close()


def subscriber(
    view: Recording, client: MqttClient, endpoint: str, app: Any = None, **options: Any
) -> MqttSubscriber:
    started = MqttSubscriber([MqttRoute(view, endpoint, "local", **options)], client, app=app)
    started.start()
    assert client.connection("local").wait_connected(5)
    time.sleep(0.2)  # the SUBACK
    return started


def publish(client: MqttClient, topics: Callable[[int], str], numbers: range) -> None:
    for number in numbers:
        assert client.publish("local", topics(number), {"n": number}, qos=1)
    assert client.flush("local", 10)


def test_handlers_run_on_max_workers_threads_at_once(clients: Callable[..., MqttClient]) -> None:
    view = Recording(delay=0.2)
    mule = subscriber(view, clients(), "work/+", qos=1, max_workers=4)
    started = time.monotonic()
    publish(clients(), lambda n: f"work/{n}", range(8))
    assert sorted(view.wait_for(8)) == list(range(8))
    assert view.peak == 4
    assert time.monotonic() - started < 1.2  # 8 x 0.2 s on 4 threads, not 1.6 s in a row
    assert mule.stop(5)


def test_one_worker_handles_one_message_at_a_time(clients: Callable[..., MqttClient]) -> None:
    view = Recording(delay=0.02)
    mule = subscriber(view, clients(), "single/+", qos=1)
    publish(clients(), lambda n: f"single/{n % 3}", range(30))
    assert view.wait_for(30) == list(range(30))  # in arrival order
    assert view.peak == 1
    assert mule.stop(5)


def test_ordered_view_keeps_the_order_of_each_topic(clients: Callable[..., MqttClient]) -> None:
    view = Recording(delay=0.002)
    mule = subscriber(view, clients(), "dev/+/state", qos=1, max_workers=4, ordered=True)
    publish(clients(), lambda n: f"dev/{n % 6}/state", range(240))
    view.wait_for(240)
    by_topic: dict[str, list[int]] = {}
    for topic, number in view.handled:
        by_topic.setdefault(topic, []).append(number)
    assert len(by_topic) == 6
    for topic, numbers in by_topic.items():
        assert numbers == sorted(numbers), topic
    assert view.peak > 1  # topics still ran side by side
    assert mule.stop(5)


def test_a_failing_handler_is_logged_and_its_message_acknowledged(
    clients: Callable[..., MqttClient],
) -> None:
    client_id = f"envoxy-sub-{uuid.uuid4().hex[:8]}"
    view = Recording(fail_on=1)
    first_client = clients(client_id)
    mule = subscriber(view, first_client, "fail/t", qos=1)
    publish(clients(), lambda n: "fail/t", range(3))
    assert view.wait_for(3) == [0, 1, 2]
    assert mule.stop(5)
    first_client.close()  # its session stays: nothing unacknowledged left in it
    again = Recording()
    later = subscriber(again, clients(client_id), "fail/t", qos=1)
    time.sleep(0.5)
    assert again.handled == []
    assert later.stop(5)


def test_a_leaving_shared_member_drains_what_the_broker_routed_to_it(
    clients: Callable[..., MqttClient],
) -> None:
    leaving, staying = Recording(delay=0.01), Recording()
    group = f"g{uuid.uuid4().hex[:6]}"
    first = subscriber(leaving, clients("envoxy-a-" + group), "jobs/+", qos=1, shared=group)
    second = subscriber(staying, clients("envoxy-b-" + group), "jobs/+", qos=1, shared=group)
    publisher = clients()
    publish(publisher, lambda n: f"jobs/{n % 4}", range(200))  # ~100 queued for the slow one
    leaving.wait_for(10)
    assert first.stop(20)
    drained = len(leaving.handled)
    publish(publisher, lambda n: f"jobs/{n % 4}", range(200, 300))
    staying.wait_for(staying_count := 300 - drained)
    handled = leaving.numbers() + staying.numbers()
    assert sorted(handled) == list(range(300))  # each once: nothing lost, nothing twice
    assert len(leaving.handled) == drained  # the group's next messages went to the other
    assert len(staying.handled) == staying_count
    assert second.stop(5)


def test_a_stopping_plain_subscriber_leaves_the_rest_to_its_persistent_session(
    clients: Callable[..., MqttClient],
) -> None:
    client_id = f"envoxy-sub-{uuid.uuid4().hex[:8]}"
    view = Recording(delay=0.05)
    first_client = clients(client_id)
    mule = subscriber(view, first_client, "plain/t", qos=1)
    publish(clients(), lambda n: "plain/t", range(60))
    view.wait_for(5)
    assert mule.stop(0.2) is False  # not everything in the grace
    deadline = time.monotonic() + 5
    while mule.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)  # the handler running at the deadline finishes and acknowledges
    time.sleep(0.1)
    first_client.close()
    handled_first = view.numbers()
    assert len(handled_first) < 60
    again = Recording()
    later = subscriber(again, clients(client_id), "plain/t", qos=1)
    rest = again.wait_for(60 - len(handled_first))
    assert sorted(set(handled_first) | set(rest)) == list(range(60))
    assert not set(handled_first) & set(rest)  # handled ones were acknowledged
    assert later.stop(5)


def test_shared_qos1_handlers_run_under_each_senders_request_id_and_are_counted(
    clients: Callable[..., MqttClient],
) -> None:
    """On the view's own threads (shared, QoS 1, 4 workers) each message runs under the
    request id of the request that published it, gets it as request_id=, and is counted
    in /_metrics's MQTT series (failures apart)."""
    view = Recording(delay=0.01, fail_on=3)
    app = SimpleNamespace(metrics=Metrics(), tracing=None)
    group = f"g{uuid.uuid4().hex[:6]}"
    mule = subscriber(view, clients(), "obs/+", app, qos=1, shared=group, max_workers=4)
    publisher = clients()
    for number in range(12):
        with bound(RequestContext(f"rid-{number}", None)):
            assert publisher.publish("local", f"obs/{number % 3}", {"n": number}, qos=1)
    assert publisher.flush("local", 10)
    assert sorted(view.wait_for(12)) == list(range(12))
    assert mule.stop(5)
    assert view.request_ids == {n: (f"rid-{n}", f"rid-{n}") for n in range(12)}
    assert current_request_id() is None  # nothing left bound on this thread
    text = app.metrics.render().decode()
    assert 'envoxy_mqtt_messages_total{outcome="ok",route="obs/+",server="local"} 11.0' in text
    assert 'envoxy_mqtt_messages_total{outcome="error",route="obs/+",server="local"} 1.0' in text
    assert 'envoxy_mqtt_message_duration_seconds_count{route="obs/+",server="local"} 12.0' in text


class BrokenMetrics(Metrics):
    """Metrics whose multiprocess directory is gone (removed, or /dev/shm unusable)."""

    def message_handled(self, *args: Any) -> None:
        raise FileNotFoundError("/dev/shm/envoxyd-metrics-1-x/counter_7.db")


def test_a_broken_metrics_directory_still_acknowledges_and_unbinds(
    clients: Callable[..., MqttClient],
) -> None:
    """Counting a message must not fail it: the message is acknowledged (not delivered
    again to the persistent session) and nothing is left in flight."""
    client_id = f"envoxy-sub-{uuid.uuid4().hex[:8]}"
    view = Recording()
    app = SimpleNamespace(metrics=BrokenMetrics(), tracing=None)
    first_client = clients(client_id)
    mule = subscriber(view, first_client, "broken/t", app, qos=1)
    publish(clients(), lambda n: "broken/t", range(3))
    assert view.wait_for(3) == [0, 1, 2]
    deadline = time.monotonic() + 5
    while mule.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert mule.in_flight == 0
    assert mule.stop(5)
    first_client.close()
    again = Recording()
    later = subscriber(again, clients(client_id), "broken/t", qos=1)
    time.sleep(0.5)
    assert again.handled == []  # all three were acknowledged
    assert later.stop(5)
