"""Settings of one ``mqtt_servers.<key>`` entry, and the broker credentials.

``bind`` is ``mqtt[s]://[user:password@]host[:port]``; the user and password are
percent-decoded, so any character can be written (``p%40ss`` is ``p@ss``).
Without them, the credentials provider (``Config.get_credentials()``) supplies
``client_id``/``access_token`` as user and password; without those the client
connects anonymously.

``mqtts`` verifies the broker with ``cert_path`` (else the system CAs); ``client_cert``
and ``client_key`` (always together, ``client_key_password`` when the key is encrypted)
answer a broker that requires client certificates (mutual TLS). A ``client_id`` is the
replica's: each process qualifies it (:func:`envoxy.utils.identity.qualified_id`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from envoxy.exceptions import ConfigError
from envoxy.utils.conversions import as_bool
from envoxy.utils.settings import integer, optional_str, seconds, url

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_KEEPALIVE",
    "DEFAULT_PORTS",
    "RECONNECT_MAX_DELAY",
    "RECONNECT_MIN_DELAY",
    "SECTION",
    "MqttServerSettings",
]

#: The ``envoxy.json`` section holding the MQTT server keys.
SECTION = "mqtt_servers"

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
    :param client_cert: client certificate (PEM) for mutual TLS.
    :param client_key: its private key (PEM).
    :param client_key_password: the password of an encrypted ``client_key``.
    :param username: from ``bind`` (``None`` when absent).
    :param password: from ``bind``.
    :param client_id: the MQTT client id of the replica (``None``: one is generated per
        connection); each process qualifies it with its tag.
    :param keepalive: seconds between pings.
    :param connect_timeout: seconds to wait for a connection.
    :param persistent_session: keep the broker session (subscriptions and queued
        QoS 1/2 messages) across reconnects; needs ``client_id``.
    :param where: the config location named in messages (``"mqtt_servers.<key>"``).
    """

    SECTION: ClassVar[str] = SECTION
    KEYS: ClassVar[frozenset[str]] = frozenset(
        {
            "bind",
            "cert_path",
            "client_cert",
            "client_key",
            "client_key_password",
            "client_id",
            "keepalive",
            "connect_timeout",
            "persistent_session",
        }
    )

    key: str
    host: str
    port: int
    tls: bool = False
    cert_path: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    client_key_password: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_id: str | None = None
    keepalive: int = DEFAULT_KEEPALIVE
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    persistent_session: bool = False
    where: str = ""

    def __post_init__(self) -> None:
        if not self.where:
            object.__setattr__(self, "where", f"{SECTION}.{self.key}")

    @classmethod
    def from_config(
        cls, key: str, conf: Mapping[str, Any], *, where: str | None = None
    ) -> "MqttServerSettings":
        """Read one ``mqtt_servers.<key>`` entry.

        :param where: the location named in messages; default ``"mqtt_servers.<key>"``.
        :raises ConfigError: naming the setting when ``bind`` is missing or malformed,
            a number is invalid, ``persistent_session`` lacks a ``client_id``, a client
            certificate comes without its key (or the reverse), or with a plain
            ``mqtt://`` broker.
        """
        where = where or f"{SECTION}.{key}"
        bind = url(
            conf.get("bind"),
            f"{where}.bind",
            schemes=DEFAULT_PORTS,
            example="mqtt://user:password@127.0.0.1:1883",
            path=False,
        )
        client_id = optional_str(conf, "client_id", where)
        persistent = as_bool(conf.get("persistent_session", False), f"{where}.persistent_session")
        if persistent and not client_id:
            raise ConfigError(
                f"{where}.persistent_session needs a fixed {where}.client_id: the broker "
                "finds the session by client id"
            )
        tls = bind.scheme == "mqtts"
        files = {name: optional_str(conf, name, where) for name in _TLS_FILES}
        _check_tls_files(files, tls, where)
        return cls(
            key=key,
            host=bind.host,
            port=bind.port or DEFAULT_PORTS[bind.scheme],
            tls=tls,
            cert_path=files["cert_path"],
            client_cert=files["client_cert"],
            client_key=files["client_key"],
            client_key_password=optional_str(conf, "client_key_password", where),
            username=bind.user,
            password=bind.password,
            client_id=client_id,
            keepalive=integer(conf, "keepalive", DEFAULT_KEEPALIVE, where, minimum=1),
            connect_timeout=seconds(conf, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, where),
            persistent_session=persistent,
            where=where,
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


#: The TLS file settings.
_TLS_FILES = ("cert_path", "client_cert", "client_key")


def _check_tls_files(files: Mapping[str, str | None], tls: bool, where: str) -> None:
    """Refuse a client certificate without TLS, or without its key (or the reverse)."""
    # cert_path alone on mqtt:// is ignored, as it always was
    given = [name for name in ("client_cert", "client_key") if files[name]]
    if given and not tls:
        raise ConfigError(
            f"{where}.{given[0]} needs TLS: write bind as mqtts://host[:port] "
            "(or remove the client certificate)"
        )
    if len(given) == 1:
        missing = "client_key" if given[0] == "client_cert" else "client_cert"
        raise ConfigError(
            f"{where}.{missing} is required with {given[0]}: mutual TLS needs the client "
            "certificate and its private key"
        )
