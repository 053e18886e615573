"""HTTP input limits: what envoxyd refuses before werkzeug or a view sees a request.

:class:`InputGuard` runs first for every request (SPEC §6.2, docs/SECURITY.md):

- no request method (an empty request such as ``\\r\\n\\r\\n``): 400;
- a NUL byte in the path or the query string: 400;
- header fields over :data:`HEADER_LIMIT` (32 KiB) in total: 431 (uWSGI's buffer takes
  up to 64 KiB, envoxyd's default ``--buffer-size``; beyond that uWSGI closes);
- a ``Content-Length`` that is not one decimal number (uWSGI joins duplicated headers
  with ``", "``, so conflicting ones arrive as ``"5, 6"``): 400; both ``Content-Length``
  and ``Transfer-Encoding``: 400; a ``Transfer-Encoding`` other than ``chunked``: 400;
- a body larger than ``max_body_size``: 413.

A body stays unread until the app reads it (after the auth decorators accepted the
caller). Under uWSGI its ``wsgi.input`` is wrapped so that, from the first read, the
whole body must arrive within ``body_timeout`` seconds (408 past it, 400 when the
client stops short): a worker thread never waits longer for a slow client. Chunked
bodies are decoded as they are read (``uwsgi.chunked_read``; elsewhere the server's
``wsgi.input_terminated`` stream, else 411) and reach the view like any other body.
Requests without a body pay only for the checks.
"""

import importlib
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from envoxy.daemon.settings import DEFAULT_BODY_TIMEOUT
from envoxy.exceptions import ValidationException
from envoxy.utils.process import current_pid
from envoxy.views.error_responses import error_response

__all__ = [
    "HEADER_LIMIT",
    "WATCH_INTERVAL",
    "BodyDeadlines",
    "GuardedInput",
    "HttpInputError",
    "InputGuard",
]

#: largest accepted request line and header fields, in bytes (larger: 431)
HEADER_LIMIT = 32 * 1024
#: the longest a read may go on past its body deadline before it is cut, in seconds
WATCH_INTERVAL = 0.1
_READ_SIZE = 64 * 1024


class HttpInputError(ValidationException):
    """A request refused for its framing or size; always answered as a JSON error.

    :param message: what is wrong, for the caller.
    :param status: the HTTP status (400, 408, 411, 413 or 431).
    """

    force_json = True

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message, code=0, status=status)


class InputGuard:
    """Check a WSGI environ and read its body whole, within the limits.

    :param max_body_size: largest body in bytes (``max_body_size``).
    :param body_timeout: seconds a body may take to arrive (``body_timeout``).
    """

    def __init__(self, max_body_size: int, body_timeout: float = DEFAULT_BODY_TIMEOUT) -> None:
        self.max_body_size = max_body_size
        self.body_timeout = body_timeout
        self.deadlines = BodyDeadlines()

    def __call__(self, environ: dict[str, Any]) -> Any:
        """Return ``None`` to serve the request, or the error response that refuses it.

        A body is read here and ``environ["wsgi.input"]`` replaced by its bytes.
        """
        try:
            if not environ.get("REQUEST_METHOD"):
                raise HttpInputError("Malformed request line", 400)
            query = environ.get("QUERY_STRING", "")
            if "\x00" in environ.get("PATH_INFO", "") or "\x00" in query or "%00" in query:
                raise HttpInputError("NUL byte in the path or query", 400)
            # an upper bound first (every string in the environ); the exact sum when over
            strings = 0
            for value in environ.values():
                if type(value) is str:
                    strings += len(value)
            if strings > HEADER_LIMIT and _header_bytes(environ) > HEADER_LIMIT:
                raise HttpInputError(
                    f"Request header fields too large (limit {HEADER_LIMIT // 1024} KiB)", 431
                )
            length = environ.get("CONTENT_LENGTH")
            coding = environ.get("HTTP_TRANSFER_ENCODING")
            if coding is not None:
                if length:
                    raise HttpInputError("Both Transfer-Encoding and Content-Length", 400)
                if coding.strip().lower() != "chunked":
                    raise HttpInputError("Unsupported Transfer-Encoding (only chunked)", 400)
                self._read_chunked(environ)
            elif length and length != "0":
                if not (length.isascii() and length.isdigit()):
                    raise HttpInputError("Invalid or conflicting Content-Length", 400)
                size = int(length)
                if size > self.max_body_size:
                    raise _too_large(self.max_body_size)
                if size:
                    self._read_sized(environ, size)
        except HttpInputError as exc:
            environ.setdefault("REQUEST_METHOD", "")
            return error_response(exc, None, force_json=True)
        return None

    def _read_sized(self, environ: dict[str, Any], size: int) -> None:
        stream = environ["wsgi.input"]
        environ["wsgi.input"] = GuardedInput(stream.read, size, self, _connection(environ))

    def _read_chunked(self, environ: dict[str, Any]) -> None:
        fd = _connection(environ)
        if fd is not None:
            import uwsgi

            chunks = uwsgi.chunked_read
            environ["wsgi.input"] = GuardedInput(lambda _: chunks(), None, self, fd)
            environ["wsgi.input_terminated"] = True
        elif environ.get("wsgi.input_terminated"):
            environ["wsgi.input"] = GuardedInput(environ["wsgi.input"].read, None, self, None)
        else:
            raise HttpInputError("A chunked body needs a Content-Length on this server", 411)


