"""envoxy 0.7's import paths of the clients, kept as aliases that work and warn once.

Each old path gives, in a fresh interpreter (a warning is given once per process), the
object named and one DeprecationWarning at the line that used it, naming what to use.
The 0.7 call shapes then work against the real servers. docs/MIGRATING.md lists them.
"""

import uuid
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from envoxy.db.exceptions import DatabaseException
from envoxy_testing.deprecation import assert_old_path_works
from envoxy_testing.zmq_peer import ReplyPeer

#: "old.module:name", "module:attribute" served, what the warning says to use
OLD_PATHS = [
    ("envoxy.redis.client:Client", "envoxy.redis.client:RedisClient", None),
    ("envoxy.couchdb.client:Client", "envoxy.couchdb.client:CouchDBClient", None),
    ("envoxy.postgresql.client:Client", "envoxy.postgresql.client:PostgresClient", None),
    (
        "envoxy.postgresql.client:SemaphoreThreadedConnectionPool",
        "envoxy.postgresql.legacy:SemaphoreThreadedConnectionPool",
        None,
    ),
    (
        "envoxy.postgresql.sqlalchemy.session:EnvoxySessionManager",
        "envoxy.db.orm.manager:EnvoxySessionManager",
        None,
    ),
    (
        "envoxy.postgresql.sqlalchemy:EnvoxySessionManager",
        "envoxy.db.orm.manager:EnvoxySessionManager",
        None,
    ),
    (
        "envoxy.db.dispatcher:Connector",
        "envoxy.db.dispatcher:_Connector",
        "envoxy.postgresql.pgsqlc, envoxy.couchdb.couchdbc and envoxy.redis.redisc",
    ),
    (
        "envoxy.db.dispatcher:PgConnector",
        "envoxy.db.dispatcher:_PgConnector",
        "envoxy.postgresql.pgsqlc",
    ),
    (
        "envoxy.db.dispatcher:CouchConnector",
        "envoxy.db.dispatcher:_CouchConnector",
        "envoxy.couchdb.couchdbc",
    ),
    (
        "envoxy.db.dispatcher:RedisConnector",
        "envoxy.db.dispatcher:_RedisConnector",
        "envoxy.redis.redisc",
    ),
    (
        "envoxy.mqtt.dispatcher:MqttConnector",
        "envoxy.mqtt.legacy:MqttConnector",
        "envoxy.mqtt.mqttc",
    ),
    (
        "envoxy.mqtt.dispatcher:RC_LIST",
        "envoxy.mqtt.legacy:RC_LIST",
        "paho.mqtt.client.connack_string",
    ),
    ("envoxy.zeromq.dispatcher:NoSocketException", "envoxy.zeromq:ZmqAttemptError", None),
    ("envoxy.zeromq.dispatcher:ZMQException", "envoxy.zeromq:ZmqUnavailableError", None),
    ("envoxy.zeromq.dispatcher:ZMQ", "envoxy.zeromq.legacy:ZMQ", "envoxy.zeromq.zmqc"),
]


@pytest.mark.parametrize(("old_path", "served", "use"), OLD_PATHS)
def test_old_path_serves_its_object_and_warns_once_at_the_import(
    old_path: str, served: str, use: str | None
) -> None:
    old = old_path.replace(":", ".")
    message = f"{old} is deprecated since envoxy 1.0; use {use or served.replace(':', '.')}"
    assert_old_path_works(old_path, served, message)


