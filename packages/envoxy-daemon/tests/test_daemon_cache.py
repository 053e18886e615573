"""@cache against the real Redis server: hits, caller isolation, X-No-Cache, failures."""

import contextlib
import functools
import itertools
import json
import os
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.test import Client

from envoxy.auth import set_auth_class
from envoxy.daemon.app import create_app
from envoxy.decorators import auth_required, cache, on
from envoxy.exceptions import ConfigError
from envoxy.utils.config import Config
from envoxy.views import View
from envoxy.views.exceptions import UnsafeCacheOrderError

pytestmark = [pytest.mark.redis, pytest.mark.integration]

COUNTER = itertools.count()


@on(endpoint="/v1/cached/{item_id:int}")
class CachedView(View):
    @cache(ttl=60)
    def get(self, request, item_id, **kwargs):
        return {
            "item": item_id,
            "caller": request.headers.get("Authorization", "anonymous"),
            "call": next(COUNTER),
        }

    @cache(ttl=60)
    def post(self, request, item_id, **kwargs):
        return {"body": request.get_json(), "call": next(COUNTER)}


@contextlib.contextmanager
def cache_client(
    tmp_path: Path, redis_url: str, views: list, **settings: object
) -> Iterator[Client]:
    """A test client of ``views`` with a ``cache`` section on the real Redis server."""
    parts = urlsplit(redis_url)
    prefix = f"envoxy-daemon-test-{os.getpid()}-{time.monotonic_ns()}"
    path = tmp_path / "envoxy.json"
    path.write_text(
        json.dumps(
            {
                "cache": {
                    "host": parts.hostname,
                    "port": parts.port,
                    "db": int(parts.path.strip("/") or 1),
                    "key_prefix": prefix,
                    **settings,
                }
            }
        )
    )
    previous = Config.file_path
    Config.set_file_path(str(path))
    from envoxy.cache import Cache

    Cache.close_all()
    try:
        yield Client(create_app({}, views=views), use_cookies=False)
    finally:
        Cache.close_all()
        Config.set_file_path(previous)


@pytest.fixture
def client(tmp_path: Path, redis_url: str) -> Iterator[Client]:
    with cache_client(tmp_path, redis_url, [CachedView]) as test_client:
        yield test_client


def test_second_call_is_a_hit(client: Client) -> None:
    first = client.get("/v1/cached/1", headers={"Authorization": "Bearer alice"})
    second = client.get("/v1/cached/1", headers={"Authorization": "Bearer alice"})
    assert first.json == second.json
    assert second.headers["X-Cache"] == "HIT"
    assert "X-Cache" not in first.headers


def test_two_callers_never_share_an_answer(client: Client) -> None:
    alice = client.get("/v1/cached/2", headers={"Authorization": "Bearer alice"})
    bob = client.get("/v1/cached/2", headers={"Authorization": "Bearer bob"})
    anonymous = client.get("/v1/cached/2")
    assert alice.json["caller"] == "Bearer alice"
    assert bob.json["caller"] == "Bearer bob"
    assert anonymous.json["caller"] == "anonymous"
    assert client.get("/v1/cached/2", headers={"Authorization": "Bearer bob"}).json == bob.json


def test_query_and_body_are_part_of_the_key(client: Client) -> None:
    plain = client.get("/v1/cached/3")
    queried = client.get("/v1/cached/3?page=2")
    assert plain.json["call"] != queried.json["call"]
    one = client.post("/v1/cached/3", json={"n": 1})
    two = client.post("/v1/cached/3", json={"n": 2})
    assert one.json["body"] == {"n": 1}
    assert two.json["body"] == {"n": 2}
    assert client.post("/v1/cached/3", json={"n": 1}).headers["X-Cache"] == "HIT"


def test_x_no_cache_skips_the_lookup(client: Client) -> None:
    first = client.get("/v1/cached/4")
    fresh = client.get("/v1/cached/4", headers={"X-No-Cache": "1"})
    assert fresh.json["call"] != first.json["call"]
    assert "X-Cache" not in fresh.headers


