"""Adversarial HTTP: a real envoxyd driven with raw sockets, as a hostile client would.

Each rule runs against ``--http`` (uWSGI's router, the README's default deployment) and
``--http-socket`` (the workers parse HTTP): chunked bodies (valid, invalid sizes,
truncated, trailers, chunk extensions), Content-Length conflicts, header sizes (31 KiB
served, 33 KiB answered 431, never a reset), NUL bytes, the empty request, and slow
clients (16 and more hold connections while ``/_health`` keeps answering within 1 s).
Every refusal is the JSON error contract with a 4xx; no traceback reaches the log.
"""

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from envoxy_testing.envoxyd import Envoxyd, RawAnswer

pytestmark = pytest.mark.integration

MODES = ["--http", "--http-socket"]
BODY_TIMEOUT = 2
MAX_BODY = 2 * 1024 * 1024

VIEWS = """
from envoxy.decorators import on
from envoxy.views import View


@on(endpoint="/v1/echo")
class EchoView(View):
    def get(self, request, **kwargs):
        return {"args": dict(request.args)}

    def put(self, request, **kwargs):
        body = request.get_data()
        return {"size": len(body), "head": body[:64].decode("latin-1")}

    post = put


__loader__ = [EchoView]
"""


def start(mode: str, config: Path) -> Envoxyd:
    """envoxyd with the README's defaults (4 processes x 8 threads) in ``mode``."""
    return Envoxyd("--set", f"conf={config}", cwd=config.parent, listen=mode)


def healthy(daemon: Envoxyd, timeout: float = 1.0) -> bool:
    return daemon.get("/_health", timeout=timeout)[0] == 200


def write_config(folder: Path, **settings: Any) -> Path:
    (folder / "adversarial_views.py").write_text(VIEWS)
    config = {"modules": [str(folder / "adversarial_views.py")], "log": {"level": 4}, **settings}
    path = folder / "envoxy.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module", params=MODES)
def daemon(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Envoxyd]:
    """envoxyd with short body deadlines (2 s) and a 2 MiB body limit, per mode."""
    folder = tmp_path_factory.mktemp(f"adversarial{request.param}")
    config = write_config(folder, body_timeout=BODY_TIMEOUT, max_body_size=MAX_BODY)
    server = start(request.param, config)
    yield server
    server.stop()
    assert "Traceback" not in server.log(), server.log()


def put(body: bytes, *headers: bytes, path: bytes = b"/v1/echo") -> bytes:
    """A PUT request with ``headers`` (each ``Name: value``) and ``body`` as given."""
    lines = b"".join(header + b"\r\n" for header in (b"Host: adversary", *headers))
    return b"PUT " + path + b" HTTP/1.1\r\n" + lines + b"\r\n" + body


def chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def assert_refused(answer: RawAnswer, status: int, message: str) -> None:
    """The JSON error contract: ``status``, ``{"error": "<message> :: ELRC(...)", "code": 0}``."""
    assert not answer.reset, answer
    assert answer.status == status, answer.raw[:400]
    assert b"Content-Type: application/json" in answer.raw
    payload = answer.json()
    assert payload["code"] == 0
    assert payload["error"].startswith(message), payload
    assert re.search(r" :: ELRC\([0-9a-f-]{36}\)$", payload["error"]), payload


TE = b"Transfer-Encoding: chunked"


