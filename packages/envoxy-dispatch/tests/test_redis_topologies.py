"""redisc and the Redis cache on production shapes: TLS (``rediss://``, mutual TLS), a
Sentinel set and a 3-master Redis Cluster, all real servers on loopback.

The Sentinel failover under load is in ``test_redis_sentinel_failover.py``.
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.cluster

from envoxy.cache.redis import RedisCache
from envoxy.exceptions import ConfigError
from envoxy.redis import RedisClient, RedisConnectionError, RedisSettings
from envoxy_testing.redis_cluster import PrivateRedisCluster
from envoxy_testing.redis_sentinel import RedisSentinelSet
from envoxy_testing.servers import PrivateRedis
from envoxy_testing.tls import TlsFiles

pytestmark = pytest.mark.redis

KEY = "shaped"
LoadConfig = Callable[..., AbstractContextManager[Path]]


@pytest.fixture
def client() -> Iterator[RedisClient]:
    client = RedisClient()
    yield client
    client.close()


def tls_entry(server: PrivateRedis, files: TlsFiles, **more: Any) -> dict[str, Any]:
    return {
        "url": server.url,
        "ca_cert": str(files.ca),
        "client_cert": str(files.client_cert),
        "client_key": str(files.client_key),
        "socket_timeout": 2,
        **more,
    }


# ------------------------------------------------------------------ TLS


def test_rediss_url_with_the_ca_and_a_client_certificate(
    private_redis: Callable[..., PrivateRedis],
    tls_files: TlsFiles,
    load_config: LoadConfig,
    tmp_path: Path,
    client: RedisClient,
) -> None:
    server = private_redis(tls=tls_files, tls_auth_clients=True)
    with load_config({"redis_servers": {KEY: tls_entry(server, tls_files)}}, tmp_path):
        assert client.set(KEY, "user:1", {"name": "Ada"}, ttl=60)
        assert client.get(KEY, "user:1") == {"name": "Ada"}
        assert isinstance(
            client.client(KEY).connection_pool.connection_class(), redis.SSLConnection
        )


def test_tls_host_and_port_shape_and_a_missing_client_certificate(
    private_redis: Callable[..., PrivateRedis],
    tls_files: TlsFiles,
    load_config: LoadConfig,
    tmp_path: Path,
    client: RedisClient,
) -> None:
    server = private_redis(tls=tls_files, tls_auth_clients=True)
    shaped = {
        "host": server.host,
        "port": server.port,
        "tls": True,
        "ca_cert": str(tls_files.ca),
        "client_cert": str(tls_files.client_cert),
        "client_key": str(tls_files.client_key),
    }
    no_cert = {"url": server.url, "ca_cert": str(tls_files.ca), "socket_timeout": 2}
    plain = {"host": server.host, "port": server.port, "socket_timeout": 1}
    config = {"redis_servers": {KEY: shaped, "no_cert": no_cert, "plain": plain}}
    with load_config(config, tmp_path):
        assert client.set(KEY, "k", 1)
        assert client.get(KEY, "k") == 1
        with pytest.raises(RedisConnectionError):
            client.get("no_cert", "k")  # the server asks for a client certificate
        with pytest.raises(RedisConnectionError):
            client.get("plain", "k")  # the server speaks TLS only


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"url": "http://x"}, "must start with redis://"),
        ({"ca_cert": "/ca.pem"}, "without TLS"),
        ({"url": "rediss://x", "client_cert": "/c.pem"}, "go together"),
        ({"sentinels": ["a:1"]}, "service_name is required"),
        ({"service_name": "main"}, "needs sentinels"),
        ({"sentinels": ["a:1"], "service_name": "m", "cluster": True}, "sentinels go alone"),
        ({"sentinels": "a:x", "service_name": "m"}, "sentinels\\[0\\] port"),
        ({"cluster": True, "db": 3}, "db must be 0"),
    ],
)
def test_shapes_that_do_not_go_together_are_refused(conf: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RedisSettings.from_config(KEY, conf)


# ------------------------------------------------------------------ Sentinel


def test_sentinel_key_finds_the_master_and_follows_a_failover(
    redis_sentinel_set: Callable[..., RedisSentinelSet],
    load_config: LoadConfig,
    tmp_path: Path,
    client: RedisClient,
) -> None:
    redis_set = redis_sentinel_set(replicas=1)
    entry = {
        "sentinels": redis_set.sentinel_hosts,
        "service_name": redis_set.service_name,
        "socket_timeout": 1,
    }
    with load_config({"redis_servers": {KEY: entry}}, tmp_path):
        settings = RedisSettings.from_config(KEY, entry)
        assert "sentinel envoxy-test via 127.0.0.1:" in settings.describe()
        assert client.set(KEY, "k", "before")
        assert client.client(KEY).connection_pool.master_address == redis_set.master.address
        new = redis_set.failover()
        pool = client.client(KEY).connection_pool
        from envoxy_testing.network import wait_until

        took = wait_until(
            lambda: pool.master_address == new.address, timeout=5, what="the pool moved"
        )
        assert took < 5
        assert client.get(KEY, "k") == "before"
        assert client.set(KEY, "k", "after")
        assert new_value(new, "k") == '"after"'  # written to the new master


def new_value(server: PrivateRedis, key: str) -> str | None:
    raw = redis.Redis(host=server.host, port=server.port, socket_timeout=1, db=1)
    try:
        value = raw.get(key)
        return value.decode() if isinstance(value, bytes) else None
    finally:
        raw.close()


# ------------------------------------------------------------------ Cluster


def test_cluster_key_routes_every_key_and_the_cache_invalidates_across_nodes(
    redis_cluster: Callable[..., PrivateRedisCluster],
    load_config: LoadConfig,
    tmp_path: Path,
    client: RedisClient,
) -> None:
    cluster = redis_cluster(masters=3)
    entry = {"cluster": True, "bind": cluster.startup_nodes[0], "socket_timeout": 2}
    with load_config({"redis_servers": {KEY: entry}}, tmp_path):
        keys = [f"user:{index}" for index in range(60)]
        for key in keys:
            assert client.set(KEY, key, {"id": key})
        assert all(client.get(KEY, key) == {"id": key} for key in keys)
        assert len({cluster.node_for_key(key).port for key in keys}) == 3
        assert client.delete(KEY, keys[0]) == 1
        assert isinstance(client.client(KEY), redis.cluster.RedisCluster)
    cache = RedisCache({"cluster": True, "bind": cluster.startup_nodes[1], "key_prefix": "t"})
    try:
        for page in range(40):
            cache.set("/v1/products", "GET", {"page": page}, {"page": page})
        cache.set("/v1/products/7", "GET", {}, {"id": 7})
        cache.set("/v1/productsheet", "GET", {}, {"kept": True})
        owners = {
            cluster.node_for_key(cache.key("/v1/products", "GET", {"page": page})).port
            for page in range(40)
        }
        assert len(owners) == 3  # the entries of one endpoint live on every master
        assert cache.invalidate("/v1/products") == 41
        assert cache.get("/v1/products", "GET", {"page": 3}) == {}
        assert cache.get("/v1/productsheet", "GET", {}) == {"kept": True}
    finally:
        cache.close()


def test_an_unreachable_cluster_is_an_outage_and_the_next_call_connects(
    redis_cluster: Callable[..., PrivateRedisCluster],
    load_config: LoadConfig,
    tmp_path: Path,
    client: RedisClient,
) -> None:
    cluster = redis_cluster(masters=3)
    entry = {"cluster": True, "bind": cluster.startup_nodes[0], "connect_timeout": 1}
    with load_config({"redis_servers": {KEY: entry}}, tmp_path):
        for node in cluster.nodes:
            node.kill()
        with pytest.raises(RedisConnectionError, match="cluster"):
            client.set(KEY, "k", 1)  # the client is built on this call: no node answers
        for node in cluster.nodes:
            node.start()  # nodes.conf keeps the slots
        cluster.wait_until_ready()
        assert client.set(KEY, "k", 1)
        assert client.get(KEY, "k") == 1
