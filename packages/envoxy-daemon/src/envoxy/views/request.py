"""The request object handed to view handlers: a werkzeug request with lenient JSON.

``get_json()`` returns ``None`` for a body that is not declared JSON (never a 415),
and raises :class:`~envoxy.views.exceptions.MalformedJSONError` (400) for a declared
JSON body that does not parse, or that nests or counts past the request's budget
(:mod:`envoxy.views.jsonbody`). The daemon parses declared JSON bodies before the
handler runs (after the auth decorators accepted the caller), so handlers only ever see
valid JSON.

Building one reads only what every request needs (``environ``, ``method``, ``path``);
werkzeug's other constructor attributes (``headers``, ``query_string``, ``server``,
``scheme``, ``root_path``, ``remote_addr``) are computed from the environ, as werkzeug
does, on first use.

.. versionchanged:: 1.1
   ``headers``, ``query_string``, ``server``, ``scheme``, ``root_path`` and
   ``remote_addr`` are computed on first use.
"""

from typing import IO, Any, cast
from urllib.parse import parse_qsl

from werkzeug.datastructures import EnvironHeaders, Headers, MultiDict
from werkzeug.utils import cached_property
from werkzeug.wrappers import Request as WerkzeugRequest

from envoxy.exceptions import ValidationException
from envoxy.views.exceptions import MalformedJSONError
from envoxy.views.jsonbody import (
    DEFAULT_MAX_JSON_DEPTH,
    DEFAULT_MAX_JSON_ELEMENTS,
    check_json_budget,
    parse_json_body,
)

__all__ = ["DEFAULT_MAX_CONTENT_LENGTH", "Request"]

#: largest accepted request body, in bytes, unless the app sets another (``max_body_size``)
DEFAULT_MAX_CONTENT_LENGTH = 16 * 1024 * 1024

_UNSET: Any = object()
_JSON_UTF8 = "application/json; charset=utf-8"


