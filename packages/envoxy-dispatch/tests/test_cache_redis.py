"""envoxy.cache's Redis backend against the real Redis server of tools/services."""

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis

from envoxy.cache import Cache, RedisCache
from envoxy.redis import RedisSerializationError
from envoxy_testing.forking import in_child

pytestmark = pytest.mark.redis

PREFIX = f"envoxy-dispatch-test:cache:{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def settings(redis_url: str) -> dict[str, object]:
    parts = urlsplit(redis_url)
    return {
        "backend": "redis",
        "bind": f"{parts.hostname}:{parts.port}",
        "db": int(parts.path.strip("/") or 0),
        "ttl": 120,
        "key_prefix": PREFIX,
    }


@pytest.fixture(scope="module")
def raw(settings: dict[str, object]) -> Iterator[redis.Redis]:
    host, port = str(settings["bind"]).split(":")
    connection = redis.Redis(host=host, port=int(port), db=int(str(settings["db"])))
    yield connection
    for key in connection.scan_iter(f"{PREFIX}:*"):
        connection.delete(key)
    connection.close()


@pytest.fixture
def cache(settings: dict[str, object]) -> Iterator[RedisCache]:
    backend = RedisCache(settings)
    yield backend
    backend.close()


def test_set_then_get_round_trip(cache: RedisCache) -> None:
    assert cache.set("/v3/users", "get", {"page": 1}, {"elements": [1, 2]}) is True
    assert cache.get("/v3/users", "get", {"page": 1}) == {"elements": [1, 2]}


def test_miss_is_an_empty_dict(cache: RedisCache) -> None:
    assert cache.get("/v3/users", "get", {"page": 999}) == {}


def test_key_layout_and_atomic_expiry(cache: RedisCache, raw: redis.Redis) -> None:
    cache.set("/v3/items", "post", {"q": "x"}, {"ok": True}, ttl=30)
    params = base64.urlsafe_b64encode(b'{"q":"x"}').decode()
    stored = f"{PREFIX}:/v3/items:post:{params}"
    assert json.loads(raw.get(stored) or b"null") == {"ok": True}
    assert 25 < raw.ttl(stored) <= 30


def test_default_ttl_comes_from_the_section(cache: RedisCache, raw: redis.Redis) -> None:
    cache.set("/v3/ttl", "get", {}, {"ok": True})
    assert 110 < raw.ttl(cache.key("/v3/ttl", "get", {})) <= 120


def test_unserialisable_data_writes_nothing(cache: RedisCache, raw: redis.Redis) -> None:
    with pytest.raises(RedisSerializationError):
        cache.set("/v3/bad", "get", {}, {"x": object()})
    assert raw.exists(cache.key("/v3/bad", "get", {})) == 0


def test_invalidate_drops_the_endpoint_and_paths_below_it(
    cache: RedisCache, raw: redis.Redis
) -> None:
    for endpoint in ("/v1/products", "/v1/products?page_size=2", "/v1/products/abc"):
        cache.set(endpoint, "get", {"auth": ""}, {"cached": endpoint})
    cache.set("/v1/productsheet", "get", {}, {"other": 1})
    cache.set("/v1/orders", "get", {}, {"other": 2})
    cache.set("/v1/[odd]*", "get", {}, {"other": 3})

    assert cache.invalidate("/v1/products/abc") == 1
    assert cache.invalidate("/v1/products/") == 2
    assert cache.invalidate("/v1/products") == 0
    assert cache.invalidate("/v1/[odd]*") == 1

    assert cache.get("/v1/products", "get", {"auth": ""}) == {}
    assert cache.get("/v1/orders", "get", {}) == {"other": 2}
    assert cache.get("/v1/productsheet", "get", {}) == {"other": 1}
    assert not list(raw.scan_iter(f"{PREFIX}:/v1/products[:?/]*"))


def test_invalidate_removes_more_keys_than_one_batch(cache: RedisCache) -> None:
    for index in range(1200):
        cache.set(f"/bulk/{index}", "get", {}, {"n": index})

    assert cache.invalidate("/bulk") == 1200
    assert cache.get("/bulk/7", "get", {}) == {}


def test_cache_front_end_delegates_to_the_shared_backend(settings: dict[str, object]) -> None:
    first, second = Cache(settings), Cache(dict(settings))
    first.set("/v3/front", "get", {"a": 1}, {"hit": True})
    assert second.get("/v3/front", "get", {"a": 1}) == {"hit": True}
    assert first.redis is second.redis
    Cache.close_all()
    Cache.close_all()


def test_forked_child_uses_its_own_pool(cache: RedisCache) -> None:
    cache.set("/v3/fork", "get", {}, {"from": "parent"})
    parent = cache.redis

    def in_the_child() -> dict[str, Any]:
        return {"value": cache.get("/v3/fork", "get", {}), "new": cache.redis is not parent}

    assert in_child(in_the_child) == {"value": {"from": "parent"}, "new": True}
    assert cache.get("/v3/fork", "get", {}) == {"from": "parent"}
