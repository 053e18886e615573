"""The :class:`Response` container: a werkzeug response that speaks Envoxy's JSON conventions.

- a list becomes ``{"elements": [...], "size": n}``;
- a dict may carry ``status``, ``headers``, ``cookies`` and ``payload`` keys;
- ``str``/``bytes`` are sent unchanged (JSON or ``text/plain`` by content);
- every response carries ``Server: Envoxy Server`` and an RFC 7231 ``Date``.

.. versionchanged:: 1.0
   ``Date`` is RFC 7231 (was a local ISO time); a numeric-string ``status`` is used;
   a ``None`` or ``str`` payload gives an empty or text body (was the dict's keys).
"""

import time
from collections.abc import Iterable, Mapping
from typing import Any

from werkzeug.http import http_date
from werkzeug.wrappers import Response as WerkzeugResponse

from envoxy.constants import SERVER_NAME
from envoxy.utils.encoders import envoxy_json_dumps, envoxy_json_loads

__all__ = ["HOP_BY_HOP_HEADERS", "Response", "http_date_now"]

#: headers a handler may not set through a ``headers`` key (RFC 7230 §6.1 plus Content-Length)
HOP_BY_HOP_HEADERS: frozenset[str] = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)

JSON_MIMETYPE = "application/json"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"


class Response(WerkzeugResponse):
    """A werkzeug :class:`~werkzeug.wrappers.Response` whose body follows Envoxy's rules.

    :param response: a dict, list, str, bytes, ``None`` or an iterable of bytes.
    :param status: the HTTP status when the body does not set one.
    :param headers: extra headers.
    :param mimetype: the mimetype (default ``application/json``).
    :param content_type: the full Content-Type, overriding ``mimetype``.
    :raises TypeError: when a dict or list holds a value the JSON encoder cannot handle.
    """

    default_mimetype = JSON_MIMETYPE

    def __init__(
        self,
        response: Any = None,
        status: int | str | None = None,
        headers: Any = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        extra_headers: Mapping[str, Any] | None = None
        cookies: Iterable[Mapping[str, Any]] = ()
        body = response
        if isinstance(response, dict):
            status = _dict_status(response, status)
            extra_headers = response.get("headers") if "headers" in response else None
            cookies = response.get("cookies") or ()
            body = response.get("payload", response)
        if isinstance(body, list):
            body = envoxy_json_dumps({"elements": body, "size": len(body)})
        elif isinstance(body, dict):
            body = envoxy_json_dumps(body)
        elif body is None:
            body = b""
        elif isinstance(body, str | bytes) and mimetype is None and content_type is None:
            content_type = JSON_MIMETYPE if _is_json_text(body) else TEXT_CONTENT_TYPE
        super().__init__(body, status, headers, mimetype, content_type, direct_passthrough)
        response_headers = self.headers
        response_headers["Server"] = SERVER_NAME
        response_headers["Date"] = http_date_now()
        if extra_headers:
            for name, value in extra_headers.items():
                if name.lower() not in HOP_BY_HOP_HEADERS:
                    response_headers[name] = str(value)
        for cookie in cookies:
            self.set_cookie(**cookie)


def http_date_now() -> str:
    """Return the current time as an RFC 7231 date, computed at most once per second."""
    now = int(time.time())
    cached = _DATE_CACHE
    if cached[0] != now:
        cached[1] = http_date(now)
        cached[0] = now
    return cached[1]  # type: ignore[return-value]


_DATE_CACHE: list[int | str] = [0, ""]


def _dict_status(body: Mapping[str, Any], default: int | str | None) -> int | str | None:
    value = body.get("status")
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return default


def _is_json_text(body: str | bytes) -> bool:
    if not body.strip():
        return False
    try:
        envoxy_json_loads(body)
    except (ValueError, TypeError):
        return False
    return True
