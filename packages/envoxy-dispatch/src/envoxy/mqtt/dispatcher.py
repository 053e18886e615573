"""``mqttc``: the process-wide MQTT client, called as in the original envoxy.

Every method is static and uses one :class:`~envoxy.mqtt.client.MqttClient`
configured from ``mqtt_servers`` in ``envoxy.json``, created on first use.
"""

import threading
from typing import Any

from envoxy.mqtt.client import MqttClient
from envoxy.mqtt.subscriptions import MessageCallback
from envoxy.zeromq.headers import generate_headers

__all__ = ["Dispatcher"]

_lock = threading.Lock()
_client: MqttClient | None = None


class Dispatcher:
    """Static facade over the process's :class:`MqttClient` (exported as ``mqttc``)."""

    generate_headers = staticmethod(generate_headers)

    @staticmethod
    def instance() -> MqttClient:
        """Return the process's client, creating it on first use."""
        return _client or _create_client()

    @staticmethod
    def initialize() -> None:
        """Create the process's client (it still connects on first use of a key)."""
        Dispatcher.instance()

    @staticmethod
    def publish(
        server_key: str,
        topic: str,
        message: Any,
        no_envelope: bool = False,
        qos: int = 0,
        retain: bool = False,
    ) -> bool:
        """Publish ``message`` on ``topic`` (see :meth:`MqttClient.publish`).

        :returns: True, or False (logged) when not connected within ``connect_timeout``.
        :raises ConfigError: for an unknown key. :raises ValidationException: when the
            message, topic or QoS is rejected.
        """
        return (_client or _create_client()).publish(
            server_key, topic, message, no_envelope, qos, retain
        )

    @staticmethod
    def subscribe(server_key: str, topic: str, callback: MessageCallback, qos: int = 0) -> bool:
        """Call ``callback(payload, topic=, qos=, retain=[, headers=])`` for each message
        on ``topic`` (see :meth:`MqttClient.subscribe`)."""
        return (_client or _create_client()).subscribe(server_key, topic, callback, qos)

    @staticmethod
    def unsubscribe(server_key: str, topic: str, callback: MessageCallback | None = None) -> None:
        """Remove ``callback`` (default: every callback) of ``topic``."""
        (_client or _create_client()).unsubscribe(server_key, topic, callback)

    @staticmethod
    def flush(server_key: str, timeout: float | None = None) -> bool:
        """Wait until the messages published on ``server_key`` left the process."""
        return (_client or _create_client()).flush(server_key, timeout)

    @staticmethod
    def close() -> None:
        """Disconnect every key; the next call reconnects from the current
        configuration. Idempotent."""
        global _client
        with _lock:
            client, _client = _client, None
        if client is not None:
            client.close()


def _create_client() -> MqttClient:
    global _client
    with _lock:
        if _client is None:
            _client = MqttClient()
        return _client
