"""envoxy.redis against the real Redis server of tools/services."""

import datetime
import pathlib
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis

from envoxy.exceptions import ConfigError
from envoxy.redis import (
    RedisClient,
    RedisConnectionError,
    RedisSerializationError,
    RedisTimeoutError,
    redisc,
)
from envoxy_testing.forking import in_child
from envoxy_testing.network import free_port, retry_until
from envoxy_testing.servers import PrivateRedis
from envoxy_testing.threads import all_at_once

pytestmark = pytest.mark.redis

PREFIX = f"envoxy-dispatch-test:redis:{uuid.uuid4().hex[:8]}:"


@pytest.fixture(scope="module")
def redis_location(redis_url: str) -> tuple[str, int, int]:
    parts = urlsplit(redis_url)
    db = int(parts.path.strip("/") or 0)
    return parts.hostname or "127.0.0.1", parts.port or 6379, db


@pytest.fixture(scope="module")
def raw(redis_location: tuple[str, int, int]) -> Iterator[redis.Redis]:
    host, port, db = redis_location
    connection = redis.Redis(host=host, port=port, db=db)
    yield connection
    for key in connection.scan_iter(f"{PREFIX}*"):
        connection.delete(key)
    connection.close()


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A real listening socket that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture(scope="module", autouse=True)
def config_file(
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path_factory: pytest.TempPathFactory,
    redis_location: tuple[str, int, int],
    silent_port: int,
) -> Iterator[pathlib.Path]:
    host, port, db = redis_location
    bind = f"{host}:{port}"
    servers = {
        "disp_main": {"bind": bind, "db": db, "ttl": 100},
        "disp_no_ttl": {"host": host, "port": port, "db": db, "ttl": 0},
        "disp_acl": {"bind": bind, "db": db, "user": "envoxy_disp_test", "passwd": "s3cret"},
        "disp_bad_password": {
            "bind": bind,
            "db": db,
            "user": "envoxy_disp_test",
            "passwd": "wrong",
        },
        "disp_silent": {"bind": f"127.0.0.1:{silent_port}", "socket_timeout": 0.3},
        "disp_refused": {"bind": f"127.0.0.1:{free_port()}", "connect_timeout": 0.5},
        "disp_tiny_pool": {"bind": bind, "db": db, "max_connections": 1, "pool_timeout": 0.3},
    }
    with load_config({"redis_servers": servers}, tmp_path_factory.mktemp("redis-config")) as path:
        yield path
    redisc.close()


@pytest.fixture
def client() -> Iterator[RedisClient]:
    instance = RedisClient()
    yield instance
    instance.close()


def key(name: str) -> str:
    return f"{PREFIX}{name}"


def test_round_trip_of_json_values(client: RedisClient) -> None:
    value = {"name": "Ada", "tags": ["a", "b"], "n": 3, "ok": True, "none": None}
    assert client.set("disp_main", key("dict"), value) is True
    assert client.get("disp_main", key("dict")) == value
    client.set("disp_main", key("list"), [1, 2.5, "x"])
    assert client.get("disp_main", key("list")) == [1, 2.5, "x"]
    client.set("disp_main", key("str"), "plain text")
    assert client.get("disp_main", key("str")) == "plain text"


def test_datetimes_are_stored_in_the_api_format(client: RedisClient) -> None:
    moment = datetime.datetime(2024, 5, 1, 12, 30, 45, 123999, tzinfo=datetime.UTC)
    client.set("disp_main", key("when"), {"at": moment})
    assert client.get("disp_main", key("when")) == {"at": "2024-05-01T12:30:45.123+0000"}


def test_get_of_a_missing_key_is_none(client: RedisClient) -> None:
    assert client.get("disp_main", key("never-written")) is None


def test_non_json_values_come_back_as_str_or_bytes(client: RedisClient, raw: redis.Redis) -> None:
    raw.set(key("text"), "not json {")
    raw.set(key("binary"), b"\xff\xfe\x00")
    assert client.get("disp_main", key("text")) == "not json {"
    assert client.get("disp_main", key("binary")) == b"\xff\xfe\x00"


def test_delete_returns_the_count(client: RedisClient) -> None:
    client.set("disp_main", key("gone"), 1)
    assert client.delete("disp_main", key("gone")) == 1
    assert client.delete("disp_main", key("gone")) == 0
    assert client.get("disp_main", key("gone")) is None


def test_set_without_ttl_uses_the_server_ttl(client: RedisClient, raw: redis.Redis) -> None:
    client.set("disp_main", key("server-ttl"), "v")
    assert 90 < raw.ttl(key("server-ttl")) <= 100


def test_server_ttl_zero_means_no_expiry(client: RedisClient, raw: redis.Redis) -> None:
    client.set("disp_no_ttl", key("forever"), "v")
    assert raw.ttl(key("forever")) == -1


def test_explicit_ttl_is_set_with_the_value(client: RedisClient, raw: redis.Redis) -> None:
    client.set("disp_no_ttl", key("explicit"), "v", ttl=30)
    assert 25 < raw.ttl(key("explicit")) <= 30


