"""The "Zapata" request envelope: building requests, cleaning and validating replies.

A request is ``{"resource", "headers", "params", "payload", "performative"}``;
peers written for the original envoxy read exactly these keys.
"""

from collections.abc import Mapping
from typing import Any

from envoxy.exceptions import ValidationException
from envoxy.utils.encoders import envoxy_json_dumps
from envoxy.zeromq.exceptions import SERVICE_UNAVAILABLE, PayloadEncodingError, ZmqUnavailableError
from envoxy.zeromq.headers import generate_headers

__all__ = [
    "SERVICE_UNAVAILABLE",
    "build_request",
    "clean_response",
    "encode_request",
    "prepare_message",
    "service_unavailable",
    "validate_response",
]


_REMOVED_REPLY_KEYS = ("protocol", "performative")


def build_request(
    performative: int,
    url: str,
    params: Any = None,
    payload: Any = None,
    headers: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a request envelope: generated headers with ``headers`` merged over them.

    :param performative: the integer verb (:class:`envoxy.constants.Performative`).
    :param url: the resource path, e.g. ``/v3/users/1``.
    :param params: query parameters, sent as is.
    :param payload: the body, sent as is.
    :param headers: caller headers; they win over the generated ones.
    """
    request_headers = generate_headers()
    if headers:
        request_headers.update(headers)
    return {
        "resource": url,
        "headers": request_headers,
        "params": params,
        "payload": payload,
        "performative": int(performative),
    }


def prepare_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of a prepared request with headers generated when missing.

    :param message: a dict with at least ``resource`` and ``performative``.
    :raises ValidationException: (status 412) when ``resource`` or ``performative``
        is missing or ``performative`` is not an integer.
    """
    for required in ("resource", "performative"):
        if message.get(required) is None:
            raise ValidationException(
                f"zmq message needs '{required}' (a prepared request has 'resource', "
                "'performative' and optionally 'headers', 'params', 'payload')",
                code=0,
                status=412,
            )
    performative = message["performative"]
    if isinstance(performative, bool) or not isinstance(performative, int):
        raise ValidationException(
            f"zmq message 'performative' must be an integer, got {performative!r}",
            code=0,
            status=412,
        )
    prepared = dict(message)
    prepared["performative"] = int(performative)
    headers = message.get("headers")
    prepared["headers"] = dict(headers) if headers else generate_headers()
    return prepared


def encode_request(message: Mapping[str, Any]) -> bytes:
    """Encode a request as JSON bytes.

    :raises PayloadEncodingError: when a value cannot be encoded.
    """
    try:
        return envoxy_json_dumps(message)
    except (TypeError, ValueError) as exc:
        raise PayloadEncodingError(
            f"zmq request to {message.get('resource')!r} cannot be encoded as JSON: {exc}; "
            "pass JSON-compatible params and payload"
        ) from exc


def clean_response(response: Any) -> Any:
    """Remove ``headers.X-Cid``, ``protocol`` and ``performative`` from a reply, in place."""
    if isinstance(response, dict):
        headers = response.get("headers")
        if isinstance(headers, dict):
            headers.pop("X-Cid", None)
        for key in _REMOVED_REPLY_KEYS:
            response.pop(key, None)
    return response


def service_unavailable() -> ZmqUnavailableError:
    """Return the error raised for a missing reply: ``"Service Unavailable"``, a
    ``ValidationException`` with code 0 and status 503."""
    return ZmqUnavailableError(SERVICE_UNAVAILABLE)


def validate_response(response: Any) -> Any:
    """Return ``response`` when it is a success, else raise.

    :param response: a reply dict (``status``, ``resource``, ``payload``) or ``None``.
    :raises ZmqUnavailableError: ``"Service Unavailable"`` (503) for ``None``.
    :raises ValidationException: for a
        status other than 200/201 (unless the payload holds both ``elements`` and
        ``_id``), the payload's ``text`` (or ``"Resource error, code: <status>,
        <resource>"``) with the payload's ``code`` (or 0) and the reply's status.
    """
    if response is None:
        raise service_unavailable()
    status = response.get("status")
    if status in (200, 201):
        return response
    payload = response.get("payload")
    if not isinstance(payload, dict):
        payload = {}
    if "elements" in payload and "_id" in payload:
        return response
    message = payload.get("text") or (f"Resource error, code: {status}, {response.get('resource')}")
    raise ValidationException(message, code=payload.get("code") or 0, status=_as_status(status))


def _as_status(status: Any) -> int:
    try:
        return int(status)
    except (TypeError, ValueError):
        return 500
