"""envoxy 0.7's ``MqttConnector`` and ``RC_LIST``, kept so that old code runs.

Reached through their old paths (``envoxy.mqtt.dispatcher.MqttConnector``...), which
warn once. ``MqttConnector.instance()`` is the process-wide client behind ``mqttc``;
its ``publish`` takes ``(server_key, topic, message, no_envelope=False, qos=0,
retain=False)`` (0.7's ``headers=`` go in the message's own ``headers``).
"""

from envoxy.mqtt.client import MqttClient
from envoxy.mqtt.dispatcher import Dispatcher

__all__ = ["RC_LIST", "MqttConnector"]

#: 0.7's text of each MQTT 3.1.1 CONNACK return code (paho: ``connack_string``).
RC_LIST: dict[int, str] = {
    0: "Connection successful",
    1: "Connection refused - incorrect protocol version",
    2: "Connection refused - invalid client identifier",
    3: "Connection refused - server unavailable",
    4: "Connection refused - bad username or password",
    5: "Connection refused - not authorised",
}


class MqttConnector:
    """0.7's ``MqttConnector`` singleton.

    .. deprecated:: 1.0
       Use ``mqttc`` (``mqttc.instance()`` is the same client).
    """

    @staticmethod
    def instance() -> MqttClient:
        """Return the process-wide :class:`MqttClient` behind ``mqttc``."""
        return Dispatcher.instance()
