"""``mqttc``: the process-wide MQTT client, called as in the original envoxy.

Every method is the bound method of one :class:`~envoxy.mqtt.client.MqttClient`
configured from ``mqtt_servers`` in ``envoxy.json`` (see
:class:`~envoxy.utils.facade.ClientFacade`); it connects a key on first use.
"""

from envoxy.mqtt.client import MqttClient
from envoxy.utils.deprecation import deprecated_aliases
from envoxy.utils.facade import ClientFacade
from envoxy.zeromq.headers import generate_headers

__all__ = ["Dispatcher"]

#: 0.7 names kept in :mod:`envoxy.mqtt.legacy`; each warns once.
__getattr__ = deprecated_aliases(
    __name__,
    {
        "MqttConnector": ("envoxy.mqtt.legacy", "MqttConnector", "envoxy.mqtt.mqttc"),
        "RC_LIST": ("envoxy.mqtt.legacy", "RC_LIST", "paho.mqtt.client.connack_string"),
    },
)

_default = MqttClient()


class Dispatcher(ClientFacade[MqttClient], client=_default):
    """Static facade over the process's :class:`MqttClient` (exported as ``mqttc``).

    See :class:`~envoxy.mqtt.client.MqttClient` for each method and the errors it raises.
    """

    generate_headers = staticmethod(generate_headers)
    publish = staticmethod(_default.publish)
    subscribe = staticmethod(_default.subscribe)
    unsubscribe = staticmethod(_default.unsubscribe)
    flush = staticmethod(_default.flush)
    is_connected = staticmethod(_default.is_connected)
    close = staticmethod(_default.close)

    @staticmethod
    def initialize() -> None:
        """Kept from envoxy 0.7: the client exists already and connects a key on first use."""