def test_value_expires_after_its_ttl(client: RedisClient) -> None:
    client.set("disp_main", key("short"), "v", ttl=0.2)
    assert client.get("disp_main", key("short")) == "v"
    deadline = time.monotonic() + 5
    while client.get("disp_main", key("short")) is not None:
        assert time.monotonic() < deadline, "the value did not expire"
        time.sleep(0.05)


def test_unserialisable_value_writes_nothing(client: RedisClient) -> None:
    with pytest.raises(RedisSerializationError, match="nothing was written") as caught:
        client.set("disp_main", key("bad"), {"x": object()})
    assert isinstance(caught.value, TypeError)
    assert client.get("disp_main", key("bad")) is None


def test_negative_ttl_writes_nothing(client: RedisClient) -> None:
    with pytest.raises(ValueError, match="ttl"):
        client.set("disp_main", key("negative"), 1, ttl=-5)
    assert client.get("disp_main", key("negative")) is None


def test_unknown_server_key_names_section_and_key(client: RedisClient) -> None:
    with pytest.raises(ConfigError, match="redis_servers") as caught:
        client.get("disp_nope", key("x"))
    assert "disp_nope" in str(caught.value)


def test_client_returns_the_raw_redis(client: RedisClient) -> None:
    raw_client = client.client("disp_main")
    assert isinstance(raw_client, redis.Redis)
    raw_client.set(key("raw"), b"1")
    assert client.get("disp_main", key("raw")) == 1


def test_user_and_password_authenticate(client: RedisClient, raw: redis.Redis) -> None:
    raw.acl_setuser(
        "envoxy_disp_test",
        enabled=True,
        passwords=["+s3cret"],
        keys=[f"{PREFIX}*"],
        commands=["+@all"],
    )
    try:
        assert client.set("disp_acl", key("acl"), "yes")
        assert client.get("disp_acl", key("acl")) == "yes"
        with pytest.raises(RedisConnectionError):
            client.get("disp_bad_password", key("acl"))
    finally:
        raw.acl_deluser("envoxy_disp_test")


def test_read_timeout_raises(client: RedisClient) -> None:
    started = time.monotonic()
    with pytest.raises(RedisTimeoutError, match=r"redis_servers\.disp_silent"):
        client.get("disp_silent", key("x"))
    assert time.monotonic() - started < 3


def test_refused_connection_raises_after_retries(client: RedisClient) -> None:
    with pytest.raises(RedisConnectionError, match=r"redis_servers\.disp_refused"):
        client.get("disp_refused", key("x"))


def test_exhausted_pool_waits_then_raises(client: RedisClient) -> None:
    pool = client.client("disp_tiny_pool").connection_pool
    held = pool.get_connection()
    try:
        started = time.monotonic()
        with pytest.raises(RedisTimeoutError, match="pool_timeout"):
            client.get("disp_tiny_pool", key("x"))
        assert 0.2 < time.monotonic() - started < 3
    finally:
        pool.release(held)
    assert client.get("disp_tiny_pool", key("x")) is None


def test_close_is_idempotent_and_reconnects(client: RedisClient) -> None:
    client.set("disp_main", key("close"), 1)
    client.close()
    client.close()
    assert client.get("disp_main", key("close")) == 1


def test_fifty_threads_share_one_client(client: RedisClient) -> None:
    def work(number: int) -> None:
        for round_number in range(20):
            name = key(f"thread-{number}-{round_number}")
            client.set("disp_main", name, {"n": number, "r": round_number})
            assert client.get("disp_main", name) == {"n": number, "r": round_number}

    all_at_once(work, 50)


def test_forked_child_gets_its_own_connections(client: RedisClient) -> None:
    client.set("disp_main", key("fork"), "parent")
    parent_pool = client.client("disp_main").connection_pool

    def in_the_child() -> dict[str, Any]:
        child_pool = client.client("disp_main").connection_pool
        client.set("disp_main", key("fork-child"), "child")
        return {
            "read": client.get("disp_main", key("fork")),
            "new_pool": child_pool is not parent_pool,
        }

    assert in_child(in_the_child) == {"read": "parent", "new_pool": True}
    assert client.get("disp_main", key("fork-child")) == "child"
    assert client.get("disp_main", key("fork")) == "parent"


def test_redisc_facade_uses_the_config(raw: redis.Redis) -> None:
    assert redisc.set("disp_main", key("facade"), {"a": 1}, ttl=50)
    assert redisc.get("disp_main", key("facade")) == {"a": 1}
    assert 40 < raw.ttl(key("facade")) <= 50
    assert redisc.delete("disp_main", key("facade")) == 1
    assert isinstance(redisc.client("disp_main"), redis.Redis)


def test_calls_succeed_again_after_a_server_restart(
    private_redis: Callable[..., PrivateRedis],
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path: Path,
) -> None:
    # A private server: restarting the shared one would break everyone else's tests.
    server = private_redis()
    config = {"redis_servers": {"disp_private": {"bind": f"{server.host}:{server.port}"}}}
    with load_config(config, tmp_path):
        client = RedisClient()
        try:
            client.set("disp_private", key("restart"), "before")
            server.restart()
            stored = retry_until(
                lambda: client.set("disp_private", key("restart"), "after"),
                RedisConnectionError,
                timeout=5,
            )
            assert stored is True
            assert client.get("disp_private", key("restart")) == "after"
        finally:
            client.close()
