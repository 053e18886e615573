"""The request context: one request id (and W3C trace context) per request or message.

envoxyd binds a context for each HTTP request and each MQTT message it handles; every
log line written meanwhile carries its id (``_request_id``), and every envelope or task
sent meanwhile carries it on (``X-Request-ID``, ``X-Cid``, ``traceparent``). The
context lives in a :class:`contextvars.ContextVar`, so threads and asyncio tasks each
see their own::

    from envoxy.utils.context import bound, current_request_id

    with bound(request_id_from(headers.get("X-Request-ID"), headers.get("X-Cid"))):
        current_request_id()  # the caller's id, or a new one

Incoming ids come from clients that may be hostile: an id is accepted only when it is
1-128 characters of ``A-Z a-z 0-9 . _ : - + / = @`` (no spaces, quotes, CR/LF or
other characters); otherwise a new id is made. ``traceparent`` must match W3C Trace
Context (``00-<32 hex>-<16 hex>-<2 hex>``, ids not all zero) or it is dropped.
"""

import functools
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any, NamedTuple

from envoxy.utils.process import current_pid

__all__ = [
    "MAX_REQUEST_ID_LENGTH",
    "RequestContext",
    "TraceParent",
    "bind",
    "bound",
    "context_from_headers",
    "current",
    "current_request_id",
    "new_request_id",
    "parse_traceparent",
    "request_id_from",
    "reset",
    "safe_request_id",
]

#: The longest incoming request id kept (longer ones are replaced by a new id).
MAX_REQUEST_ID_LENGTH = 128


class TraceParent(NamedTuple):
    """A parsed W3C ``traceparent``: ``version-trace_id-parent_id-flags``."""

    version: str
    trace_id: str
    parent_id: str
    flags: str

    def header(self) -> str:
        """Return the header value (version ``00`` form)."""
        return f"00-{self.trace_id}-{self.parent_id}-{self.flags}"


class RequestContext(NamedTuple):
    """What one request carries along.

    :param request_id: the id written in log lines and sent on.
    :param traceparent: the W3C ``traceparent`` sent on (already validated), or ``None``.
    """

    request_id: str
    traceparent: str | None = None


def current() -> RequestContext | None:
    """Return the context bound in this thread or task, or ``None`` outside a request."""
    return _CURRENT.get()


def current_request_id() -> str | None:
    """Return the request id bound in this thread or task, or ``None``."""
    context = _CURRENT.get()
    return None if context is None else context.request_id


@contextmanager
def bound(context: RequestContext | None) -> Iterator[RequestContext | None]:
    """Bind ``context`` for the ``with`` block (restored afterwards, even on errors)."""
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)


def new_request_id() -> str:
    """Return a new random version 4 UUID string (120 random bits from :func:`os.urandom`).

    Ids are made :data:`_ID_BATCH` at a time from one ``os.urandom`` call and copied
    into their text digit by digit for the whole batch (about 0.2 µs an id, a tenth of
    ``str(uuid.uuid4())``: envoxyd makes one for every request that brings none). A batch
    belongs to the process that made it (:func:`~envoxy.utils.process.current_pid`, no
    system call): a forked child never hands out its parent's ids, once its cached pid is
    forgotten (at :func:`os.fork`, or by ``logs.after_fork`` after a fork from C).
    """
    ids = _IDS
    if ids.pid == current_pid():
        try:
            return ids.batch.pop()
        except IndexError:  # the batch is used up (or another thread took its last id)
            pass
    return ids.refill()


def safe_request_id(value: object) -> str | None:
    """Return ``value`` when it is an acceptable incoming id, else ``None``.

    Accepted: a string (or Latin-1 bytes) of 1 to :data:`MAX_REQUEST_ID_LENGTH`
    characters from ``A-Z a-z 0-9 . _ : - + / = @``. Anything else (too long, empty,
    spaces, quotes, backslashes, CR/LF, NUL, non-ASCII) is refused.
    """
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if type(value) is not str or len(value) > MAX_REQUEST_ID_LENGTH:
        return None
    return value if _SAFE_ID.fullmatch(value) else None


def parse_traceparent(value: object) -> TraceParent | None:
    """Return the parsed W3C ``traceparent``, or ``None`` when it is malformed.

    Version ``00`` must be exactly ``00-<32 hex>-<16 hex>-<2 hex>``; a later version
    may append ``-<more>`` (kept out of the result); ``ff`` and all-zero ids are invalid.
    Upper-case hex is refused, as the specification says.
    """
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if type(value) is not str or len(value) > _MAX_TRACEPARENT_LENGTH:
        return None
    found = _TRACEPARENT.fullmatch(value.strip(" \t"))
    if found is None:
        return None
    version, trace_id, parent_id, flags, rest = found.groups()
    if version == "ff" or (version == "00" and rest):
        return None
    if trace_id == _ZERO_TRACE or parent_id == _ZERO_PARENT:
        return None
    return TraceParent(version, trace_id, parent_id, flags)


