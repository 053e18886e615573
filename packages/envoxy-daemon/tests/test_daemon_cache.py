"""@cache against the real Redis server: hits, caller isolation, X-No-Cache, failures."""

import itertools
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.test import Client

from envoxy.daemon.app import create_app
from envoxy.decorators import cache, on
from envoxy.utils.config import Config
from envoxy.views import View

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


@pytest.fixture
def client(tmp_path: Path, redis_url: str) -> Iterator[Client]:
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
                }
            }
        )
    )
    previous = Config.file_path
    Config.set_file_path(str(path))
    from envoxy.cache import Cache

    Cache.close_all()
    try:
        yield Client(create_app({}, views=[CachedView]))
    finally:
        Cache.close_all()
        Config.set_file_path(previous)


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