class GuardedInput:
    """A request body read within its limits (the ``wsgi.input`` the app sees).

    :param receive: reads up to ``n`` bytes (``b""`` at the end of a chunked body).
    :param length: the ``Content-Length``; ``None`` for a chunked body.
    :param guard: gives the deadline, the size limit and the watchdog.
    :param fd: the connection, watched from the first read (``None``: no deadline).
    """

    #: the stream ends with the body and never passes ``max_body_size``: the handler's
    #: :class:`~envoxy.views.request.Request` reads it without werkzeug's ``LimitedStream``
    envoxy_bounded = True

    __slots__ = (
        "_buffer",
        "_entry",
        "_fd",
        "_finished",
        "_guard",
        "_receive",
        "_received",
        "_remaining",
    )

    def __init__(
        self,
        receive: Callable[[int], bytes],
        length: int | None,
        guard: InputGuard,
        fd: int | None,
    ) -> None:
        self._receive = receive
        self._remaining = length
        self._guard = guard
        self._fd = fd
        self._entry: list[Any] | None = None
        self._finished = False
        self._buffer = b""
        self._received = 0

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes (all of the rest when negative or ``None``).

        :raises HttpInputError: 408 past the deadline, 400 for a body that stops short
            or a malformed chunk, 413 for a chunked body over ``max_body_size``.
        """
        if self._remaining is not None:
            if size is not None and size >= 0:
                return self._read_sized(size)
            parts = []
            while self._remaining:  # _read_sized raises rather than return b"" early
                parts.append(self._read_sized(self._remaining))
            return b"".join(parts)
        if size is None or size < 0:
            parts = []
            while data := self.read(_READ_SIZE):
                parts.append(data)
            return b"".join(parts)
        limit = self._guard.max_body_size
        # at the limit, one more read tells the end from a body too large (a reader that
        # stops at the limit, like werkzeug's, would otherwise get a truncated body)
        while not self._finished and (len(self._buffer) < size or self._received >= limit):
            chunk = self._receive_guarded(size)
            if not chunk:
                self._finish()
                break
            self._received += len(chunk)
            if self._received > limit:
                self._finish()
                raise _too_large(limit)
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line (at most ``size`` bytes), as WSGI requires."""
        line = b""
        while not line.endswith(b"\n") and (size is None or size < 0 or len(line) < size):
            byte = self.read(1)
            if not byte:
                break
            line += byte
        return line

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """Read every line."""
        return list(iter(self.readline, b""))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def _read_sized(self, size: int) -> bytes:
        remaining = self._remaining or 0
        size = min(size, remaining)
        if size <= 0:
            return b""
        data = self._receive_guarded(size)
        remaining -= len(data)
        self._remaining = remaining
        if not data:
            raise _cut_short(late=self._finish())
        if remaining == 0:
            self._finish()
        return data

    def _receive_guarded(self, size: int) -> bytes:
        if self._entry is None and self._fd is not None and not self._finished:
            self._entry = self._guard.deadlines.arm(self._fd, self._guard.body_timeout)
        try:
            return self._receive(size)
        except OSError as exc:  # uWSGI: "timeout during read", "error during read"...
            raise _cut_short(late=self._finish() or "timeout" in str(exc)) from None

    def _finish(self) -> bool:
        """Stop the deadline; True when it had passed."""
        entry, self._entry, self._finished = self._entry, None, True
        return entry is not None and self._guard.deadlines.disarm(entry)