def test_backend_failure_lets_the_view_run(tmp_path: Path) -> None:
    path = tmp_path / "envoxy.json"
    path.write_text(json.dumps({"cache": {"host": "127.0.0.1", "port": 9, "connect_timeout": 1}}))
    previous = Config.file_path
    Config.set_file_path(str(path))
    from envoxy.cache import Cache

    Cache.close_all()
    try:

        @on(endpoint="/v1/unreachable")
        class Unreachable(View):
            @cache(ttl=5)
            def get(self, request, **kwargs):
                return {"ran": True}

        answer = Client(create_app({}, views=[Unreachable])).get("/v1/unreachable")
        assert answer.status_code == 200
        assert answer.json == {"ran": True}
    finally:
        Cache.close_all()
        Config.set_file_path(previous)


AUTH_PLUGIN = textwrap.dedent(
    """
    from http.cookies import SimpleCookie


    class Marker:
        pass


    class Auth:
        def authenticate(self, request, topic=None, **kwargs):
            session = request.headers.get("X-Session")  # not a default vary header
            if session in ("alice", "bob"):
                return {"user": session}
            cookie = SimpleCookie(request.headers.get("Cookie", ""))
            if "sid" in cookie and cookie["sid"].value in ("alice", "bob"):
                return {"user": cookie["sid"].value}
            if request.headers.get("X-Api-Key") == "object":
                return {"user": Marker()}  # no canonical form: never cached
            return None
    """
)


@on(endpoint="/v1/me/above")
class CacheAboveAuth(View):
    @cache(ttl=60)
    @auth_required
    def get(self, request, **kwargs):
        return {"user": str(kwargs["user"]), "call": next(COUNTER)}


@on(endpoint="/v1/me/below")
class AuthAboveCache(View):
    @auth_required
    @cache(ttl=60)
    def get(self, request, **kwargs):
        return {"user": str(kwargs["user"]), "call": next(COUNTER)}


@on(endpoint="/v1/me/answers")
class Answers(View):
    @cache(ttl=60)
    def get(self, request, **kwargs):
        kind = request.args.get("kind")
        result: dict = {"payload": {"call": next(COUNTER)}}
        if kind == "cookie":
            result["cookies"] = [{"key": "sid", "value": "fresh"}]
        elif kind:
            result["headers"] = {"Cache-Control": kind}
        return result


@pytest.fixture
def auth_client(tmp_path: Path, client: Client) -> Iterator[Client]:
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    (plugin / "auth.py").write_text(AUTH_PLUGIN)
    views = [CacheAboveAuth, AuthAboveCache, Answers, CachedView]
    try:
        yield Client(create_app({"plugins": {"auth": str(plugin)}}, views=views), use_cookies=False)
    finally:
        sys.modules.pop("auth", None)
        sys.path.remove(str(plugin))
        set_auth_class(None)


@pytest.mark.parametrize("path", ["/v1/me/above", "/v1/me/below"])
def test_auth_runs_before_the_lookup_in_either_order(auth_client: Client, path: str) -> None:
    alice = auth_client.get(path, headers={"Cookie": "sid=alice"})
    assert alice.json["user"] == "alice"
    assert auth_client.get(path, headers={"Cookie": "sid=alice"}).headers["X-Cache"] == "HIT"
    anonymous = auth_client.get(path)
    assert anonymous.status_code == 401
    assert "X-Cache" not in anonymous.headers
    bob = auth_client.get(path, headers={"Cookie": "sid=bob"})
    assert bob.json["user"] == "bob"
    assert "X-Cache" not in bob.headers


@pytest.mark.parametrize("path", ["/v1/me/above", "/v1/me/below"])
def test_the_identity_is_part_of_the_key(auth_client: Client, path: str) -> None:
    # X-Session is no credential header the cache knows of: only the identity tells
    alice = auth_client.get(path, headers={"X-Session": "alice"}).json
    bob = auth_client.get(path, headers={"X-Session": "bob"})
    assert bob.json["user"] == "bob"
    assert "X-Cache" not in bob.headers
    assert auth_client.get(path, headers={"X-Session": "alice"}).json == alice


