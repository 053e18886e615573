"""zmqc's reply cache of ``cached_routes``, on envoxy.cache and the real Redis server."""

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis

from envoxy.cache import Cache
from envoxy.constants import Performative
from envoxy.zeromq import ZmqClient
from envoxy_testing.zmq_peer import ReplyPeer

pytestmark = [pytest.mark.zmq, pytest.mark.redis]

#: Redis database of the zmq/mqtt/celery tests.
REDIS_DB = 9


class CountingPeer(ReplyPeer):
    """A REP peer answering ``{"status": <status>, "payload": {"n": <n-th request>}}``."""

    def __init__(self) -> None:
        self.status = 200
        super().__init__(lambda request: {"status": self.status, "payload": {"n": self.count}})


@pytest.fixture
def prefix() -> str:
    return f"envoxy-test-zmq-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def raw_redis(redis_url: str, prefix: str) -> Iterator[redis.Redis]:
    parts = urlsplit(redis_url)
    connection = redis.Redis(
        host=parts.hostname or "127.0.0.1", port=parts.port or 6379, db=REDIS_DB
    )
    yield connection
    for key in connection.scan_iter(f"{prefix}:*"):
        connection.delete(key)
    connection.close()


@pytest.fixture
def setup(redis_url: str, prefix: str) -> Iterator[tuple[ZmqClient, CountingPeer]]:
    parts = urlsplit(redis_url)
    peer = CountingPeer()
    cache = Cache({"bind": f"{parts.hostname}:{parts.port}", "db": REDIS_DB, "key_prefix": prefix})
    conf = {
        "host": "127.0.0.1",
        "port": peer.port,
        "timeout": 2,
        "retries": 0,
        "cached_routes": {"0:/v3/users/me": {"ttl": 120, "error_ttl": 7}},
    }
    client = ZmqClient({"core": conf}, workers={}, cache_factory=lambda: cache)
    yield client, peer
    client.close()
    peer.close()


def get(client: ZmqClient, url: str, headers: dict[str, Any] | None = None) -> Any:
    return client.request("core", Performative.GET, url, {"q": 1}, None, headers)


def test_cached_route_is_answered_from_the_cache(
    setup: tuple[ZmqClient, CountingPeer], raw_redis: redis.Redis, prefix: str
) -> None:
    client, peer = setup
    first = get(client, "/v3/users/me/devices")
    second = get(client, "/v3/users/me/devices")
    assert first == second == {"status": 200, "payload": {"n": 1}}
    assert peer.count == 1
    (key,) = list(raw_redis.scan_iter(f"{prefix}:*"))
    assert 100 < raw_redis.ttl(key) <= 120


def test_cache_entries_are_per_authorization(setup: tuple[ZmqClient, CountingPeer]) -> None:
    client, peer = setup
    assert get(client, "/v3/users/me", {"Authorization": "Bearer alice"})["payload"] == {"n": 1}
    assert get(client, "/v3/users/me", {"Authorization": "Bearer bob"})["payload"] == {"n": 2}
    assert get(client, "/v3/users/me", {"Authorization": "Bearer alice"})["payload"] == {"n": 1}
    assert peer.count == 2


def test_x_no_cache_skips_the_lookup(setup: tuple[ZmqClient, CountingPeer]) -> None:
    client, peer = setup
    get(client, "/v3/users/me")
    assert get(client, "/v3/users/me", {"X-No-Cache": True})["payload"] == {"n": 2}
    assert peer.count == 2


def test_other_routes_are_not_cached(setup: tuple[ZmqClient, CountingPeer]) -> None:
    client, peer = setup
    get(client, "/v3/devices/1")
    get(client, "/v3/devices/1")
    client.request("core", Performative.POST, "/v3/users/me", {"q": 1})
    assert peer.count == 3


def test_error_replies_use_error_ttl(
    setup: tuple[ZmqClient, CountingPeer], raw_redis: redis.Redis, prefix: str
) -> None:
    client, peer = setup
    peer.status = 404
    assert get(client, "/v3/users/me")["status"] == 404
    assert get(client, "/v3/users/me")["payload"] == {"n": 1}
    (key,) = list(raw_redis.scan_iter(f"{prefix}:*"))
    assert 0 < raw_redis.ttl(key) <= 7


