"""HTTP input limits in-process (envoxy.daemon.httpinput): framing, NULs, sizes, deadlines.

The same rules against a real envoxyd over raw sockets, both listening modes, are in
tests-integration/test_adversarial_http.py.
"""

import io
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.test import create_environ, run_wsgi_app

from envoxy.daemon.app import EnvoxyApp, create_app
from envoxy.daemon.httpinput import (
    HEADER_LIMIT,
    BodyDeadlines,
    GuardedInput,
    HttpInputError,
    InputGuard,
)
from envoxy.daemon.settings import DaemonSettings
from envoxy.decorators import on
from envoxy.exceptions import ConfigError
from envoxy.views import View
from envoxy_testing.forking import FORKS, c_fork, in_child

ELRC = re.compile(r" :: ELRC\([0-9a-f-]{36}\)$")


@on(endpoint="/echo")
class EchoView(View):
    def get(self, request: Any, **kwargs: Any) -> dict[str, Any]:
        return {"args": dict(request.args)}

    def put(self, request: Any, **kwargs: Any) -> dict[str, Any]:
        body = request.get_data()
        return {"size": len(body), "text": body.decode("latin-1")}


@pytest.fixture
def app() -> EnvoxyApp:
    return create_app({"max_body_size": 1000}, views=[EchoView])


def call(app: EnvoxyApp, environ: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """Run one request through the app; return its status, headers and body."""
    body, status, headers = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), dict(headers), b"".join(body)


def refused(answer: tuple[int, dict[str, str], bytes], status: int, message: str) -> None:
    """Assert ``answer`` is the JSON error contract with ``status`` and ``message``."""
    import json

    code, headers, body = answer
    assert code == status, body
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["code"] == 0
    assert payload["error"].startswith(message), payload
    assert ELRC.search(payload["error"])


def test_a_chunked_body_reaches_the_view_when_the_server_terminates_the_input(
    app: EnvoxyApp,
) -> None:
    environ = create_environ("/echo", method="PUT", input_stream=io.BytesIO(b"hello world"))
    del environ["CONTENT_LENGTH"]
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["wsgi.input_terminated"] = True
    status, _, body = call(app, environ)
    assert status == 200
    assert body == b'{"size":11,"text":"hello world"}'


def test_a_chunked_body_is_refused_with_411_when_the_server_cannot_end_it(
    app: EnvoxyApp,
) -> None:
    environ = create_environ("/echo", method="PUT", input_stream=io.BytesIO(b"hello"))
    del environ["CONTENT_LENGTH"]
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    refused(call(app, environ), 411, "A chunked body needs a Content-Length")


@pytest.mark.parametrize("size", [1001, 2000, 200_000])
def test_a_chunked_body_over_max_body_size_is_413_never_truncated(
    app: EnvoxyApp, size: int
) -> None:
    environ = create_environ("/echo", method="PUT", input_stream=io.BytesIO(b"x" * size))
    del environ["CONTENT_LENGTH"]
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["wsgi.input_terminated"] = True
    refused(call(app, environ), 413, "Request body too large (limit 1000 bytes)")


@pytest.mark.parametrize(
    ("length", "coding", "message"),
    [
        ("5, 6", None, "Invalid or conflicting Content-Length"),
        ("5, 5", None, "Invalid or conflicting Content-Length"),
        ("-5", None, "Invalid or conflicting Content-Length"),
        ("0x5", None, "Invalid or conflicting Content-Length"),
        ("\uff15", None, "Invalid or conflicting Content-Length"),  # a non-ASCII digit
        ("5", "chunked", "Both Transfer-Encoding and Content-Length"),
        (None, "gzip, chunked", "Unsupported Transfer-Encoding"),
        (None, "identity", "Unsupported Transfer-Encoding"),
    ],
)
def test_ambiguous_body_framing_is_400(
    app: EnvoxyApp, length: str | None, coding: str | None, message: str
) -> None:
    environ = create_environ("/echo", method="PUT", input_stream=io.BytesIO(b"hello!"))
    environ.pop("CONTENT_LENGTH", None)
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    if coding is not None:
        environ["HTTP_TRANSFER_ENCODING"] = coding
    refused(call(app, environ), 400, message)


