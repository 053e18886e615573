"""Settings of one ``mqtt_servers.<key>`` entry, and the broker credentials.

``bind`` is ``mqtt[s]://[user:password@]host[:port]``; the user and password are
percent-decoded, so any character can be written (``p%40ss`` is ``p@ss``).
Without them, the credentials provider (``Config.get_credentials()``) supplies
``client_id``/``access_token`` as user and password; without those the client
connects anonymously.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from envoxy.exceptions import ConfigError
from envoxy.utils.config import as_bool, as_float, as_int

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_KEEPALIVE",
    "DEFAULT_PORTS",
    "RECONNECT_MAX_DELAY",
    "RECONNECT_MIN_DELAY",
    "MqttServerSettings",
]

#: Seconds to wait for the broker to accept a connection (TCP, TLS and CONNACK).
DEFAULT_CONNECT_TIMEOUT = 10.0
#: Seconds between keepalive pings; the broker drops a silent client after 1.5 times this.
DEFAULT_KEEPALIVE = 60
#: Port used when ``bind`` names none.
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
#: First delay, in seconds, before reconnecting after a lost connection.
RECONNECT_MIN_DELAY = 1
#: Cap of the reconnect delay, which doubles after each failed attempt.
RECONNECT_MAX_DELAY = 30


@dataclass(frozen=True, slots=True)
class MqttServerSettings:
    """The settings of one MQTT server key.

    :param key: the server key.
    :param host: broker host. :param port: broker port.
    :param tls: true for ``mqtts``.
    :param cert_path: CA bundle that verifies the broker (``None``: the system CAs).
    :param username: from ``bind`` (``None`` when absent).
    :param password: from ``bind``.
    :param client_id: the MQTT client id (``None``: one is generated per connection).
    :param keepalive: seconds between pings.
    :param connect_timeout: seconds to wait for a connection.
    :param persistent_session: keep the broker session (subscriptions and queued
        QoS 1/2 messages) across reconnects; needs ``client_id``.
    """

    key: str
    host: str
    port: int
    tls: bool = False
    cert_path: str | None = None
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    keepalive: int = DEFAULT_KEEPALIVE
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    persistent_session: bool = False

    @classmethod
    def from_config(cls, key: str, conf: Mapping[str, Any]) -> "MqttServerSettings":
        """Read one ``mqtt_servers.<key>`` entry.

        :raises ConfigError: naming the setting when ``bind`` is missing or malformed,
            a number is invalid, or ``persistent_session`` lacks a ``client_id``.
        """
        where = f"mqtt_servers.{key}"
        bind = conf.get("bind")
        if not isinstance(bind, str) or not bind:
            raise ConfigError(
                f'{where}.bind is required, e.g. "mqtt://user:password@127.0.0.1:1883"'
            )
        scheme, host, port, username, password = _parse_bind(bind, f"{where}.bind")
        keepalive = as_int(conf.get("keepalive", DEFAULT_KEEPALIVE), f"{where}.keepalive")
        connect_timeout = as_float(
            conf.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT), f"{where}.connect_timeout"
        )
        if keepalive < 1:
            raise ConfigError(f"{where}.keepalive must be 1 second or more, not {keepalive}")
        if connect_timeout <= 0:
            raise ConfigError(
                f"{where}.connect_timeout must be a positive number of seconds, not "
                f"{connect_timeout}"
            )
        client_id = conf.get("client_id") or None
        persistent = as_bool(conf.get("persistent_session", False), f"{where}.persistent_session")
        if persistent and not client_id:
            raise ConfigError(
                f"{where}.persistent_session needs a fixed {where}.client_id: the broker "
                "finds the session by client id"
            )
        cert_path = conf.get("cert_path") or None
        return cls(
            key=key,
            host=host,
            port=port,
            tls=scheme == "mqtts",
            cert_path=str(cert_path) if cert_path else None,
            username=username,
            password=password,
            client_id=str(client_id) if client_id else None,
            keepalive=keepalive,
            connect_timeout=connect_timeout,
            persistent_session=persistent,
        )

    def credentials(self, provided: Mapping[str, Any]) -> tuple[str | None, str | None]:
        """Return ``(username, password)``: those of ``bind``, else the provider's.

        :param provided: the result of ``Config.get_credentials()``.
        """
        if self.username is not None:
            return self.username, self.password
        client_id = provided.get("client_id") if provided else None
        if client_id:
            token = provided.get("access_token")
            return str(client_id), None if token is None else str(token)
        return None, None


def _parse_bind(bind: str, name: str) -> tuple[str, str, int, str | None, str | None]:
    parts = urlsplit(bind)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ConfigError(
            f"{name} must start with mqtt:// or mqtts://, got {bind.split('://')[0]!r}"
        )
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise ConfigError(f"{name} has an invalid port: {exc}") from exc
    if not parts.hostname:
        raise ConfigError(f'{name} names no host, e.g. "mqtt://127.0.0.1:1883"')
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(
            f"{name} must be mqtt[s]://[user:password@]host[:port]; percent-encode "
            "'/', '?', '#' and '@' in the user and password"
        )
    username = None if parts.username is None else unquote(parts.username)
    password = None if parts.password is None else unquote(parts.password)
    return scheme, parts.hostname, port, username, password