def test_an_identity_without_canonical_form_is_never_cached(auth_client: Client) -> None:
    first = auth_client.get("/v1/me/above", headers={"X-Api-Key": "object"})
    second = auth_client.get("/v1/me/above", headers={"X-Api-Key": "object"})
    assert first.status_code == second.status_code == 200
    assert first.json["call"] != second.json["call"]
    assert "X-Cache" not in second.headers


@pytest.mark.parametrize(
    "headers",
    [
        {"Cookie": "sid=2"},
        {"X-Api-Key": "k2"},
        {"X-Auth-Token": "t2"},
        {"Proxy-Authorization": "Basic eDp6"},
        {"Authorization": "Bearer alice", "Cookie": "sid=1"},
    ],
)
def test_every_credential_header_separates_callers(client: Client, headers: dict) -> None:
    base = {"Authorization": "Bearer alice", "Cookie": "sid=1", "X-Api-Key": "k1"}
    path = f"/v1/cached/{next(COUNTER) + 1000}"
    first = client.get(path, headers=base)
    assert client.get(path, headers=base).headers["X-Cache"] == "HIT"
    other = client.get(path, headers={**base, **headers} if len(headers) == 1 else headers)
    assert "X-Cache" not in other.headers
    assert other.json["call"] != first.json["call"]


@pytest.mark.parametrize("kind", ["cookie", "no-store", "private, max-age=60"])
def test_answers_that_set_a_cookie_or_forbid_storing_are_not_stored(
    auth_client: Client, kind: str
) -> None:
    first = auth_client.get(f"/v1/me/answers?kind={kind}")
    second = auth_client.get(f"/v1/me/answers?kind={kind}")
    assert first.status_code == 200
    assert first.json != second.json
    assert "X-Cache" not in second.headers
    public = auth_client.get("/v1/me/answers?kind=public")
    assert auth_client.get("/v1/me/answers?kind=public").json == public.json


def test_cache_above_a_decorator_hiding_auth_is_refused() -> None:
    def traced(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **kwargs)

        return wrapper

    with pytest.raises(UnsafeCacheOrderError, match=r"@cache on .*get.*directly above or below"):

        class Hidden(View):
            @cache(ttl=60)
            @traced
            @auth_required
            def get(self, request, **kwargs):
                return {}


def test_an_auth_check_hidden_from_the_cache_stops_it_storing(auth_client: Client) -> None:
    def opaque(func):  # no functools.wraps: the cache cannot see the auth decorator
        def wrapper(*args, **kwargs):
            return func(*args, **kwargs)

        return wrapper

    @on(endpoint="/v1/me/opaque")
    class Opaque(View):
        @cache(ttl=60)
        @opaque
        @auth_required
        def get(self, request, **kwargs):
            return {"user": kwargs["user"], "call": next(COUNTER)}

    plugin = str(sys.path[0])
    opaque_client = Client(create_app({"plugins": {"auth": plugin}}, views=[Opaque]))
    alice = opaque_client.get("/v1/me/opaque", headers={"X-Session": "alice"})
    again = opaque_client.get("/v1/me/opaque", headers={"X-Session": "alice"})
    assert alice.json["user"] == "alice"
    assert again.json["call"] != alice.json["call"]
    assert opaque_client.get("/v1/me/opaque").status_code == 401


def test_configured_vary_headers_separate_callers(tmp_path: Path, redis_url: str) -> None:
    @on(endpoint="/v1/tenant")
    class Tenant(View):
        @cache(ttl=60)
        def get(self, request, **kwargs):
            return {"tenant": request.headers.get("X-Tenant"), "call": next(COUNTER)}

    with cache_client(tmp_path, redis_url, [Tenant], vary_headers=["X-Tenant"]) as tenants:
        one = tenants.get("/v1/tenant", headers={"X-Tenant": "one"})
        two = tenants.get("/v1/tenant", headers={"x-tenant": "two"})
        assert (one.json["tenant"], two.json["tenant"]) == ("one", "two")
        assert tenants.get("/v1/tenant", headers={"X-Tenant": "one"}).json == one.json


def test_malformed_vary_headers_are_a_startup_error() -> None:
    with pytest.raises(ConfigError, match=r"cache\.vary_headers"):
        create_app({"cache": {"vary_headers": "X-A: b"}}, views=[CachedView])