@pytest.mark.parametrize(
    ("body", "size", "head"),
    [
        (chunked(b"hello", b" world"), 11, "hello world"),
        (chunked(*[b"x"] * 100), 100, "x" * 64),
        (chunked(b"0123456789ABCDEF"), 16, "0123456789ABCDEF"),
        (b"5\r\nhello\r\n0\r\nX-Checksum: 1\r\nX-More: 2\r\n\r\n", 5, "hello"),  # trailers
        (b"A\r\n0123456789\r\n0\r\n\r\n", 10, "0123456789"),  # upper-case hex size
        (chunked(b"a" * (1536 * 1024)), 1536 * 1024, "a" * 64),  # one chunk over 1 MiB
        (chunked(*[b"b" * 65536] * 32), MAX_BODY, "b" * 64),  # exactly max_body_size
    ],
    ids=["two-chunks", "one-byte-chunks", "one-chunk", "trailers", "hex", "big-chunk", "max"],
)
def test_a_chunked_body_reaches_the_view_whole(
    daemon: Envoxyd, body: bytes, size: int, head: str
) -> None:
    answer = daemon.send(put(body, TE))
    assert answer.status == 200, answer.raw[:400]
    assert answer.json() == {"size": size, "head": head}


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (b"5;name=value\r\nhello\r\n0\r\n\r\n", [TE], 400, "Incomplete or malformed request body"),
        (b"-5\r\nhello\r\n0\r\n\r\n", [TE], 400, "Incomplete or malformed request body"),
        (b" 5\r\nhello\r\n0\r\n\r\n", [TE], 400, "Incomplete or malformed request body"),
        (b"FFFFFFFFFFFFFFFFFFFF\r\nhello\r\n", [TE], 400, "Incomplete or malformed request body"),
        (
            chunked(b"a" * 1024 * 1024, b"b" * 1024 * 1024, b"c"),
            [TE],
            413,
            "Request body too large",
        ),
        (chunked(*[b"a" * 65536] * 33), [TE], 413, "Request body too large"),
        (chunked(b"hello"), [b"Transfer-Encoding: gzip, chunked"], 400, "Unsupported Transfer"),
        (chunked(b"hello"), [TE, b"Content-Length: 5"], 400, "Both Transfer-Encoding and"),
    ],
    ids=[
        "extension",
        "negative",
        "space",
        "huge-size",
        "over-limit",
        "over-limit-in-chunks",
        "gzip",
        "with-length",
    ],
)
def test_a_broken_chunked_body_is_a_4xx(
    daemon: Envoxyd, body: bytes, headers: list[bytes], status: int, message: str
) -> None:
    assert_refused(daemon.send(put(body, *headers)), status, message)


def test_a_truncated_chunked_body_is_408_at_the_body_deadline(daemon: Envoxyd) -> None:
    answer = daemon.send(put(b"50\r\nhello", TE), timeout=15)
    assert_refused(answer, 408, "Request body not received in time")
    assert BODY_TIMEOUT - 0.5 < answer.seconds < BODY_TIMEOUT + 4


@pytest.mark.parametrize(
    ("lengths", "body", "status", "message"),
    [
        ([b"5", b"6"], b"hello!", 400, "Invalid or conflicting Content-Length"),
        ([b"6", b"6"], b"hello!", 400, "Invalid or conflicting Content-Length"),
        ([b"6", b"0"], b"hello!", 400, "Invalid or conflicting Content-Length"),
        ([b"6a"], b"hello!", 400, "Invalid or conflicting Content-Length"),
        ([b"99999999999999999999"], b"hello!", 413, "Request body too large"),
    ],
    ids=["conflicting", "duplicated", "zero-and-six", "not-a-number", "over-limit"],
)
def test_content_length_conflicts_are_4xx(
    daemon: Envoxyd, lengths: list[bytes], body: bytes, status: int, message: str
) -> None:
    headers = [b"Content-Length: " + length for length in lengths]
    assert_refused(daemon.send(put(body, *headers)), status, message)


