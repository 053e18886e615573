"""MQTT payloads: the Envoxy envelope on the way out, decoding on the way in.

An enveloped message is a copy of the caller's dict plus ``headers`` (generated,
with any ``headers`` of the message merged over them) and ``resource`` (the
topic). A received payload that is such an envelope is given to callbacks as the
message without ``headers`` and ``resource``, and its headers as ``headers=``.
"""

import functools
from collections.abc import Mapping
from typing import Any

import orjson

from envoxy.exceptions import ValidationException
from envoxy.utils.encoders import envoxy_json_dumps, envoxy_json_loads
from envoxy.zeromq.headers import generate_headers, generated_headers_json

__all__ = ["decode_payload", "encode_message"]

#: Topics are few and repeated: keep their JSON encoding.
_json_topic = functools.lru_cache(maxsize=1024)(orjson.dumps)


def encode_message(topic: str, message: Any, no_envelope: bool = False) -> bytes:
    """Return the bytes to publish for ``message`` on ``topic``.

    :param no_envelope: send ``message`` JSON-encoded (bytes as is) without the envelope.
    :raises ValidationException: (400) when an enveloped message is not a dict, or
        the message cannot be encoded as JSON.
    """
    if no_envelope:
        if isinstance(message, bytes | bytearray | memoryview):
            return bytes(message)
        body: Any = message
    elif type(message) is dict and "headers" not in message and "resource" not in message:
        # The common case, built as bytes: the message's JSON object with the encoded
        # headers and topic appended, exactly what encoding
        # {**message, "headers": ..., "resource": topic} gives, without the copy.
        try:
            body = envoxy_json_dumps(message)
        except (TypeError, ValueError) as exc:
            raise _unencodable(topic, exc) from exc
        return b'%s"headers":%s,"resource":%s}' % (
            b"{" if body == b"{}" else body[:-1] + b",",
            generated_headers_json(),
            _json_topic(topic),
        )
    elif isinstance(message, Mapping):
        headers = generate_headers()
        given = message.get("headers")
        if given and isinstance(given, Mapping):
            headers.update(given)
        body = dict(message)
        body["headers"] = headers
        body["resource"] = topic
    else:
        raise ValidationException(
            f"mqttc: an enveloped message must be a dict, got {type(message).__name__}; "
            "pass no_envelope=True to send other values",
            code=0,
            status=400,
        )
    try:
        return envoxy_json_dumps(body)
    except (TypeError, ValueError) as exc:
        raise _unencodable(topic, exc) from exc


def _unencodable(topic: str, exc: Exception) -> ValidationException:
    return ValidationException(
        f"mqttc: the message to {topic!r} cannot be encoded as JSON: {exc}", code=0, status=400
    )


def decode_payload(raw: bytes) -> tuple[Any, dict[str, Any] | None]:
    """Return ``(payload, headers)`` of a received message.

    ``payload`` is the decoded JSON (without ``headers``/``resource`` for an
    envelope) or the raw bytes when they are not JSON; ``headers`` is the
    envelope's headers, or ``None`` when the payload is not an envelope.
    """
    try:
        decoded = envoxy_json_loads(raw)
    except ValueError:
        return raw, None
    if (
        isinstance(decoded, dict)
        and isinstance(decoded.get("headers"), dict)
        and isinstance(decoded.get("resource"), str)
    ):
        headers = decoded.pop("headers")
        del decoded["resource"]
        return decoded, headers
    return decoded, None