def _old(module: str, name: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(__import__(module, fromlist=[name]), name)


@pytest.mark.redis
def test_redis_client_takes_the_0_7_server_conf(redis_url: str) -> None:
    parts = urlsplit(redis_url)
    client_class = _old("envoxy.redis.client", "Client")
    client = client_class({"main": {"bind": f"{parts.hostname}:{parts.port}", "db": 5}})
    key = f"envoxy-test:legacy:{uuid.uuid4().hex}"
    try:
        assert client.set("main", key, {"a": 1}, 30)
        assert client.get("main", key) == {"a": 1}
        with pytest.warns(DeprecationWarning, match=r"RedisClient\.get_client"):
            raw = client.get_client("main")
        assert raw.ttl(key) > 0
        assert client.delete("main", key) == 1
    finally:
        client.close()


@pytest.mark.couchdb
def test_couchdb_client_takes_the_0_7_server_conf(couchdb_url: str) -> None:
    database = f"envoxy_legacy_{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=couchdb_url, timeout=10) as admin:
        assert admin.put(f"/{database}").status_code in (201, 202)
        client = _old("envoxy.couchdb.client", "Client")({"main": {"bind": couchdb_url}})
        try:
            client.post(f"main.{database}", {"_id": "ada", "age": 36})
            assert client.get("ada", f"main.{database}")["age"] == 36
            assert [
                doc["_id"] for doc in client.find(f"main.{database}", ["_id"], {"age": 36})
            ] == ["ada"]
        finally:
            client.close()
            admin.delete(f"/{database}")


@pytest.mark.postgresql
def test_postgresql_client_and_pool_take_their_0_7_arguments(postgresql_url: str) -> None:
    client = _old("envoxy.postgresql.client", "Client")({"main": {"url": postgresql_url}})
    try:
        assert client.query("main", "SELECT 1 AS one") == [{"one": 1}]
    finally:
        client.close()
    pool_class = _old("envoxy.postgresql.client", "SemaphoreThreadedConnectionPool")
    dsn = postgresql_url.replace("postgresql+psycopg2://", "postgresql://")
    pool = pool_class(0, 1, dsn)
    try:
        conn = pool.getconn(timeout=1)
        with pytest.raises(DatabaseException, match="Timeout waiting for DB connection"):
            pool.getconn(timeout=0.05)
        pool.putconn(conn)
        pool.putconn(pool.getconn(timeout=1))
    finally:
        pool.closeall()


def test_connectors_and_singletons_are_the_process_wide_clients() -> None:
    from envoxy.couchdb import couchdbc
    from envoxy.mqtt import mqttc
    from envoxy.postgresql import pgsqlc
    from envoxy.redis import redisc

    pg_connector = _old("envoxy.db.dispatcher", "PgConnector").instance()
    assert pg_connector.postgres is pgsqlc.client()
    connector = _old("envoxy.db.dispatcher", "Connector").instance()
    assert (connector.couchdb, connector.redis) == (couchdbc.instance(), redisc.instance())
    connector.start_redis_conn()  # nothing to start: connects on first use
    assert _old("envoxy.mqtt.dispatcher", "MqttConnector").instance() is mqttc.instance()
    assert _old("envoxy.mqtt.dispatcher", "RC_LIST")[5] == "Connection refused - not authorised"


@pytest.mark.zmq
def test_zmq_singleton_sends_prepared_requests(
    load_config: Callable[[dict[str, Any], Path], AbstractContextManager[Path]], tmp_path: Path
) -> None:
    from envoxy.zeromq import zmqc

    with ReplyPeer() as peer:
        servers = {"core": {"host": "127.0.0.1", "port": peer.port, "timeout": 5}}
        with load_config({"zmq_servers": servers}, tmp_path):
            try:
                zmq = _old("envoxy.zeromq.dispatcher", "ZMQ").instance()
                reply = zmq.send_and_recv("core", {"resource": "/v1/x", "performative": 0})
                assert reply["payload"]["resource"] == "/v1/x"
                future = zmq.send_and_recv_future("core", {"resource": "/v1/y", "performative": 0})
                assert future.result(10)["payload"]["resource"] == "/v1/y"
            finally:
                zmqc.close()


def test_session_manager_at_its_0_7_path_works() -> None:
    manager_class = _old("envoxy.postgresql.sqlalchemy.session", "EnvoxySessionManager")
    manager = manager_class(url="sqlite://")
    with manager.session_scope() as session:
        assert session.execute(__import__("sqlalchemy").text("SELECT 1")).scalar() == 1
    manager.dispose()


def test_deprecated_names_do_not_hide_real_attribute_errors() -> None:
    import envoxy.db.dispatcher

    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        envoxy.db.dispatcher.Nothing  # noqa: B018
