"""Fuzz: seeded random malformed and hostile requests against a running envoxyd.

20,000 requests through ``--http-socket`` (half of them hostile: chunked variants,
conflicting lengths, NULs, huge headers, truncated bodies, empty requests) and 2,000
through the ``--http`` router. No answer may be a 5xx, except the 500 of ``/v1/boom``
(a view that raises on purpose); no body may hold internals (a traceback, the
exception's text, a file path); a valid chunked JSON body always reaches the view
whole; the service answers ``/_health`` afterwards. A connection closed by uWSGI
without an answer (an unparsable request line, headers past 64 KiB) is acceptable.
"""

import json
import random
import socket
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

SAMPLE = Path(__file__).with_name("views_sample.py")
#: through --http-socket: every other one hostile (10,000), the rest random malformed
REQUESTS = 20_000
ROUTER_REQUESTS = 2_000
SEED = 20240611
#: what no body may contain: a traceback, the boom view's exception text, source paths
INTERNALS = (b"Traceback", b"secret internals", b'File "', b"site-packages", b'.py"', b"/envoxy/")

pytestmark = [pytest.mark.slow, pytest.mark.integration]

METHODS = [
    b"GET",
    b"POST",
    b"PUT",
    b"PATCH",
    b"DELETE",
    b"HEAD",
    b"OPTIONS",
    b"BREW",
    b"get",
    b"G\xffT",
]
PATHS = [
    b"/v1/items/1",
    b"/v1/items/{n}",
    b"/v1/items/abc",
    b"/v1/items/\xff\xfe",
    b"/v1/types/a/1.5/{uuid}/x/y",
    b"/v1/types/a/b/c/d",
    b"/v1/list",
    b"/v1/list?{query}",
    b"/v1/empty",
    b"/v1/text",
    b"/_health",
    b"/_ready",
    b"/",
    b"//v1//list",
    b"/v1/list/../items/1",
    b"/%ff%fe%00",
    b"/{junk}",
    b"/v1/items/1?a=%zz&b=\xff",
    b"/" + b"a" * 3000,
    b"/v1/boom",
]
CONTENT_TYPES = [
    b"application/json",
    b"application/json; charset=\xff",
    b"text/plain",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data; boundary=zz",
    b"\xff\xfe",
    b"",
]
BODIES = [
    b"",
    b"{",
    b'{"a": 1',
    b'{"a": 1}',
    b"[1, 2,",
    b"null",
    b'"\xff"',
    b"\xff\xfe\x00",
    b"a=1&b=%zz",
    b"--zz\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--",
    b'{"deep": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"big": 1' + b"0" * 400 + b"}",
]


