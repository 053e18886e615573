"""Delivery: a received QoS 1/2 message acknowledged once, after its last part, on its
own connection only (no broker)."""

import threading

from envoxy.mqtt.acks import Delivery


class Connection:
    """Records acknowledgements, as MqttConnection.acknowledge would send them."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int, int]] = []

    def acknowledge(self, mid: int, qos: int, generation: int) -> None:
        self.sent.append((mid, qos, generation))


def test_acknowledged_after_the_delivering_thread_and_every_part() -> None:
    connection = Connection()
    delivery = Delivery(connection, 7, 1, 3)
    first, second = delivery.part(), delivery.part()
    delivery.release()  # every listener was called
    first()
    assert connection.sent == []
    second()
    assert connection.sent == [(7, 1, 3)]


def test_a_part_called_twice_counts_once() -> None:
    connection = Connection()
    delivery = Delivery(connection, 1, 1, 0)
    first, second = delivery.part(), delivery.part()
    delivery.release()
    first()
    first()
    assert connection.sent == []
    second()
    assert connection.sent == [(1, 1, 0)]


def test_parts_ended_from_many_threads_acknowledge_exactly_once() -> None:
    connection = Connection()
    delivery = Delivery(connection, 9, 1, 0)
    parts = [delivery.part() for _ in range(64)]
    delivery.release()
    threads = [threading.Thread(target=part) for part in parts for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert connection.sent == [(9, 1, 0)]