def test_a_chunked_body_of_exactly_max_body_size_is_served(app: EnvoxyApp) -> None:
    environ = create_environ("/echo", method="PUT", input_stream=io.BytesIO(b"x" * 1000))
    del environ["CONTENT_LENGTH"]
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["wsgi.input_terminated"] = True
    status, _, body = call(app, environ)
    assert status == 200
    assert body.startswith(b'{"size":1000,')


def test_a_sized_body_reaches_the_view(app: EnvoxyApp) -> None:
    environ = create_environ("/echo", method="PUT", data=b"hello")
    status, _, body = call(app, environ)
    assert (status, body) == (200, b'{"size":5,"text":"hello"}')


def test_a_body_shorter_than_its_content_length_is_400(app: EnvoxyApp) -> None:
    environ = create_environ("/echo", method="PUT", input_stream=io.BytesIO(b"hello"))
    environ["CONTENT_LENGTH"] = "10"
    refused(call(app, environ), 400, "Incomplete or malformed request body")


def test_a_content_length_over_max_body_size_is_413_before_reading(app: EnvoxyApp) -> None:
    class Unreadable(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise AssertionError("the body was read")

    environ = create_environ("/echo", method="PUT")
    environ["wsgi.input"] = Unreadable()
    environ["CONTENT_LENGTH"] = "99999999999999999999"
    refused(call(app, environ), 413, "Request body too large")


@pytest.mark.parametrize(
    "url", ["/echo?a=%00b", "/echo?a=x%00", "/echo%00", "/echo?a=\x00"], ids=repr
)
def test_a_nul_byte_in_the_path_or_query_is_400(app: EnvoxyApp, url: str) -> None:
    path, _, query = url.partition("?")
    environ = create_environ(path.replace("%00", "\x00"), query_string=query)
    refused(call(app, environ), 400, "NUL byte in the path or query")


def test_headers_up_to_32_kib_are_served_and_larger_ones_get_431(app: EnvoxyApp) -> None:
    fits = create_environ("/echo", headers={"X-Big": "a" * (31 * 1024)})
    assert call(app, fits)[0] == 200
    many = create_environ("/echo", headers={f"X-H{n}": "b" * 1000 for n in range(33)})
    refused(call(app, many), 431, "Request header fields too large (limit 32 KiB)")
    big = create_environ("/echo", headers={"X-Big": "a" * (33 * 1024)})
    refused(call(app, big), 431, "Request header fields too large")


def test_a_long_query_counts_once_toward_the_header_limit(app: EnvoxyApp) -> None:
    environ = create_environ("/echo", query_string="q=" + "a" * (HEADER_LIMIT * 2 // 3))
    status, _, body = call(app, environ)
    assert status == 200, body


def test_a_request_without_a_method_is_400_json(app: EnvoxyApp) -> None:
    environ = create_environ("/echo")
    del environ["REQUEST_METHOD"]
    refused(call(app, environ), 400, "Malformed request line")


def test_body_deadlines_cut_a_blocked_read_and_tell_it() -> None:
    deadlines = BodyDeadlines()
    waiting, peer = socket.socketpair()
    with waiting, peer:
        token = deadlines.arm(waiting.fileno(), 0.3)
        started = time.monotonic()
        assert waiting.recv(10) == b""  # the read side was shut: the read returns at once
        assert 0.2 < time.monotonic() - started < 3
        assert deadlines.disarm(token) is True


def test_a_disarmed_deadline_leaves_the_connection_alone() -> None:
    deadlines = BodyDeadlines()
    waiting, peer = socket.socketpair()
    with waiting, peer:
        token = deadlines.arm(waiting.fileno(), 0.2)
        assert deadlines.disarm(token) is False
        time.sleep(0.4)
        peer.sendall(b"still open")
        assert waiting.recv(10) == b"still open"


def test_body_deadlines_serve_concurrent_requests() -> None:
    deadlines = BodyDeadlines()
    pairs = [socket.socketpair() for _ in range(8)]
    results: dict[int, bool] = {}

    def wait(index: int) -> None:
        waiting = pairs[index][0]
        token = deadlines.arm(waiting.fileno(), 0.2 if index % 2 else 30)
        if index % 2:
            waiting.recv(10)
        results[index] = deadlines.disarm(token)

    threads = [threading.Thread(target=wait, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert results == {n: bool(n % 2) for n in range(8)}
    for first, second in pairs:
        first.close()
        second.close()


@pytest.mark.parametrize(("value", "expected"), [(None, 30.0), (2, 2.0), ("2.5", 2.5)])
def test_body_timeout_setting(value: Any, expected: float) -> None:
    config = {} if value is None else {"body_timeout": value}
    assert DaemonSettings.from_config(config).body_timeout == expected


@pytest.mark.parametrize("value", [0, -1, "soon"])
def test_an_unusable_body_timeout_is_a_config_error(value: Any) -> None:
    with pytest.raises(ConfigError, match="body_timeout"):
        DaemonSettings.from_config({"body_timeout": value})


def test_a_deadline_left_armed_spares_a_reused_descriptor() -> None:
    """A view that read part of a body and returned: its connection's descriptor may
    belong to the next connection when the deadline passes; that one is left alone."""
    deadlines = BodyDeadlines()
    first, first_peer = socket.socketpair()
    fd = first.fileno()
    deadlines.arm(fd, 0.2)
    first.close()
    first_peer.close()
    second, second_peer = socket.socketpair()
    with second, second_peer:
        if second.fileno() != fd:  # make the new connection take the old number
            os.dup2(second.fileno(), fd)
            second.close()
            second = socket.socket(fileno=fd)
        time.sleep(0.5)
        second_peer.sendall(b"mine")
        assert second.recv(10) == b"mine"


def test_guarded_input_reads_a_chunked_body_in_pieces_and_lines() -> None:
    chunks = iter([b"one\ntw", b"o\nthree", b""])
    stream = GuardedInput(lambda _: next(chunks), None, InputGuard(100), None)
    assert stream.readline() == b"one\n"
    assert stream.read(2) == b"tw"
    assert list(stream) == [b"o\n", b"three"]
    assert stream.read() == b""


def test_guarded_input_is_408_when_the_deadline_cuts_a_sized_read() -> None:
    guard = InputGuard(1000, body_timeout=0.3)
    waiting, peer = socket.socketpair()
    with waiting, peer:
        peer.sendall(b"part")
        stream = GuardedInput(waiting.recv, 100, guard, waiting.fileno())
        assert stream.read(4) == b"part"
        started = time.monotonic()
        with pytest.raises(HttpInputError) as caught:
            stream.read(96)
        assert caught.value.status == 408
        assert time.monotonic() - started < 3


def test_guarded_input_without_a_read_arms_no_deadline() -> None:
    guard = InputGuard(1000, body_timeout=0.1)
    waiting, peer = socket.socketpair()
    with waiting, peer:
        GuardedInput(waiting.recv, 100, guard, waiting.fileno())
        time.sleep(0.3)
        peer.sendall(b"x")
        assert waiting.recv(1) == b"x"  # not shut: the body was never read


@pytest.mark.parametrize("fork", list(FORKS.values()), ids=list(FORKS))
def test_a_forked_child_cuts_its_own_late_bodies(fork: Callable[[], int]) -> None:
    """The parent's deadline thread is not in the child: the child starts its own when it
    first arms one (after os.fork, or after a C fork whose child calls after_fork, as
    envoxyd's post-fork hook does)."""
    from envoxy.utils.logs import after_fork

    deadlines = BodyDeadlines()
    parent_waiting, parent_peer = socket.socketpair()
    deadlines.disarm(deadlines.arm(parent_waiting.fileno(), 30))  # the parent's thread runs

    def in_the_child() -> float:
        if fork is c_fork:
            after_fork()
        waiting, peer = socket.socketpair()
        with waiting, peer:  # the peer stays open: only the deadline can end the read
            deadlines.arm(waiting.fileno(), 0.2)
            started = time.monotonic()
            assert waiting.recv(10) == b""  # cut by the child's own thread
            return time.monotonic() - started

    try:
        assert in_child(in_the_child, fork, timeout=10) < 3
    finally:
        parent_waiting.close()
        parent_peer.close()


def test_arming_a_deadline_makes_no_getpid_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request with a body arms a deadline: the process is told by the cached pid, not
    a system call per request."""
    deadlines = BodyDeadlines()
    waiting, peer = socket.socketpair()
    with waiting, peer:
        deadlines.disarm(deadlines.arm(waiting.fileno(), 30))
        calls: list[int] = []
        real = os.getpid

        def counting() -> int:
            calls.append(1)
            return real()

        monkeypatch.setattr(os, "getpid", counting)
        for _ in range(50):
            deadlines.disarm(deadlines.arm(waiting.fileno(), 30))
        assert calls == []
