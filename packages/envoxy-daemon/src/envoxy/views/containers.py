"""The :class:`Response` container: a werkzeug response that speaks Envoxy's JSON conventions.

- a list becomes ``{"elements": [...], "size": n}``;
- a dict may carry ``status``, ``headers``, ``cookies`` and ``payload`` keys;
- ``str``/``bytes`` are sent unchanged (JSON or ``text/plain`` by content);
- every response carries ``Server: Envoxy Server`` and an RFC 7231 ``Date``.

A :class:`Response` is *lean* until something needs werkzeug: the constructor renders the
status line, the header list and the body bytes, and the app sends them as they are. The
first use of anything werkzeug provides (``headers``, ``set_cookie``, ``get_data``, setting
an attribute…) builds the werkzeug response from them, with the same status, headers and
body, and from then on werkzeug answers. So ``return Response({...})`` costs about what a
plain dict costs, and every werkzeug use still works. Cookies, ``direct_passthrough``,
iterable bodies, a ``str`` status and ``Location`` headers build the werkzeug response at
once.

.. versionchanged:: 1.0
   ``Date`` is RFC 7231 (was a local ISO time); a numeric-string ``status`` is used;
   a ``None`` or ``str`` payload gives an empty or text body (was the dict's keys).
.. versionchanged:: 1.1
   Lean until werkzeug is needed (same bytes on the wire).
"""

import copy
import re
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import Headers
from werkzeug.http import HTTP_STATUS_CODES, http_date
from werkzeug.utils import get_content_type
from werkzeug.wrappers import Response as WerkzeugResponse

from envoxy.constants import SERVER_NAME
from envoxy.utils.encoders import envoxy_json_dumps, envoxy_json_loads

__all__ = [
    "HOP_BY_HOP_HEADERS",
    "RESERVED_KEYS",
    "LeanAnswer",
    "Response",
    "ResponseValue",
    "answer_response",
    "http_date_now",
    "json_answer",
    "json_response",
    "private_copy",
    "send_adding",
    "send_answer",
]

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
#: dict keys that give a body a meaning beyond its JSON (status, headers, cookies, payload)
RESERVED_KEYS: frozenset[str] = frozenset({"status", "headers", "cookies", "payload"})

#: what a view handler may return: a response (sent as it is), a dict or list (JSON, as
#: ``Response(value)``), a str or bytes body, ``None`` (204), or ``(body, status[, headers])``
type ResponseValue = (
    WerkzeugResponse | dict[str, Any] | list[Any] | str | bytes | tuple[Any, ...] | None
)
#: (status code, status line, header list, body): a response not yet built by werkzeug
#: (the header list is never changed once made: a lean response may be sent many times)
type LeanAnswer = tuple[int, str, list[tuple[str, str]], bytes]