class Request(WerkzeugRequest):
    """A werkzeug :class:`~werkzeug.wrappers.Request` (``args``, ``headers``, ``is_json``,
    ``get_json()``) whose JSON parsing never answers 415.

    A body larger than :attr:`max_content_length` raises werkzeug's
    ``RequestEntityTooLarge`` (413) when it is read.
    """

    max_content_length = DEFAULT_MAX_CONTENT_LENGTH
    #: deepest nesting of arrays and objects :meth:`get_json` accepts
    max_json_depth = DEFAULT_MAX_JSON_DEPTH
    #: most values and members :meth:`get_json` accepts
    max_json_elements = DEFAULT_MAX_JSON_ELEMENTS
    _envoxy_json: Any = _UNSET

    def __init__(
        self, environ: dict[str, Any], populate_request: bool = True, shallow: bool = False
    ) -> None:
        # werkzeug's constructor, minus the attributes computed on first use (below)
        self.environ = environ
        self.shallow = shallow
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        # WSGI strings hold bytes as latin-1: decoded as UTF-8, as werkzeug does (ASCII
        # is the same either way), with one leading slash
        path = environ.get("PATH_INFO") or ""
        if not path.isascii():
            path = path.encode("latin1").decode(errors="replace")
        self.path = path if path[:1] == "/" and path[1:2] != "/" else "/" + path.lstrip("/")
        if populate_request and not shallow:
            environ["werkzeug.request"] = self

    @cached_property
    def stream(self) -> IO[bytes]:
        """The body stream: the server's when it is already bounded (envoxyd's guarded
        input, which ends with the body and refuses more than ``max_body_size``), else
        werkzeug's ``LimitedStream`` around it."""
        stream = self.environ.get("wsgi.input")
        if getattr(stream, "envoxy_bounded", False) and not self.shallow:
            return cast(IO[bytes], stream)
        return cast(IO[bytes], WerkzeugRequest.stream.fget(self))  # type: ignore[attr-defined]

    @property
    def is_json(self) -> bool:
        """Whether the body is declared JSON (``application/json`` or ``+json``), as werkzeug
        says, with the common Content-Types recognised without parsing them."""
        content_type = self.environ.get("CONTENT_TYPE")
        if content_type == "application/json" or content_type == _JSON_UTF8:
            return True
        return bool(super().is_json)

    @cached_property
    def headers(self) -> Headers:
        """The request headers (an ``EnvironHeaders`` reading the environ)."""
        return EnvironHeaders(self.environ)

    @cached_property
    def query_string(self) -> bytes:
        """The raw query string, after the ``?``."""
        return str(self.environ.get("QUERY_STRING", "")).encode("latin1")

    @cached_property
    def scheme(self) -> str:
        """The URL scheme of the request (``http`` or ``https``)."""
        return str(self.environ.get("wsgi.url_scheme", "http"))

    @cached_property
    def server(self) -> tuple[str, int | None] | None:
        """The server's ``(host, port)``, ``(path, None)`` for a unix socket, or ``None``."""
        name = self.environ.get("SERVER_NAME")
        if name is None:
            return None
        try:
            port: int | None = int(self.environ.get("SERVER_PORT"))  # type: ignore[arg-type]
        except (TypeError, ValueError):  # a unix socket
            port = None
        return name, port

    @cached_property
    def root_path(self) -> str:
        """The prefix the application is mounted under, without a trailing slash."""
        return _wsgi_decoded(self.environ.get("SCRIPT_NAME") or "").rstrip("/")

    @cached_property
    def remote_addr(self) -> str | None:
        """The client's address."""
        return self.environ.get("REMOTE_ADDR")

    @cached_property
    def args(self) -> MultiDict[str, str]:
        """The query string parameters; bytes that are not UTF-8 become U+FFFD (never a 500)."""
        query = self.query_string.decode("utf-8", "replace")
        return self.parameter_storage_class(
            parse_qsl(query, keep_blank_values=True, errors="replace")
        )

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Return the decoded JSON body, or ``None`` when the body is empty or not JSON.

        :param force: decode even when the Content-Type is not JSON.
        :param silent: return ``None`` instead of raising on a malformed body.
        :param cache: keep the decoded value for later calls.
        :raises MalformedJSONError: for a JSON body that does not parse or nests deeper
            than :attr:`max_json_depth` (unless ``silent``).
        :raises JSONTooLargeError: for a JSON body of more than :attr:`max_json_elements`
            values (413, unless ``silent``).
        """
        if self._envoxy_json is not _UNSET:
            return self._envoxy_json
        if not (force or self.is_json):
            return None
        data = self._body()
        if not data.strip():
            value = None
        else:
            try:
                check_json_budget(data, self.max_json_depth, self.max_json_elements)
                value = parse_json_body(data)
            except ValidationException:
                if silent:
                    return None
                raise
            except (ValueError, RecursionError) as exc:
                # RecursionError: nesting too deep for the decoder, a malformed body too
                if silent:
                    return None
                raise MalformedJSONError() from exc
        if cache:
            self._envoxy_json = value
        return value

    def _body(self) -> bytes:
        """``get_data()``: read straight from a bounded stream (see :attr:`stream`)."""
        data: bytes | None = self.__dict__.get("_cached_data")
        if data is None:
            stream: Any = self.environ.get("wsgi.input")
            if not getattr(stream, "envoxy_bounded", False) or self.shallow:
                return self.get_data(cache=True)
            data = self._cached_data = stream.read()
        return data

    @property
    def json(self) -> Any:
        """The decoded JSON body, as :meth:`get_json` returns it."""
        return self.get_json()


def _wsgi_decoded(text: str) -> str:
    """A WSGI string (bytes as latin-1) decoded as UTF-8, as werkzeug does."""
    return text.encode("latin1").decode(errors="replace")