class BodyDeadlines:
    """Cut the read side of connections whose body is late (one thread per process).

    :meth:`arm` registers a connection; when its deadline passes before :meth:`disarm`,
    the thread shuts the socket for reading, so that the blocked read returns at once
    (the answer can still be written). A connection is recognised by its socket's inode:
    a descriptor that now belongs to another connection is left alone. Arming never
    wakes the thread (a request with a body pays a lock and an ``fstat``, no thread
    switch): the thread looks at the deadlines every :data:`WATCH_INTERVAL` seconds, so
    a read is cut at most that long after its deadline. A forked child starts its own
    thread when it first arms one (its cached pid is forgotten at ``os.fork``, and by
    ``logs.after_fork`` after a fork from C, as envoxyd's post-fork hook does).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[list[Any]] = []
        self._pid = 0

    def arm(self, fd: int, seconds: float) -> list[Any]:
        """Watch ``fd`` for ``seconds``; return the entry to pass to :meth:`disarm`."""
        if self._pid != current_pid():  # a forked child starts its own thread
            self._start()
        entry = [time.monotonic() + seconds, fd, _inode(fd), False]
        with self._lock:
            self._armed.append(entry)
        return entry

    def disarm(self, entry: list[Any]) -> bool:
        """Stop watching; return True when the deadline had passed (the read was cut)."""
        with self._lock:
            if entry[3]:
                return True
            armed = self._armed
            for index, other in enumerate(armed):
                if other is entry:
                    del armed[index]
                    break
        return False

    def _start(self) -> None:
        # after a fork only the forking thread survives: start this process's own
        self._pid = current_pid()
        self._lock = threading.Lock()
        self._armed = []
        threading.Thread(target=self._run, name="envoxy-body-deadlines", daemon=True).start()

    def _run(self) -> None:
        lock = self._lock
        armed = self._armed
        while True:
            time.sleep(WATCH_INTERVAL)
            now = time.monotonic()
            with lock:
                late = [entry for entry in armed if entry[0] <= now]
                for entry in late:
                    armed.remove(entry)
                    entry[3] = True
            for entry in late:
                if _inode(entry[1]) == entry[2]:
                    _shut_reading(entry[1])


def _connection(environ: dict[str, Any]) -> int | None:
    """The connection's descriptor under uWSGI (``None`` under another server)."""
    if "uwsgi.version" not in environ:
        return None
    # the module is loaded under uWSGI: skip the import statement's machinery
    uwsgi: Any = sys.modules.get("uwsgi") or importlib.import_module("uwsgi")
    return int(uwsgi.connection_fd())


def _inode(fd: int) -> int:
    try:
        return os.fstat(fd).st_ino
    except OSError:
        return -1


def _shut_reading(fd: int) -> None:
    try:
        with socket.socket(fileno=os.dup(fd)) as connection:
            connection.shutdown(socket.SHUT_RD)
    except OSError:
        pass  # already closed by the client


def _header_bytes(environ: dict[str, Any]) -> int:
    """Bytes of the request line and header fields, as sent (``Name: value\\r\\n``)."""
    total = len(environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")) + 16
    for key, value in environ.items():
        if key.startswith("HTTP_") and type(value) is str:
            total += len(key) - 5 + len(value) + 4
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            total += len(key) + len(value) + 4
    return total


def _cut_short(late: bool) -> HttpInputError:
    if late:
        return HttpInputError("Request body not received in time", 408)
    return HttpInputError("Incomplete or malformed request body", 400)


def _too_large(limit: int) -> HttpInputError:
    return HttpInputError(f"Request body too large (limit {limit} bytes)", 413)
