"""Private production shapes: TLS Redis, a Sentinel set, a Redis Cluster, PgBouncer."""

import threading
import time
from collections.abc import Callable

import psycopg2
import pytest
import redis
import redis.cluster
import redis.sentinel

from envoxy_testing.network import wait_until
from envoxy_testing.pgbouncer import PrivatePgBouncer
from envoxy_testing.postgres import PrivatePostgres
from envoxy_testing.redis_cluster import PrivateRedisCluster
from envoxy_testing.redis_sentinel import RedisSentinelSet, role
from envoxy_testing.servers import PrivateRedis
from envoxy_testing.tls import TlsFiles

# ------------------------------------------------------------------ TLS Redis


@pytest.mark.redis
def test_tls_redis_requires_the_ca_and_a_client_certificate_when_asked(
    private_redis: Callable[..., PrivateRedis], tls_files: TlsFiles
) -> None:
    server = private_redis(tls=tls_files, tls_auth_clients=True)
    assert server.url == f"rediss://127.0.0.1:{server.port}/0"
    plain = redis.Redis(host=server.host, port=server.port, socket_timeout=1, retry=None)
    with pytest.raises(redis.ConnectionError):
        plain.ping()  # the server speaks TLS only
    no_ca = redis.Redis.from_url(server.url, socket_timeout=1, retry=None)
    with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        no_ca.ping()
    no_cert = redis.Redis.from_url(
        server.url, ssl_ca_certs=str(tls_files.ca), socket_timeout=1, retry=None
    )
    with pytest.raises(redis.ConnectionError):
        no_cert.ping()  # mutual TLS: the handshake fails without a client certificate
    client = redis.Redis.from_url(
        server.url,
        ssl_ca_certs=str(tls_files.ca),
        ssl_certfile=str(tls_files.client_cert),
        ssl_keyfile=str(tls_files.client_key),
        socket_timeout=1,
    )
    assert client.set("k", "v")
    assert client.get("k") == b"v"
    for each in (plain, no_ca, no_cert, client):
        each.close()


# ------------------------------------------------------------------ Sentinel


@pytest.mark.redis
def test_sentinel_set_forced_failover_moves_the_master_and_writes_follow(
    redis_sentinel_set: Callable[..., RedisSentinelSet],
) -> None:
    redis_set = redis_sentinel_set(replicas=1)
    assert len(redis_set.sentinels) == 3
    assert len(redis_set.servers) == 2
    sentinel = redis.sentinel.Sentinel(redis_set.sentinel_addresses, socket_timeout=1)
    old = redis_set.master
    assert sentinel.discover_master(redis_set.service_name) == old.address
    master = sentinel.master_for(redis_set.service_name, socket_timeout=1)
    assert master.set("k", "before")
    wait_until(
        lambda: redis_set.replicas[0].answers() and _get(redis_set.replicas[0], "k") == b"before",
        timeout=5,
        what="the replica has the write",
    )
    started = time.monotonic()
    new = redis_set.failover()
    assert time.monotonic() - started < 5
    assert new is not old
    assert role(new) == "master"
    assert sentinel.discover_master(redis_set.service_name) == new.address
    assert _get(new, "k") == b"before"  # replicated before the switch
    fresh = sentinel.master_for(redis_set.service_name, socket_timeout=1)
    assert fresh.set("k", "after")
    assert _get(new, "k") == b"after"
    for client in (master, fresh):
        client.close()
    sentinel.close()


