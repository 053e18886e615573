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

A request with a body has it read whole here, within ``body_timeout`` seconds (408 past
it, 400 when the client stops short): a worker never waits longer than that for a slow
client. Chunked bodies are decoded (``uwsgi.chunked_read`` under uWSGI, the server's
``wsgi.input_terminated`` stream elsewhere, else 411) and handed to the view like any
other body, with a ``Content-Length``. Requests without a body pay only for the checks.
"""

import io
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from envoxy.daemon.settings import DEFAULT_BODY_TIMEOUT
from envoxy.exceptions import ValidationException
from envoxy.views.errors import error_response

__all__ = [
    "HEADER_LIMIT",
    "BodyDeadlines",
    "HttpInputError",
    "InputGuard",
]

#: largest accepted request line and header fields, in bytes (larger: 431)
HEADER_LIMIT = 32 * 1024
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
            self._check(environ)
        except HttpInputError as exc:
            environ.setdefault("REQUEST_METHOD", "")
            return error_response(exc, None, force_json=True)
        return None

    def _check(self, environ: dict[str, Any]) -> None:
        if not environ.get("REQUEST_METHOD"):
            raise HttpInputError("Malformed request line", 400)
        query = environ.get("QUERY_STRING", "")
        if "\x00" in environ.get("PATH_INFO", "") or "\x00" in query or "%00" in query:
            raise HttpInputError("NUL byte in the path or query", 400)
        # an upper bound first (every string in the environ); the exact sum when it is over
        strings = sum([len(value) for value in environ.values() if type(value) is str])
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

    def _read_sized(self, environ: dict[str, Any], size: int) -> None:
        stream = environ["wsgi.input"]
        body = self._receive(environ, lambda: [stream.read(size)])
        if len(body) < size:
            raise HttpInputError("Incomplete request body", 400)
        environ["wsgi.input"] = io.BytesIO(body)

    def _read_chunked(self, environ: dict[str, Any]) -> None:
        if "uwsgi.version" in environ:
            import uwsgi

            read = uwsgi.chunked_read
        elif environ.get("wsgi.input_terminated"):
            stream = environ["wsgi.input"]

            def read() -> bytes:
                return stream.read(_READ_SIZE)

        else:
            raise HttpInputError("A chunked body needs a Content-Length on this server", 411)

        def chunks() -> list[bytes]:
            parts: list[bytes] = []
            total = 0
            while chunk := read():
                total += len(chunk)
                if total > self.max_body_size:
                    raise _too_large(self.max_body_size)
                parts.append(chunk)
            return parts

        body = self._receive(environ, chunks)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        del environ["HTTP_TRANSFER_ENCODING"]

    def _receive(self, environ: dict[str, Any], receive: Callable[[], list[bytes]]) -> bytes:
        """Run ``receive`` under the body deadline (armed under uWSGI only)."""
        token = None
        if "uwsgi.version" in environ:
            import uwsgi

            token = self.deadlines.arm(uwsgi.connection_fd(), self.body_timeout)
        failure: OSError | None = None
        try:
            parts = receive()
        except OSError as exc:  # uWSGI: "timeout during read", "error during read"...
            failure = exc
        finally:
            late = token is not None and self.deadlines.disarm(token)
        if late or (failure is not None and "timeout" in str(failure)):
            raise HttpInputError("Request body not received in time", 408)
        if failure is not None:
            raise HttpInputError("Incomplete or malformed request body", 400)
        return parts[0] if len(parts) == 1 else b"".join(parts)


class BodyDeadlines:
    """Cut the read side of connections whose body is late (one thread per process).

    :meth:`arm` registers a connection; when its deadline passes before :meth:`disarm`,
    the thread shuts the socket for reading, so that the blocked read returns at once
    (the answer can still be written). All deadlines use the same delay, so a new one is
    never earlier than those already armed.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._armed: dict[int, tuple[float, int]] = {}
        self._fired: set[int] = set()
        self._tokens = itertools.count(1)
        self._pid = 0

    def arm(self, fd: int, seconds: float) -> int:
        """Watch ``fd`` for ``seconds``; return the token for :meth:`disarm`."""
        if self._pid != os.getpid():
            self._start()
        token = next(self._tokens)
        with self._condition:
            self._armed[token] = (time.monotonic() + seconds, fd)
            if len(self._armed) == 1:
                self._condition.notify()
        return token

    def disarm(self, token: int) -> bool:
        """Stop watching; return True when the deadline had passed (the read was cut)."""
        with self._condition:
            self._armed.pop(token, None)
            if token in self._fired:
                self._fired.discard(token)
                return True
        return False

    def _start(self) -> None:
        # after a fork only the forking thread survives: start this process's own
        self._pid = os.getpid()
        self._condition = threading.Condition()
        self._armed.clear()
        self._fired.clear()
        threading.Thread(target=self._run, name="envoxy-body-deadlines", daemon=True).start()

    def _run(self) -> None:
        condition = self._condition
        with condition:
            while True:
                if not self._armed:
                    condition.wait()
                    continue
                now = time.monotonic()
                earliest = min(deadline for deadline, _ in self._armed.values())
                if earliest > now:
                    condition.wait(earliest - now)
                    continue
                for token, (deadline, fd) in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[token]
                        self._fired.add(token)
                        _shut_reading(fd)


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


def _too_large(limit: int) -> HttpInputError:
    return HttpInputError(f"Request body too large (limit {limit} bytes)", 413)