class Response(WerkzeugResponse):
    """A werkzeug :class:`~werkzeug.wrappers.Response` whose body follows Envoxy's rules.

    :param response: a dict, list, str, bytes, ``None`` or an iterable of bytes.
    :param status: the HTTP status when the body does not set one.
    :param headers: extra headers.
    :param mimetype: the mimetype (default ``application/json``).
    :param content_type: the full Content-Type, overriding ``mimetype``.
    :raises TypeError: when a dict or list holds a value the JSON encoder cannot handle.
    :raises ValueError: when a header value holds a newline.
    """

    default_mimetype = JSON_MIMETYPE
    #: the answer while no werkzeug response was built (``None`` afterwards)
    _lean: LeanAnswer | None = None

    def __init__(
        self,
        response: Any = None,
        status: int | str | None = None,
        headers: Any = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        kind = type(response)
        if (
            _LEAN
            and (kind is list or (kind is dict and RESERVED_KEYS.isdisjoint(response)))
            and status is None
            and headers is None
            and mimetype is None
            and content_type is None
            and not direct_passthrough
        ):  # Response({...}) / Response([...]): what the app does for a plain dict or list
            self.__dict__["_lean"] = json_answer(response)
            return
        extra_headers: Mapping[str, Any] | None = None
        cookies: Iterable[Mapping[str, Any]] = ()
        body = response
        if isinstance(response, dict):
            status = _dict_status(response, status)
            extra_headers = response.get("headers")
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
        if _LEAN and not cookies and not direct_passthrough:
            lean = _lean_answer(body, status, headers, mimetype, content_type, extra_headers)
            if lean is not None:
                self.__dict__["_lean"] = lean
                return
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

    @property
    def status_code(self) -> int:
        """The HTTP status code as a number (read without building the werkzeug response)."""
        lean = self._lean
        return lean[0] if lean is not None else self._status_code

    @status_code.setter
    def status_code(self, code: int) -> None:
        self.status = code

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Send the response: a lean one as it is, else through werkzeug."""
        lean = self._lean
        if lean is None:
            return super().__call__(environ, start_response)
        return send_answer(lean, environ, start_response)

    def send(self, environ: dict[str, Any], start_response: Any, header: tuple[str, str]) -> Any:
        """Send the response with ``header`` added (envoxyd's ``X-Request-ID``), leaving
        this object unchanged: a view may return the same response to every caller."""
        lean = self._lean
        if lean is None:
            return super().__call__(environ, _adding(start_response, header))
        return send_answer(lean, environ, start_response, header)

    def __setattr__(self, name: str, value: Any) -> None:
        # an attribute set on a lean response must land on the werkzeug response it stands for
        if self.__dict__.get("_lean") is not None:
            self._materialize()
        object.__setattr__(self, name, value)

    if not TYPE_CHECKING:  # keeps mypy checking attribute names

        def __getattr__(self, name: str) -> Any:
            # only called for attributes werkzeug sets in __init__: build it, then look again
            if name.startswith("__") or self.__dict__.get("_lean") is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            self._materialize()
            return getattr(self, name)

    def _materialize(self) -> None:
        """Build the werkzeug response from the lean answer (same status, headers, body)."""
        code, _line, headers, body = self.__dict__.pop("_lean")
        WerkzeugResponse.__init__(self, body, code, Headers(headers))


def send_adding(
    response: Any, environ: dict[str, Any], start_response: Any, header: tuple[str, str]
) -> Any:
    """Send any WSGI ``response`` with ``header`` added to the headers it starts with
    (:meth:`Response.send` without a copy of the headers for a lean one)."""
    if type(response) is Response:
        return response.send(environ, start_response, header)
    return response(environ, _adding(start_response, header))


def private_copy(response: Any) -> Any:
    """Return a copy of ``response`` whose headers can be changed without changing
    ``response``: a view may return one response object to every caller, so headers
    meant for one caller (CORS) go on a copy.

    A lean :class:`Response` stays lean; any other response is copied shallowly with its
    own :class:`~werkzeug.datastructures.Headers` (the body is shared, never changed).
    """
    lean = response.__dict__.get("_lean") if type(response) is Response else None
    if lean is not None:
        code, line, headers, body = lean
        copied = Response.__new__(Response)
        copied.__dict__["_lean"] = (code, line, list(headers), body)
        return copied
    copied = copy.copy(response)
    copied.headers = Headers(response.headers)
    return copied


def json_response(value: dict[str, Any] | list[Any]) -> Response:
    """Return ``Response(value)`` for a list, or a dict without ``status``, ``headers``,
    ``cookies`` and ``payload`` keys (the caller checked), skipping the key checks."""
    return answer_response(json_answer(value))


def answer_response(answer: LeanAnswer) -> Response:
    """Return the lean :class:`Response` that sends ``answer``."""
    response = Response.__new__(Response)
    response.__dict__["_lean"] = answer
    return response


def send_answer(
    answer: LeanAnswer,
    environ: dict[str, Any],
    start_response: Any,
    header: tuple[str, str] | None = None,
) -> list[bytes]:
    """Send a lean ``answer`` as WSGI, ``header`` (when given) added last, as werkzeug
    would send it (no length and no body for 1xx and 204, no body for HEAD); ``answer``
    is unchanged (the header list sent is a new one)."""
    code, line, headers, body = answer
    if code >= 200 and code != 204:
        start_response(line, [*headers, header] if header is not None else list(headers))
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]
    # 1xx and 204 (RFC 7230 §3.3.2), as werkzeug sends them: no length, no body
    sent = [item for item in headers if item[0].lower() != "content-length"]
    if header is not None:
        sent.append(header)
    start_response(line, sent)
    return []


def json_answer(value: dict[str, Any] | list[Any]) -> LeanAnswer:
    """The 200 answer of a plain dict or a list (wrapped as ``elements``/``size``): what
    ``Response(value)`` sends, without the object (the app sends it with
    :func:`send_answer`)."""
    if type(value) is list:
        value = {"elements": value, "size": len(value)}
    body = envoxy_json_dumps(value)
    headers = [_JSON_TYPE_HEADER, ("Content-Length", str(len(body))), _SERVER_HEADER]
    headers.append(_date_header())
    return 200, "200 OK", headers, body


def http_date_now() -> str:
    """Return the current time as an RFC 7231 date, computed at most once per second."""
    return _date_header()[1]


def _date_header() -> tuple[str, str]:
    """The ``Date`` header, made at most once per second."""
    now = int(time.time())
    cached = _DATE_CACHE
    if cached[0] != now:
        cached[1] = ("Date", http_date(now))
        cached[0] = now
    return cached[1]  # type: ignore[return-value]


#: False builds every Response with werkzeug in its constructor (the tests compare both)
_LEAN = True
_DATE_CACHE: list[int | tuple[str, str]] = [0, ("Date", "")]
_JSON_TYPE_HEADER = ("Content-Type", JSON_MIMETYPE)
_SERVER_HEADER = ("Server", SERVER_NAME)

#: werkzeug's status line for every code it names ("404 NOT FOUND"), but 304: werkzeug
#: drops its entity headers when sending, so that response is built by werkzeug
_STATUS_LINES = {
    code: f"{code} {reason.upper()}" for code, reason in HTTP_STATUS_CODES.items() if code != 304
}
_NEWLINE = re.compile(r"[\r\n]")
#: headers werkzeug rewrites when sending (IRI to URI): those responses are built at once
_REWRITTEN_HEADERS = frozenset({"location", "content-location"})


def _lean_answer(
    body: Any,
    status: Any,
    headers: Any,
    mimetype: str | None,
    content_type: str | None,
    extra_headers: Any,
) -> LeanAnswer | None:
    """The status, headers and body werkzeug would send, or ``None`` when only werkzeug
    knows (a str status, an iterable body, a multi-valued or rewritten header)."""
    if type(body) is str:
        body = body.encode()
    elif type(body) is not bytes:
        return None
    if status is None:
        code, line = 200, "200 OK"
    elif type(status) is int and status in _STATUS_LINES:
        code, line = status, _STATUS_LINES[status]
    else:
        return None
    if headers is None and extra_headers is None and mimetype is None:
        # the common case: the four headers, in werkzeug's order
        return (
            code,
            line,
            [
                ("Content-Type", content_type) if content_type else _JSON_TYPE_HEADER,
                ("Content-Length", str(len(body))),
                _SERVER_HEADER,
                _date_header(),
            ],
            body,
        )
    items = _header_items(headers)
    if items is None:
        return None
    positions = {name.lower(): index for index, (name, _) in enumerate(items)}
    if len(positions) != len(items):  # a name given twice: werkzeug's Headers.set rules
        return None
    updates: list[tuple[str, Any]] = []
    if content_type is None:
        if mimetype is not None:
            content_type = get_content_type(mimetype, "utf-8")
        elif "content-type" not in positions:
            content_type = JSON_MIMETYPE
    if content_type is not None:
        updates.append(("Content-Type", content_type))
    updates += [("Content-Length", str(len(body))), _SERVER_HEADER, _date_header()]
    if extra_headers:
        updates += [
            (name, str(value))
            for name, value in extra_headers.items()
            if name.lower() not in HOP_BY_HOP_HEADERS
        ]
    for name, value in updates:  # Headers.set: replace the header of that name, else append
        key = name.lower()
        position = positions.get(key)
        if position is None:
            positions[key] = len(items)
            items.append((name, _header_value(value)))
        else:
            items[position] = (name, _header_value(value))
    if not _REWRITTEN_HEADERS.isdisjoint(positions):
        return None
    return code, line, items, body


def _header_items(headers: Any) -> list[tuple[str, str]] | None:
    """``headers`` as (name, value) pairs as werkzeug's ``Headers`` stores them, or ``None``
    for a form werkzeug expands (multi-valued, ``Headers``, other mappings)."""
    if not headers:
        return []
    if type(headers) is dict:
        pairs: Iterable[Any] = headers.items()
    elif type(headers) is list:
        pairs = headers
    else:
        return None
    items = []
    for pair in pairs:
        if type(pair) is not tuple or len(pair) != 2:
            return None
        name, value = pair
        if isinstance(value, list | tuple | set):
            return None
        items.append((name, _header_value(value)))
    return items


def _header_value(value: Any) -> str:
    """``value`` as werkzeug stores it: a str without CR or LF."""
    if not isinstance(value, str):
        value = str(value)
    if _NEWLINE.search(value) is not None:
        raise ValueError("Header values must not contain newline characters.")
    return value


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


def _adding(start_response: Any, header: tuple[str, str]) -> Any:
    """``start_response`` that adds ``header`` to the headers it is given."""

    def start(status, headers, *exc_info):  # type: ignore[no-untyped-def]  # per request: no annotations to evaluate
        headers.append(header)
        return start_response(status, headers, *exc_info)

    return start
