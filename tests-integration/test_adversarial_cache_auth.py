"""Adversarial multi-user tests of @cache and the auth decorators against a real envoxyd
and the real Redis server.

Alice and Bob are told apart by a session cookie, an ``X-Api-Key`` header or an
``Authorization`` header; the cached views list ``@cache`` above and below
``@auth_required``. Every request goes over a raw socket, as a hostile client's would.
The last test loads a worker with anonymous 16 MB JSON bodies and reads its peak RSS
from ``/proc``: the body must not be parsed (nor read) before auth accepts the caller.
"""

import json
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from envoxy_testing.envoxyd import Envoxyd, write_config

pytestmark = [pytest.mark.integration, pytest.mark.redis]


PLUGIN = textwrap.dedent(
    '''
    """A plausible auth plugin: callers are known by session cookie, X-Api-Key or bearer."""

    from http.cookies import SimpleCookie

    USERS = {"alice": {"user": "alice", "roles": ["reader"]},
             "bob": {"user": "bob", "roles": ["reader", "admin"]}}
    SESSIONS = {"s-alice": "alice", "s-bob": "bob"}
    KEYS = {"k-alice": "alice", "k-bob": "bob"}
    BEARERS = {"Bearer t-alice": "alice", "Bearer t-bob": "bob"}
    # X-Api-Key values that make authenticate return something that is not an identity
    ODD = {"ret-none": None, "ret-false": False, "ret-empty": "", "ret-zero": 0,
           "ret-list": [], "ret-string": "alice", "ret-empty-dict": {}}


    class Auth:
        def authenticate(self, request, topic=None, **kwargs):
            key = request.headers.get("X-Api-Key", "")
            if key in ODD:
                return ODD[key]
            if key in KEYS:
                return dict(USERS[KEYS[key]])
            if request.headers.get("Authorization") in BEARERS:
                return dict(USERS[BEARERS[request.headers["Authorization"]]])
            cookie = SimpleCookie(request.headers.get("Cookie", ""))
            if "session" in cookie and cookie["session"].value in SESSIONS:
                return dict(USERS[SESSIONS[cookie["session"].value]])
            return None  # unknown caller: the plugin simply says "nobody"

        def anonymous(self, request, topic=None, **kwargs):
            return {}
    '''
)

VIEWS = textwrap.dedent(
    """
    import itertools
    import os

    from envoxy.decorators import auth_required, cache, on
    from envoxy.views import View

    CALLS = itertools.count()


    @on(endpoint="/v1/me")
    class CacheAboveAuth(View):
        @cache(ttl=60)
        @auth_required
        def get(self, request, **kwargs):
            return {"user": kwargs["user"], "call": f"{os.getpid()}-{next(CALLS)}"}


    @on(endpoint="/v1/me2")
    class AuthAboveCache(View):
        @auth_required
        @cache(ttl=60)
        def get(self, request, **kwargs):
            return {"user": kwargs["user"], "call": f"{os.getpid()}-{next(CALLS)}"}


    @on(endpoint="/v1/admin")
    class Admin(View):
        @auth_required(roles=["admin"])
        def get(self, request, **kwargs):
            return {"user": kwargs["user"]}


    @on(endpoint="/v1/upload")
    class Upload(View):
        @auth_required
        def post(self, request, **kwargs):
            return {"user": kwargs["user"], "size": len(request.get_json())}


    @on(endpoint="/v1/public")
    class Public(View):
        @cache(ttl=60)
        def get(self, request, **kwargs):
            cookie = request.headers.get("Cookie", "")
            key = request.headers.get("X-Api-Key", "")
            return {"seen": cookie + "|" + key, "call": f"{os.getpid()}-{next(CALLS)}"}


    @on(endpoint="/v1/pid")
    class Pid(View):
        def get(self, request, **kwargs):
            return {"pid": os.getpid()}


    __loader__ = [CacheAboveAuth, AuthAboveCache, Admin, Upload, Public, Pid]
    """
)

ALICE = {
    "cookie": b"Cookie: session=s-alice\r\n",
    "api-key": b"X-Api-Key: k-alice\r\n",
    "bearer": b"Authorization: Bearer t-alice\r\n",
}
BOB = {
    "cookie": b"Cookie: session=s-bob\r\n",
    "api-key": b"X-Api-Key: k-bob\r\n",
    "bearer": b"Authorization: Bearer t-bob\r\n",
}


def start_service(directory: Path, config: dict[str, Any], *arguments: str) -> Envoxyd:
    """envoxyd (``--http-socket``) serving ``config`` from ``directory``."""
    path = write_config(directory, config)
    return Envoxyd(*arguments, "--set", f"conf={path}", cwd=directory)


def worker_pid(daemon: Envoxyd) -> int:
    """The pid of the worker that answers (run it with ``--processes 1``)."""
    return int(get(daemon, "/v1/pid")[2]["pid"])


def get(daemon: Envoxyd, path: str, *headers: bytes) -> tuple[int, dict[str, str], dict]:
    answer = daemon.send(
        f"GET {path} HTTP/1.0\r\nHost: t\r\n".encode() + b"".join(headers) + b"\r\n"
    )
    return answer.status, answer.headers, answer.json() if answer.body else {}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Envoxyd]:
    directory = tmp_path_factory.mktemp("adversarial-cache-auth")
    (directory / "plugins").mkdir()
    (directory / "plugins" / "auth.py").write_text(PLUGIN)
    (directory / "views.py").write_text(VIEWS)
    parts = urlsplit(redis_url)
    config = {
        "modules": ["views.py"],
        "plugins": {"auth": str(directory / "plugins")},
        "log": {"level": 4},
        "cache": {
            "host": parts.hostname,
            "port": parts.port,
            "db": int(parts.path.strip("/") or 1),
            "key_prefix": f"envoxy-adversarial-{uuid.uuid4().hex[:10]}",
        },
    }
    daemon = start_service(directory, config, "--processes", "2", "--threads", "2")
    yield daemon
    daemon.stop()


