"""The TLS context of an ``mqtts`` server key: the broker verified, a client certificate
presented for mutual TLS.

Built with :func:`ssl.create_default_context` (certificate and host name checked) and
handed to paho with ``tls_set_context``; each file is loaded on its own, so an error
names the setting at fault. The key's password never appears in a message.
"""

import ssl

from envoxy.exceptions import ConfigError
from envoxy.mqtt.settings import MqttServerSettings

__all__ = ["tls_context"]


def tls_context(settings: MqttServerSettings) -> ssl.SSLContext:
    """Return the context that verifies the broker with ``cert_path`` (else the system
    CAs) and presents ``client_cert``/``client_key`` when they are set.

    :raises ConfigError: naming ``cert_path``, or ``client_cert``/``client_key``, when a
        file cannot be read or used (a wrong ``client_key_password`` included).
    """
    where = settings.where
    try:
        context = ssl.create_default_context(cafile=settings.cert_path)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{where}.cert_path: cannot load the CA bundle {settings.cert_path!r} ({_reason(exc)})"
        ) from exc
    if settings.client_cert:
        try:
            context.load_cert_chain(
                settings.client_cert, settings.client_key, settings.client_key_password
            )
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{where}.client_cert/client_key: cannot load the client certificate "
                f"{settings.client_cert!r} with its key {settings.client_key!r} "
                f"({_reason(exc)}); an encrypted key needs {where}.client_key_password"
            ) from exc
    return context


def _reason(exc: BaseException) -> str:
    """The error's own words (an ``ssl.SSLError``'s reason, or an ``OSError``'s strerror)."""
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
    return f"{type(exc).__name__}: {reason}"