def request_id_from(
    request_id: object = None, cid: object = None, traceparent: object = None
) -> RequestContext:
    """Return the context of an incoming request or message.

    The id is the first acceptable of ``request_id`` (``X-Request-ID``), ``cid``
    (``X-Cid``) and the trace id of ``traceparent``; a new one when none is.

    :param request_id: the ``X-Request-ID`` value, or ``None``.
    :param cid: the ``X-Cid`` value, or ``None``.
    :param traceparent: the ``traceparent`` value, or ``None`` (kept when valid).
    """
    if request_id is None and cid is None and traceparent is None:  # most requests
        return _new_context((new_request_id(), None))
    parent = parse_traceparent(traceparent) if traceparent is not None else None
    chosen = safe_request_id(request_id) if request_id is not None else None
    if chosen is None and cid is not None:
        chosen = safe_request_id(cid)
    if chosen is None:
        chosen = parent.trace_id if parent is not None else new_request_id()
    return RequestContext(chosen, None if parent is None else parent.header())


def context_from_headers(headers: Mapping[str, Any] | None) -> RequestContext:
    """Return the context of an envelope's ``headers`` (MQTT, ZeroMQ, Celery).

    Header names are matched without regard to case (``X-Request-ID``, ``x-request-id``);
    a missing or non-mapping ``headers`` gives a new id.
    """
    if not isinstance(headers, Mapping) or not headers:
        return RequestContext(new_request_id())
    found: dict[str, Any] = {}
    for name, value in headers.items():
        if type(name) is str:
            wanted = _WANTED.get(name) or _WANTED.get(name.lower())
            if wanted is not None and wanted not in found:
                found[wanted] = value
    return request_id_from(found.get("id"), found.get("cid"), found.get("traceparent"))


_CURRENT: ContextVar[RequestContext | None] = ContextVar("envoxy_request", default=None)

#: ``bind(context)``: make ``context`` current; give the returned token to :func:`reset`
#: when done. (The context variable's own method: no Python call on envoxyd's request path.)
bind: Callable[[RequestContext | None], Token[RequestContext | None]] = _CURRENT.set
#: ``reset(token)``: restore the context that was current before :func:`bind` returned
#: ``token``.
reset: Callable[[Token[RequestContext | None]], None] = _CURRENT.reset

_SAFE_ID = re.compile(r"[A-Za-z0-9._:\-+/=@]+")
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_MAX_TRACEPARENT_LENGTH = 512
_ZERO_TRACE = "0" * 32
_ZERO_PARENT = "0" * 16
_WANTED = {
    "x-request-id": "id",
    "X-Request-ID": "id",
    "x-cid": "cid",
    "X-Cid": "cid",
    "traceparent": "traceparent",
}

#: how many ids one ``os.urandom`` call makes
_ID_BATCH = 256
#: the text of a batch before its random digits are copied in: each id is a version 4
#: UUID (version digit 4, RFC 4122 variant digit 8) followed by a space
_ID_TEXT = b"xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx " * _ID_BATCH
_ID_WIDTH = 37
#: (index in an id's text, index in its 32 random hex digits) of the 30 digits (120
#: bits) an id takes from them
_ID_DIGITS = tuple(
    zip(
        [index for index in range(36) if index not in (8, 13, 14, 18, 19, 23)],
        [index for index in range(32) if index not in (12, 16)],
        strict=True,
    )
)


class _IdBatch:
    """The ids made but not yet handed out, and the process that made them."""

    __slots__ = ("batch", "pid")

    def __init__(self) -> None:
        self.batch: list[str] = []
        self.pid = 0

    def refill(self) -> str:
        """Make a new batch for this process and return one id of it."""
        digits = os.urandom(16 * _ID_BATCH).hex().encode("ascii")
        text = bytearray(_ID_TEXT)
        # one digit of every id at a time: 30 strided copies in C, not 256 formattings
        for into, taken_from in _ID_DIGITS:
            text[into::_ID_WIDTH] = digits[taken_from::32]
        batch = text.decode("ascii").split()
        taken = batch.pop()
        self.batch = batch
        self.pid = current_pid()  # last: a batch is never taken for another process's
        return taken


_IDS = _IdBatch()
#: ``RequestContext(id, None)`` without the keyword handling of its generated ``__new__``
_new_context = functools.partial(tuple.__new__, RequestContext)