@pytest.mark.parametrize("path", ["/v1/me", "/v1/me2"])
@pytest.mark.parametrize("scheme", ["cookie", "api-key", "bearer"])
def test_bob_never_gets_alices_cached_answer(service: Envoxyd, path: str, scheme: str) -> None:
    path = f"{path}?scheme={scheme}"
    status, _, alice = get(service, path, ALICE[scheme])
    assert status == 200
    assert alice["user"] == "alice"
    status, headers, again = get(service, path, ALICE[scheme])
    assert status == 200
    assert again == alice
    assert headers.get("x-cache") == "HIT"
    status, headers, bob = get(service, path, BOB[scheme])
    assert status == 200, bob
    assert bob["user"] == "bob"
    assert "x-cache" not in headers


@pytest.mark.parametrize("path", ["/v1/me", "/v1/me2"])
def test_no_credentials_never_reach_a_cached_answer(service: Envoxyd, path: str) -> None:
    path = f"{path}?scheme=none"
    assert get(service, path, ALICE["cookie"])[0] == 200
    assert get(service, path, ALICE["cookie"])[1].get("x-cache") == "HIT"
    status, headers, body = get(service, path)
    assert status == 401, body
    assert "alice" not in json.dumps(body)
    assert "x-cache" not in headers
    assert " :: ELRC(" in body["error"]
    # a forged cookie for an unknown session is no better than none
    status, _, body = get(service, path, b"Cookie: session=s-mallory\r\n")
    assert status == 401
    assert "alice" not in json.dumps(body)


@pytest.mark.parametrize(
    "returned",
    ["ret-none", "ret-false", "ret-empty", "ret-zero", "ret-list", "ret-string", "ret-empty-dict"],
)
@pytest.mark.parametrize("path", ["/v1/me", "/v1/me2", "/v1/admin"])
def test_a_plugin_answer_that_is_no_identity_is_401(
    service: Envoxyd, path: str, returned: str
) -> None:
    status, headers, body = get(service, path, f"X-Api-Key: {returned}\r\n".encode())
    assert status == 401, body
    assert headers["content-type"] == "application/json"
    assert "user" not in body


def test_roles_are_enforced(service: Envoxyd) -> None:
    status, _, body = get(service, "/v1/admin", ALICE["api-key"])
    assert status == 403, body
    assert "alice" not in json.dumps(body)
    assert get(service, "/v1/admin", BOB["api-key"])[2] == {"user": "bob"}


def test_a_view_without_auth_varies_on_every_credential_header(service: Envoxyd) -> None:
    first = get(service, "/v1/public", ALICE["cookie"])[2]
    assert get(service, "/v1/public", ALICE["cookie"])[1].get("x-cache") == "HIT"
    for headers in (
        (BOB["cookie"],),
        (),
        (ALICE["cookie"], b"X-Api-Key: other\r\n"),
        (b"cookie: session=s-carol\r\n",),
        (b"X-AUTH-TOKEN: t\r\n",),
        (b"Proxy-Authorization: Basic eDp5\r\n",),
    ):
        status, answer_headers, body = get(service, "/v1/public", *headers)
        assert status == 200
        assert "x-cache" not in answer_headers, headers
        assert body["call"] != first["call"]


@pytest.mark.slow
def test_anonymous_16mb_json_bodies_are_not_parsed_before_auth(
    tmp_path: Path, redis_url: str
) -> None:
    """8 concurrent anonymous 16 MB JSON bodies: the worker's peak RSS grows < 100 MB.

    Then 8 authenticated ones: refused by the value budget (413) before any parse, so the
    growth is the bodies' bytes, not millions of Python objects.
    """
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "auth.py").write_text(PLUGIN)
    (tmp_path / "views.py").write_text(VIEWS)
    config = {
        "modules": ["views.py"],
        "plugins": {"auth": str(tmp_path / "plugins")},
        "log": {"level": 4},
    }
    daemon = start_service(tmp_path, config, "--processes", "1", "--threads", "8")
    try:
        worker = worker_pid(daemon)
        # 16 MiB of empty objects: the most Python objects per byte of JSON
        count = (16 * 1024 * 1024 - 2) // 3
        body = b"[" + b"{}," * (count - 1) + b"{}]"
        start = _peak_rss_mb(worker)
        anonymous = _post_concurrently(daemon, body, b"")
        middle = _peak_rss_mb(worker)
        authenticated = _post_concurrently(daemon, body, BOB["api-key"])
        end = _peak_rss_mb(worker)
        print(
            f"\nworker peak RSS: {start:.0f} MB at start, {middle:.0f} MB after 8 anonymous "
            f"16 MB JSON bodies {sorted(anonymous)}, {end:.0f} MB after 8 authenticated "
            f"ones {sorted(authenticated)}"
        )
        assert all(status in (401, 0) for status in anonymous), anonymous
        assert 401 in anonymous
        assert middle - start < 100, (start, middle)
        assert authenticated == [413] * 8
        assert end - middle < 320, (middle, end)
        assert get(daemon, "/v1/admin", BOB["api-key"])[0] == 200
    finally:
        daemon.stop()


def _post_concurrently(daemon: Envoxyd, body: bytes, credentials: bytes) -> list[int]:
    head = (
        b"POST /v1/upload HTTP/1.0\r\nHost: t\r\nContent-Type: application/json\r\n"
        + credentials
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    statuses: list[int] = []

    def send() -> None:
        statuses.append(daemon.send(head + body, timeout=60).status)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return statuses


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for {pid}")