def test_a_body_dripping_slower_than_the_deadline_is_408(daemon: Envoxyd) -> None:
    """One byte every 0.5 s never trips uWSGI's idle timeout; the body deadline cuts it."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=15) as connection:
        connection.sendall(put(b"", b"Content-Length: 1000"))
        answer = b""
        while time.monotonic() - started < BODY_TIMEOUT + 8:
            try:
                connection.sendall(b"a")
            except OSError:
                break
            connection.settimeout(0.5)
            try:
                answer = connection.recv(65536)
            except TimeoutError:
                continue
            break
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert time.monotonic() - started < BODY_TIMEOUT + 4


def test_a_sized_body_that_stops_short_is_408_or_400(daemon: Envoxyd) -> None:
    answer = daemon.send(put(b"hello", b"Content-Length: 50"), timeout=15)
    assert_refused(answer, 408, "Request body not received in time")
    assert answer.seconds < BODY_TIMEOUT + 4
    if daemon.listen == "--http-socket":  # the client closes its side: no need to wait
        answer = daemon.send(put(b"hello", b"Content-Length: 50"), half_close=True)
        assert_refused(answer, 400, "Incomplete or malformed request body")


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ([b"X-Big: " + b"a" * (31 * 1024)], 200),
        ([b"X-Part-%d: %s" % (n, b"b" * 1000) for n in range(31)], 200),
        ([b"X-Big: " + b"a" * (33 * 1024)], 431),
        ([b"X-Part-%d: %s" % (n, b"b" * 1000) for n in range(34)], 431),
        ([b"Cookie: " + b"c" * (48 * 1024)], 431),
    ],
    ids=["31KiB", "31x1KiB", "33KiB", "34x1KiB", "48KiB-cookie"],
)
def test_headers_up_to_32_kib_are_served_and_larger_ones_get_431(
    daemon: Envoxyd, headers: list[bytes], status: int
) -> None:
    lines = b"".join(header + b"\r\n" for header in headers)
    answer = daemon.send(b"GET /v1/echo HTTP/1.1\r\nHost: adversary\r\n" + lines + b"\r\n")
    if status == 200:
        assert answer.status == 200, answer.raw[:300]
    else:
        assert_refused(answer, 431, "Request header fields too large (limit 32 KiB)")


@pytest.mark.parametrize(
    "target",
    [b"/v1/echo%00", b"/v1/echo?a=%00", b"/v1/echo?a=b%00c&d=e", b"/v1/echo?a=\x00"],
    ids=["path", "query", "query-middle", "query-raw"],
)
def test_a_nul_byte_in_the_path_or_query_is_400(daemon: Envoxyd, target: bytes) -> None:
    answer = daemon.send(b"GET " + target + b" HTTP/1.1\r\nHost: adversary\r\n\r\n")
    assert_refused(answer, 400, "NUL byte in the path or query")


def test_an_empty_request_gets_no_traceback(daemon: Envoxyd) -> None:
    answer = daemon.send(b"\r\n\r\n", half_close=daemon.listen == "--http-socket")
    if daemon.listen == "--http-socket":
        assert_refused(answer, 400, "Malformed request line")
    else:  # the router cannot read a request line: it closes without calling a worker
        assert answer.raw == b""
    assert healthy(daemon)
    assert "Traceback" not in daemon.log()


class SlowClients:
    """Connections that send a header line or a body byte every second."""

    def __init__(self, port: int, headers: int, bodies: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.connected = 0
        self.lock = threading.Lock()
        kinds = ["headers"] * headers + ["body"] * bodies
        self.threads = [threading.Thread(target=self._run, args=(kind,)) for kind in kinds]

    def __enter__(self) -> "SlowClients":
        for thread in self.threads:
            thread.start()
        deadline = time.monotonic() + 10
        while self.connected < len(self.threads) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.connected == len(self.threads)
        time.sleep(1.5)  # let every connection reach a worker thread or the router
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)

    def _run(self, kind: str) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as connection:
            if kind == "headers":
                connection.sendall(b"GET /v1/echo HTTP/1.1\r\nHost: slow\r\n")
            else:
                connection.sendall(put(b"", b"Content-Length: 100000"))
            with self.lock:
                self.connected += 1
            while not self.stop.wait(1.0):
                try:
                    connection.sendall(b"X-Slow: 1\r\n" if kind == "headers" else b"a")
                except OSError:
                    return


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_slow_clients_do_not_starve_the_default_deployment(tmp_path: Path, mode: str) -> None:
    """The README's command with its defaults: /_health answers within 1 s throughout.

    Under ``--http`` 16 slow-header and 16 slow-body clients: the router holds slow
    headers without a worker. Under ``--http-socket`` a worker thread reads the headers
    too, so 8 + 8 (still 16 connections held, half of the 32 threads).
    """
    server = start(mode, write_config(tmp_path))
    try:
        slow = (16, 16) if mode == "--http" else (8, 8)
        with SlowClients(server.port, *slow):
            delays = []
            for _ in range(12):
                started = time.monotonic()
                assert healthy(server, timeout=2), f"/_health failed under slow clients ({mode})"
                delays.append(time.monotonic() - started)
                time.sleep(0.25)
        assert max(delays) < 1.0, delays
        assert healthy(server)
    finally:
        server.stop()
    assert "Traceback" not in server.log()