def test_an_unreachable_cache_falls_back_to_the_peer(
    setup: tuple[ZmqClient, CountingPeer],
) -> None:
    _, peer = setup
    broken = Cache({"bind": "127.0.0.1:1", "db": REDIS_DB, "connect_timeout": 0.2})
    conf = {"host": "127.0.0.1", "port": peer.port, "cached_routes": {"0:/v3/users/me": {}}}
    client = ZmqClient({"core": conf}, workers={}, cache_factory=lambda: broken)
    try:
        assert get(client, "/v3/users/me")["payload"] == {"n": 1}
        assert get(client, "/v3/users/me")["payload"] == {"n": 2}
    finally:
        client.close()


@pytest.fixture
def setup_with_post_route(redis_url: str, prefix: str) -> Iterator[tuple[ZmqClient, CountingPeer]]:
    parts = urlsplit(redis_url)
    peer = CountingPeer()
    cache = Cache({"bind": f"{parts.hostname}:{parts.port}", "db": REDIS_DB, "key_prefix": prefix})
    routes = {"0:/v3/users/me": {"ttl": 120}, "2:/v3/users/me": {"ttl": 120}}
    conf = {"host": "127.0.0.1", "port": peer.port, "timeout": 2, "retries": 0}
    client = ZmqClient(
        {"core": {**conf, "cached_routes": routes}}, workers={}, cache_factory=lambda: cache
    )
    yield client, peer
    client.close()
    peer.close()


def test_a_cached_post_route_is_ignored_so_every_post_is_sent(
    setup_with_post_route: tuple[ZmqClient, CountingPeer],
) -> None:
    client, peer = setup_with_post_route
    first = client.request("core", Performative.POST, "/v3/users/me", None, {"name": "a"})
    second = client.request("core", Performative.POST, "/v3/users/me", None, {"name": "b"})
    again = client.request("core", Performative.POST, "/v3/users/me", None, {"name": "b"})
    assert [first["payload"], second["payload"], again["payload"]] == [
        {"n": 1},
        {"n": 2},
        {"n": 3},
    ]
    assert peer.count == 3


def test_the_payload_is_part_of_the_key(setup: tuple[ZmqClient, CountingPeer]) -> None:
    client, peer = setup
    one = client.request("core", Performative.GET, "/v3/users/me", {"q": 1}, {"filter": 1})
    two = client.request("core", Performative.GET, "/v3/users/me", {"q": 1}, {"filter": 2})
    assert one["payload"] == {"n": 1}
    assert two["payload"] == {"n": 2}
    # same payload, keys in another order: the same entry
    same = client.request("core", Performative.GET, "/v3/users/me", {"q": 1}, {"filter": 1})
    assert same["payload"] == {"n": 1}
    assert peer.count == 2


@pytest.mark.parametrize(
    "header",
    [
        "authorization",
        "AUTHORIZATION",
        "Cookie",
        "cookie",
        "X-Api-Key",
        "x-auth-token",
        "Proxy-Authorization",
    ],
)
def test_every_credential_header_in_any_case_separates_callers(
    setup: tuple[ZmqClient, CountingPeer], header: str
) -> None:
    client, peer = setup
    assert get(client, "/v3/users/me", {header: "alice"})["payload"] == {"n": 1}
    assert get(client, "/v3/users/me", {header: "bob"})["payload"] == {"n": 2}
    assert get(client, "/v3/users/me", {})["payload"] == {"n": 3}
    assert get(client, "/v3/users/me", {header: "alice"})["payload"] == {"n": 1}
    assert peer.count == 3


def test_x_no_cache_in_lower_case_skips_the_lookup(
    setup: tuple[ZmqClient, CountingPeer],
) -> None:
    client, peer = setup
    get(client, "/v3/users/me")
    assert get(client, "/v3/users/me", {"x-no-cache": "1"})["payload"] == {"n": 2}
    assert peer.count == 2
