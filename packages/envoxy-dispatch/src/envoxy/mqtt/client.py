"""The MQTT client behind ``mqttc``: one paho connection per server key.

Connections are created on first use of their key (nothing is read, imported or
connected before), shared by every thread of the process, and recreated in a
forked child, where the parent's network thread does not exist (see
:class:`~envoxy.utils.registry.ClientRegistry`). The parent's connections are left
alone there: disconnecting would end the parent's session.
"""

from collections.abc import Callable, Mapping
from typing import Any

from envoxy.mqtt.connection import MqttConnection
from envoxy.mqtt.payloads import encode_message
from envoxy.mqtt.settings import SECTION, MqttServerSettings
from envoxy.mqtt.subscriptions import MessageCallback
from envoxy.utils.config import Config
from envoxy.utils.imports import require
from envoxy.utils.observe import observed
from envoxy.utils.registry import ClientRegistry
from envoxy.utils.settings import server_conf

__all__ = ["MqttClient"]

_EXTRA = "envoxy-dispatch[mqtt]"


class MqttClient:
    """Publish and subscribe on the brokers of ``mqtt_servers``.

    :param servers: the ``mqtt_servers`` mapping to use instead of ``envoxy.json``.
    :param credentials: returns ``{"client_id", "access_token"}`` when ``bind`` has
        no user; default ``Config.get_credentials``.
    """

    def __init__(
        self,
        servers: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        credentials: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        self._servers = servers
        self._credentials = credentials or Config.get_credentials
        self._connections: ClientRegistry[MqttConnection] = ClientRegistry(
            self._connect, MqttConnection.close
        )

    @observed("mqtt")
    def publish(
        self,
        server_key: str,
        topic: str,
        message: Any,
        no_envelope: bool = False,
        qos: int = 0,
        retain: bool = False,
    ) -> bool:
        """Publish ``message`` on ``topic``.

        :param message: a dict (enveloped: a copy plus ``headers`` and ``resource``; the
            caller's dict is never changed); with ``no_envelope`` any JSON value, or bytes
            sent as is.
        :returns: True once handed to the client library; False (logged) when there is
            no connection within ``connect_timeout``.
        :raises ConfigError: for an unknown key or bad settings.
        :raises ValidationException: when the message, topic or QoS is rejected.
        """
        connection = self._connections.get(server_key)
        return connection.publish(topic, encode_message(topic, message, no_envelope), qos, retain)

    def subscribe(
        self,
        server_key: str,
        topic: str,
        callback: MessageCallback,
        qos: int = 0,
        *,
        manual_ack: bool = False,
    ) -> bool:
        """Call ``callback(payload, topic=, qos=, retain=[, headers=])`` for each message
        on ``topic`` (``+`` and ``#`` wildcards allowed; ``$share/<group>/<filter>`` for a
        shared subscription).

        Callbacks run on the connection's network thread: keep them short. An exception
        is logged and delivery continues. The subscription is renewed after every
        reconnection.

        :param manual_ack: the callback also receives ``ack=``, to call (from any thread)
            once it is done with the message: a QoS 1/2 message is acknowledged only then,
            so the broker sends it again if the process dies before. It must be the
            key's first subscription, before anything else starts the connection.
        :returns: True when the broker granted it; False (logged) otherwise (it is
            retried on the next connection).
        :raises ConfigError: for an unknown key. :raises ValidationException: for an
            invalid filter or QoS, or ``manual_ack`` on a key already connected without.
        """
        connection = self._connections.get(server_key)
        return connection.subscribe(topic, callback, qos, manual_ack)

    def unsubscribe(
        self, server_key: str, topic: str, callback: MessageCallback | None = None
    ) -> None:
        """Remove ``callback`` (default: every callback) of ``topic``."""
        connection = self._connections.peek(server_key)
        if connection is not None:
            connection.unsubscribe(topic, callback)

    def flush(self, server_key: str, timeout: float | None = None) -> bool:
        """Wait until every message published on ``server_key`` left the process (QoS 0)
        or was acknowledged (QoS 1/2).

        :param timeout: seconds; default the server's ``connect_timeout``.
        :returns: whether that happened in time.
        """
        connection = self._connections.peek(server_key)
        return True if connection is None else connection.flush(timeout)

    def is_connected(self, server_key: str) -> bool:
        """Return whether ``server_key`` has a live connection (never connects)."""
        connection = self._connections.peek(server_key)
        return connection is not None and connection.connected

    def connection(self, server_key: str) -> MqttConnection:
        """Return the connection of ``server_key``, starting it when needed."""
        return self._connections.get(server_key)

    def close(self, server_key: str | None = None) -> None:
        """Disconnect ``server_key`` (default: every key). Idempotent; a later call
        connects again."""
        if server_key is None:
            self._connections.close()
        else:
            self._connections.discard(server_key)

    def _connect(self, server_key: str) -> MqttConnection:
        paho = require("paho.mqtt.client", _EXTRA)
        conf = server_conf(SECTION, server_key, self._servers)
        return MqttConnection(
            paho, MqttServerSettings.from_config(server_key, conf), self._credentials
        )
