"""Acknowledging a received QoS 1/2 message once every listener is done with it.

With manual acknowledgements (paho's ``manual_ack=True``) the broker keeps a message
until the client acknowledges it, and sends it again (``dup``) to a session that
resumes without that acknowledgement. A :class:`Delivery` counts the parts of one
received message still in progress (the listeners that return, and each one that
acknowledges later through its ``ack``) and acknowledges it when the last part ends:
so a message is acknowledged only once it was handled, which is what makes delivery
at least once across a crash.

An acknowledgement is never sent on a later connection than the one the message came
on: after a reconnection the packet id may name another message (a clean session) or
the broker re-sends the message anyway (a persistent one).
"""

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from envoxy.mqtt.payloads import decode_payload
from envoxy.mqtt.subscriptions import Listener
from envoxy.utils.logs import log

__all__ = ["Acknowledger", "Delivery", "call_listeners"]


class Acknowledger(Protocol):
    """What sends the acknowledgement: the connection the message came on."""

    def acknowledge(self, mid: int, qos: int, generation: int) -> None:
        """Acknowledge ``mid`` if the connection is still ``generation``."""


def call_listeners(
    listeners: Sequence[Listener], message: Any, delivery: "Delivery | None", name: str
) -> None:
    """Call every listener of a received paho ``message``, then end the delivering
    thread's part of ``delivery`` (``None``: paho acknowledges, or QoS 0).

    Each callback gets its own decoded copy of the payload, so one cannot alter
    another's; a ``manual_ack`` one also gets ``ack=`` (its part of ``delivery``), which
    is ended for it when it raises. An exception is logged with its traceback.

    :param name: names the client in log lines (``"mqttc <key>"``).
    """
    topic = message.topic
    meta: dict[str, Any] = {"topic": topic, "qos": message.qos, "retain": bool(message.retain)}
    for position, listener in enumerate(listeners):
        payload, headers = decode_payload(message.payload)
        if headers is not None:
            meta["headers"] = headers
        arguments = meta
        ack = _no_ack
        if listener.manual_ack:
            if delivery is not None:
                ack = delivery.part()
            arguments = {**meta, "ack": ack}
        try:
            listener.callback(payload, **arguments)
        except Exception as exc:
            ack()
            log.error(
                f"{name}: callback {position + 1} of {topic!r} raised {type(exc).__name__}: {exc}",
                exc_info=True,
            )
    if delivery is not None:
        delivery.release()


class Delivery:
    """One received QoS 1/2 message, acknowledged when its last part ends.

    :param connection: sends the acknowledgement.
    :param mid: the message's packet id. :param qos: its QoS (1 or 2).
    :param generation: the connection's generation when the message came.
    """

    __slots__ = ("_connection", "_generation", "_lock", "_mid", "_pending", "_qos")

    def __init__(self, connection: Acknowledger, mid: int, qos: int, generation: int) -> None:
        self._connection = connection
        self._mid = mid
        self._qos = qos
        self._generation = generation
        self._lock = threading.Lock()
        # the delivering thread holds one part until every listener was called
        self._pending = 1

    def part(self) -> Callable[[], None]:
        """Return the ``ack`` of one more listener: the first call ends its part, later
        calls do nothing."""
        with self._lock:
            self._pending += 1
        open_part = [True]

        def ack() -> None:
            with self._lock:
                if not open_part[0]:
                    return
                open_part[0] = False
            self.release()

        return ack

    def release(self) -> None:
        """End one part; the last one sends the acknowledgement."""
        with self._lock:
            self._pending -= 1
            done = self._pending == 0
        if done:
            # outside the lock: no paho call is made while holding one of our locks
            self._connection.acknowledge(self._mid, self._qos, self._generation)


def _no_ack() -> None:
    """The ``ack`` of a message that needs none (QoS 0, or acknowledged by paho)."""