def random_request(rng: random.Random) -> bytes:
    method = rng.choice(METHODS)
    path = (
        rng.choice(PATHS)
        .replace(b"{n}", str(rng.randint(-10, 10**20)).encode())
        .replace(b"{uuid}", rng.choice([b"0" * 8 + b"-0000-0000-0000-" + b"0" * 12, b"not-a-uuid"]))
        .replace(b"{query}", bytes(rng.randrange(32, 256) for _ in range(rng.randint(0, 40))))
        .replace(b"{junk}", bytes(rng.randrange(33, 256) for _ in range(rng.randint(1, 60))))
    )
    path = path.replace(b" ", b"%20").replace(b"\r", b"").replace(b"\n", b"")
    body = rng.choice(BODIES)
    if rng.random() < 0.2:
        body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    headers = [b"Host: fuzz"]
    if rng.random() < 0.8:
        headers.append(b"Content-Type: " + rng.choice(CONTENT_TYPES))
    if rng.random() < 0.5:
        headers.append(
            b"Accept: " + rng.choice([b"application/json", b"*/*", b"text/html", b"\xff"])
        )
    if rng.random() < 0.3:
        headers.append(b"X-" + bytes(rng.randrange(65, 91) for _ in range(5)) + b": \xff\xfe\x80")
    if rng.random() < 0.1:
        headers.append(b"Authorization: Bearer " + bytes(rng.randrange(33, 127) for _ in range(20)))
    if body or rng.random() < 0.5:
        declared = len(body) if rng.random() < 0.8 else rng.randint(0, len(body))
        headers.append(b"Content-Length: " + str(declared).encode())
    version = rng.choice([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.1", b"HTTP/9.9"])
    return (
        method + b" " + path + b" " + version + b"\r\n" + b"\r\n".join(headers) + b"\r\n\r\n" + body
    )


def hostile_request(rng: random.Random) -> tuple[bytes, bytes | None]:
    """Return a hostile request and, for a valid chunked JSON body, the JSON the view
    must echo (``None`` otherwise)."""
    kind = rng.randrange(8)
    start = b"PUT /v1/items/" + str(rng.randint(0, 99)).encode() + b" HTTP/1.1\r\nHost: fuzz\r\n"
    if kind == 0:  # a valid chunked JSON body, split at random, sometimes with trailers
        payload = json.dumps({"n": rng.randint(0, 10**6), "s": "x" * rng.randint(0, 3000)})
        data = payload.encode()
        cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(0, 6))))
        pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
        trailer = rng.choice([b"", b"X-Checksum: 1\r\n"])
        coding = rng.choice([b"chunked", b"Chunked", b"CHUNKED"])
        return (
            start
            + b"Content-Type: application/json\r\nTransfer-Encoding: "
            + coding
            + b"\r\n\r\n"
            + body
            + b"0\r\n"
            + trailer
            + b"\r\n",
            data,
        )
    if kind == 1:  # a broken chunked body
        broken = rng.choice(
            [
                b"5;ext=1\r\nhello\r\n0\r\n\r\n",
                b"-5\r\nhello\r\n0\r\n\r\n",
                b"FFFFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n",
                b"50\r\nhello",
                b"5\r\nhello",
                b"5\r\nhelloXX0\r\n\r\n",
                b"\r\n\r\n",
                b" 5\r\nhello\r\n0\r\n\r\n",
                bytes(rng.randrange(256) for _ in range(rng.randint(0, 200))),
            ]
        )
        coding = rng.choice([b"chunked", b"gzip, chunked", b"identity", b"chunked, chunked"])
        extra = rng.choice([b"", b"Content-Length: 5\r\n"])
        return start + b"Transfer-Encoding: " + coding + b"\r\n" + extra + b"\r\n" + broken, None
    if kind == 2:  # conflicting or invalid Content-Length
        body = b"hello!"
        lengths = rng.choice(
            [
                [b"5", b"6"],
                [b"6", b"6"],
                [b"6", b"0"],
                [b"5a"],
                [b"-1"],
                [b"+6"],
                [b"0x6"],
                [b"1e3"],
                [b"6 6"],
                [b"99999999999999999999999"],
                [b"\xef\xbc\x95"],
            ]
        )
        headers = b"".join(b"Content-Length: " + length + b"\r\n" for length in lengths)
        return start + headers + b"\r\n" + body, None
    if kind == 3:  # NUL bytes in the path, the query or a header
        where = rng.randrange(4)
        path = [b"/v1/list%00", b"/v1/items/1?q=a%00b", b"/v1/list?q=\x00", b"/v1/list"][where]
        header = b"X-Nul: a\x00b\r\n" if where == 3 else b""
        return b"GET " + path + b" HTTP/1.1\r\nHost: fuzz\r\n" + header + b"\r\n", None
    if kind == 4:  # huge headers: under, around and over 32 KiB (over 64 KiB uWSGI closes)
        size = rng.choice([1024, 16 * 1024, 31 * 1024, 33 * 1024, 48 * 1024, 70 * 1024])
        count = rng.choice([1, 8, 64])
        headers = b"".join(b"X-Big-%d: %s\r\n" % (n, b"a" * (size // count)) for n in range(count))
        return b"GET /v1/list HTTP/1.1\r\nHost: fuzz\r\n" + headers + b"\r\n", None
    if kind == 5:  # a body shorter than its Content-Length (the client stops)
        return start + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{", None
    if kind == 6:  # empty or broken request lines
        lines = [b"\r\n\r\n", b"\r\n", b"GET\r\n\r\n", b" / HTTP/1.1\r\n\r\n", b"\x00\r\n\r\n"]
        return rng.choice(lines), None
    # a big JSON body that the view echoes
    data = json.dumps({"k": ["v" * 50] * rng.randint(1, 2000)}).encode()
    return (
        start
        + b"Content-Type: application/json\r\nContent-Length: "
        + str(len(data)).encode()
        + b"\r\n\r\n"
        + data,
        None,
    )


def send(port: int, request: bytes, *, half_close: bool = True) -> bytes:
    """Send ``request`` and read the answer until the server closes (``half_close``: shut
    our side first; uWSGI's router drops the answer of a client that did)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        try:
            connection.sendall(request)
            if half_close:
                connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = []
        while True:
            try:
                chunk = connection.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def check(requests: list[tuple[bytes, bytes | None]], answers: list[bytes]) -> int:
    """Assert the fuzz rules over every answer; return how many requests were answered."""
    failures = []
    answered = 0
    for (request, echoed), answer in zip(requests, answers, strict=True):
        if not answer:
            if echoed is not None:
                failures.append(("valid chunked body not answered", request[:200], answer))
            continue
        answered += 1
        head, _, body = answer.partition(b"\r\n\r\n")
        parts = head.split(b"\r\n", 1)[0].split()
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        on_purpose = request.split(b" ", 2)[1:2] == [b"/v1/boom"] and status == 500
        if status >= 500 and not on_purpose:
            failures.append(("5xx", request[:200], answer[:300]))
        if any(marker in answer for marker in INTERNALS):
            failures.append(("internals in the answer", request[:200], answer[:300]))
        if echoed is not None and (status != 200 or json.loads(body)["body"] != json.loads(echoed)):
            failures.append(("chunked body lost", request[:200], answer[:300]))
    assert not failures, f"{len(failures)} failures, e.g. {failures[:3]}"
    return answered


def assert_healthy(daemon: Any) -> None:
    assert daemon.process.poll() is None, daemon.log()
    with urllib.request.urlopen(daemon.base + "/_health", timeout=5) as answer:
        assert answer.status == 200


def test_random_malformed_and_hostile_requests_never_get_a_5xx_or_internals(
    write_config: Callable[..., Path], start_envoxyd: Callable[..., Any]
) -> None:
    config = write_config({"modules": [str(SAMPLE)], "log": {"level": 3}, "body_timeout": 2})
    daemon = start_envoxyd("--processes", "2", "--threads", "4", "--set", f"conf={config}")
    rng = random.Random(SEED)
    requests = [
        hostile_request(rng) if index % 2 else (random_request(rng), None)
        for index in range(REQUESTS)
    ]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda item: send(daemon.port, item[0]), requests))
    elapsed = time.monotonic() - started
    answered = check(requests, answers)
    assert answered > REQUESTS * 0.8
    assert elapsed < 60
    assert_healthy(daemon)


def test_hostile_requests_through_the_http_router(
    write_config: Callable[..., Path], start_envoxyd: Callable[..., Any]
) -> None:
    config = write_config({"modules": [str(SAMPLE)], "log": {"level": 3}, "body_timeout": 2})
    daemon = start_envoxyd(
        "--processes", "2", "--threads", "4", "--set", f"conf={config}", listen="--http"
    )
    rng = random.Random(SEED + 1)
    requests = []
    while len(requests) < ROUTER_REQUESTS:
        request = hostile_request(rng) if rng.random() < 0.6 else (random_request(rng), None)
        # a client that stops short waits body_timeout: a few of those are enough here
        if request[0].endswith((b"{", b"hello")) and rng.random() < 0.9:
            continue
        requests.append(request)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda item: send(daemon.port, item[0], half_close=False), requests)
        )
    elapsed = time.monotonic() - started
    answered = check(requests, answers)
    assert answered > ROUTER_REQUESTS * 0.8
    assert elapsed < 60
    assert_healthy(daemon)
