"""MQTT client (``mqttc``) on paho-mqtt 2.

Usage::

    from envoxy.mqtt import mqttc

    mqttc.publish("default", "/v3/devices/42/state", {"on": True})
    mqttc.subscribe("default", "/v3/devices/+/state", on_state)

    def on_state(payload, *, topic, qos, retain, headers=None): ...

Servers come from ``mqtt_servers`` in ``envoxy.json``; nothing is read, imported
(paho) or connected until a key is first used. See ``docs/MQTT.md``.
"""

from envoxy.mqtt.client import MqttClient
from envoxy.mqtt.dispatcher import Dispatcher

__all__ = ["Dispatcher", "MqttClient", "mqttc"]

#: The process-wide MQTT client (the :class:`Dispatcher` class, as in the original).
mqttc = Dispatcher