@pytest.mark.redis
@pytest.mark.slow
def test_sentinel_set_replaces_a_killed_master_and_the_other_replica_follows(
    redis_sentinel_set: Callable[..., RedisSentinelSet],
) -> None:
    redis_set = redis_sentinel_set(replicas=2)
    old = redis_set.master
    old.kill()
    took = wait_until(
        lambda: redis_set.master_address() != old.address, timeout=15, what="a new master"
    )
    assert took < 10  # down-after 1 s, quorum 2, election
    new = redis_set.master
    assert role(new) == "master"
    # the other replica now follows the master: Sentinel reconfigures it, and retries
    # after failover-timeout (5 s) when a reconfiguration is lost; on a loaded machine a
    # second election may even pick the other replica (seen in make test): the set
    # settles on whichever master the sentinels end up naming
    redis_set.settle(timeout=30)
    master = redis_set.master
    assert master is not old
    assert role(master) == "master"
    (other,) = [server for server in redis_set.servers if server not in (old, master)]
    assert role(other) == "slave"


# ------------------------------------------------------------------ Cluster


@pytest.mark.redis
def test_redis_cluster_serves_every_slot_from_three_masters(
    redis_cluster: Callable[..., PrivateRedisCluster],
) -> None:
    cluster = redis_cluster(masters=3)
    assert len(cluster.masters()) == 3
    client = redis.cluster.RedisCluster.from_url(cluster.url, socket_timeout=2)
    keys = [f"k{index}" for index in range(60)]
    for key in keys:
        client.set(key, key)
    owners = {cluster.node_for_key(key).port for key in keys}
    assert len(owners) == 3  # the keys spread over every master
    assert sorted(key.decode() for key in client.scan_iter("k*")) == sorted(keys)
    # Keys with one hash tag share a slot, so a multi-key command works on them.
    assert cluster.node_for_key("{user:1}:a") is cluster.node_for_key("{user:1}:b")
    client.mset({"{user:1}:a": 1, "{user:1}:b": 2})
    assert client.mget("{user:1}:a", "{user:1}:b") == [b"1", b"2"]
    client.close()


# ------------------------------------------------------------------ PgBouncer


@pytest.mark.postgresql
def test_pgbouncer_transaction_pooling_shares_a_few_server_connections(
    private_postgres: Callable[..., PrivatePostgres],
    private_pgbouncer: Callable[..., PrivatePgBouncer],
) -> None:
    server = private_postgres()
    bouncer = private_pgbouncer(server, pool_size=2)
    assert bouncer.admin("SHOW POOLS")[0]["pool_mode"] == "transaction"
    clients = [bouncer.connect() for _ in range(8)]
    barrier = threading.Barrier(len(clients))

    def work(connection: psycopg2.extensions.connection) -> None:
        barrier.wait(timeout=5)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.05)")

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert bouncer.server_connections() <= 2  # 8 clients, at most pool_size servers
    # What breaks a session-minded client: a session SET made by one client is seen by
    # another one that gets the same server connection.
    first, second = clients[0], clients[1]
    with first.cursor() as cursor:
        cursor.execute("SET application_name = 'leaked'")
    seen = set()
    for _ in range(10):
        with second.cursor() as cursor:
            cursor.execute("SELECT current_setting('application_name')")
            seen.add(cursor.fetchone()[0])
    assert "leaked" in seen
    # And a startup ``options`` parameter is refused.
    with pytest.raises(psycopg2.OperationalError, match="unsupported startup parameter"):
        bouncer.connect(options="-c statement_timeout=1000")
    for client in clients:
        client.close()


@pytest.mark.postgresql
def test_pgbouncer_freeze_and_restart_like_any_private_server(
    private_postgres: Callable[..., PrivatePostgres],
    private_pgbouncer: Callable[..., PrivatePgBouncer],
) -> None:
    bouncer = private_pgbouncer(private_postgres())
    port = bouncer.port
    bouncer.freeze()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(bouncer.dsn, connect_timeout=1)
    bouncer.thaw()
    bouncer.restart()
    assert bouncer.port == port
    connection = bouncer.connect()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    connection.close()


def _get(server: PrivateRedis, key: str) -> bytes | None:
    client = redis.Redis(host=server.host, port=server.port, socket_timeout=1, retry=None)
    try:
        value = client.get(key)
        return value if isinstance(value, bytes) or value is None else None
    finally:
        client.close()
