"""Fuzz: 10,000 seeded random malformed requests against a running envoxyd.

No answer may be a 5xx and no body may hold a traceback. A connection closed by
uWSGI without an answer (e.g. an unparsable request line) is acceptable.
"""

import random
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

SAMPLE = Path(__file__).with_name("views_sample.py")
REQUESTS = 10_000
SEED = 20240611

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


def send(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        try:
            connection.sendall(request)
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


def test_random_malformed_requests_never_get_a_5xx_or_a_traceback(
    write_config: Callable[..., Path], start_envoxyd: Callable[..., Any]
) -> None:
    config = write_config({"modules": [str(SAMPLE)], "log": {"level": 3}})
    daemon = start_envoxyd("--processes", "2", "--threads", "4", "--set", f"conf={config}")
    rng = random.Random(SEED)
    requests = [random_request(rng) for _ in range(REQUESTS)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda request: send(daemon.port, request), requests))
    elapsed = time.monotonic() - started
    failures = []
    answered = 0
    for request, answer in zip(requests, answers, strict=True):
        if not answer:
            continue
        answered += 1
        status_line = answer.split(b"\r\n", 1)[0]
        parts = status_line.split()
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        if status >= 500 or b"Traceback" in answer:
            failures.append((request[:200], answer[:300]))
    assert not failures, f"{len(failures)} failures, e.g. {failures[:3]}"
    assert answered > REQUESTS * 0.8
    assert elapsed < 90
    assert daemon.process.poll() is None
