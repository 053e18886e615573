"""Private servers: start, stop, kill -9, freeze, thaw and restart, always cleaned up."""

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import psycopg2
import pytest
import redis

from envoxy_testing.interpreter import run_python
from envoxy_testing.network import port_accepts, wait_until
from envoxy_testing.postgres import PrivatePostgres, postgres_bindir
from envoxy_testing.servers import PrivateMosquitto, PrivateRedis, ServerError, ServerStartError
from envoxy_testing.tls import TlsFiles


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except FileNotFoundError:
        return False


def _in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    return thread, result


# ------------------------------------------------------------------ redis


@pytest.mark.redis
def test_redis_freeze_thaw_kill_restart_keep_the_port(
    private_redis: Callable[..., PrivateRedis],
) -> None:
    server = private_redis()
    client = redis.Redis(host=server.host, port=server.port, socket_timeout=0.5, retry=None)
    assert client.set("k", "v")
    server.freeze()
    with pytest.raises(redis.TimeoutError):
        client.get("k")
    server.thaw()
    assert client.get("k") == b"v"
    port = server.port
    server.kill()
    assert not port_accepts(*server.address)
    server.start()
    assert server.port == port
    assert client.get("k") is None  # no persistence: a restart starts empty
    server.restart()
    assert client.ping()
    client.close()


@pytest.mark.redis
def test_redis_with_a_password_refuses_anonymous_commands(
    private_redis: Callable[..., PrivateRedis],
) -> None:
    server = private_redis(password="s3cret")
    assert server.url == f"redis://:s3cret@127.0.0.1:{server.port}/0"
    anonymous = redis.Redis(host=server.host, port=server.port, socket_timeout=2, retry=None)
    with pytest.raises(redis.AuthenticationError):
        anonymous.ping()
    authenticated = redis.Redis.from_url(server.url, socket_timeout=2)
    assert authenticated.ping()
    anonymous.close()
    authenticated.close()


@pytest.mark.redis
def test_first_start_moves_to_another_port_when_the_chosen_one_is_taken(tmp_path: Path) -> None:
    server = PrivateRedis(tmp_path)
    taken = server.port
    with socket.create_server(("127.0.0.1", taken)), server:  # a concurrent test won the race
        assert server.port != taken
        assert server.answers()


@pytest.mark.redis
def test_a_fixed_port_that_is_taken_fails_with_the_server_log(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        server = PrivateRedis(tmp_path, port=taken.getsockname()[1])
        with pytest.raises(ServerStartError, match=r"(?s)exited with 1 .*Address already in use"):
            server.start()
        server.close()


@pytest.mark.redis
def test_close_of_a_frozen_server_ends_it_and_removes_its_own_directory() -> None:
    server = PrivateRedis().start()
    server.freeze()
    pid, directory = server.pid, server.directory
    server.close()
    server.close()
    assert not _alive(pid)
    assert not directory.exists()
    with pytest.raises(ServerError, match="not running"):
        server.freeze()


@pytest.mark.redis
def test_a_run_that_ends_without_teardown_leaves_no_frozen_server_behind() -> None:
    result = run_python(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
        from envoxy_testing.servers import PrivateRedis
        server = PrivateRedis().start()
        server.freeze()
        print(server.pid, server.directory)
        """
    )
    pid, directory = result.stdout.split()
    assert not _alive(int(pid))
    assert not Path(directory).exists()


# ------------------------------------------------------------------ postgresql


@pytest.mark.postgresql
def test_postgres_mirrors_the_shared_server(
    private_postgres: Callable[..., PrivatePostgres],
) -> None:
    server = private_postgres()
    assert server.url == f"postgresql+psycopg2://envoxy:envoxy@127.0.0.1:{server.port}/envoxy_test"
    assert server.client_config()["db"] == "envoxy_test"
    connection = server.connect()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database(), current_setting('fsync')")
        assert cursor.fetchone() == ("envoxy", "envoxy_test", "off")
        cursor.execute(f"CREATE DATABASE envoxy_private_{uuid.uuid4().hex[:8]}")  # CREATEDB
    connection.close()
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(server.dsn.replace("envoxy:envoxy", "envoxy:wrong"), connect_timeout=5)
    assert (postgres_bindir() / "postgres").exists()


@pytest.mark.postgresql
def test_postgres_freeze_stops_the_backends_of_open_connections_too(
    private_postgres: Callable[..., PrivatePostgres],
) -> None:
    server = private_postgres()
    connection = server.connect()
    cursor = connection.cursor()
    server.freeze()

    def query() -> Any:
        cursor.execute("SELECT 42")
        return cursor.fetchone()

    thread, result = _in_thread(query)
    thread.join(0.5)
    assert thread.is_alive(), "the backend answered while the server was frozen"
    server.thaw()
    thread.join(5)
    assert result == [(42,)]
    connection.close()


@pytest.mark.postgresql
def test_postgres_kill_ends_every_backend_and_restart_keeps_the_data(
    private_postgres: Callable[..., PrivatePostgres],
) -> None:
    server = private_postgres()
    connection = server.connect()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE kept (n int)")
        cursor.execute("INSERT INTO kept VALUES (1)")
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    server.kill()
    assert not _alive(backend)
    with pytest.raises(psycopg2.OperationalError):
        connection.cursor().execute("SELECT 1")
    server.start()  # crash recovery, same port
    server.restart()  # clean stop and start
    again = server.connect()
    with again.cursor() as cursor:
        cursor.execute("SELECT n FROM kept")
        assert cursor.fetchall() == [(1,)]
    again.close()


@pytest.mark.postgresql
def test_postgres_terminate_backends_ends_the_sessions_of_a_role(
    private_postgres: Callable[..., PrivatePostgres],
) -> None:
    server = private_postgres(settings={"max_connections": "20"})
    connections = [server.connect() for _ in range(3)]
    assert server.client_sessions() == 3  # the superuser's own session is not counted
    assert server.terminate_backends() == 3
    wait_until(lambda: server.client_sessions() == 0, timeout=3, what="the sessions gone")
    for connection in connections:
        with pytest.raises(psycopg2.OperationalError):
            connection.cursor().execute("SELECT 1")
        connection.close()
    check = server.connect(admin=True)
    with check.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        assert cursor.fetchone() == ("20",)
    check.close()


@pytest.mark.postgresql
def test_each_postgres_instance_has_its_own_port_and_data(
    private_postgres: Callable[..., PrivatePostgres],
) -> None:
    first, second = private_postgres(), private_postgres()
    assert first.port != second.port
    assert first.data != second.data
    if os.geteuid() == 0:  # PostgreSQL refuses root: it runs as the postgres user
        assert first.data.stat().st_uid != 0


# ------------------------------------------------------------------ mosquitto


def _paho_connects(url_host: str, port: int, timeout: float, **tls: Any) -> bool:
    connected = threading.Event()
    client = paho.Client(callback_api_version=paho.CallbackAPIVersion.VERSION2)
    if tls:
        client.tls_set(**tls)
    client.on_connect = lambda *args: connected.set()
    try:
        client.connect(url_host, port, keepalive=10)
    except OSError:
        return False
    client.loop_start()
    try:
        return connected.wait(timeout)
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.mark.mqtt
def test_mosquitto_freeze_thaw_and_restart(
    private_mosquitto: Callable[..., PrivateMosquitto],
) -> None:
    broker = private_mosquitto(persistence=True)
    assert broker.url == f"mqtt://127.0.0.1:{broker.port}"
    assert _paho_connects(broker.host, broker.port, 5)
    broker.freeze()
    started = time.monotonic()
    assert not _paho_connects(broker.host, broker.port, 0.5)  # TCP accepted, no CONNACK
    assert time.monotonic() - started < 2
    broker.thaw()
    broker.restart()
    assert _paho_connects(broker.host, broker.port, 5)
    assert "persistence true" in broker.config_path.read_text()


@pytest.mark.mqtt
def test_mosquitto_over_tls(
    private_mosquitto: Callable[..., PrivateMosquitto], tls_files: TlsFiles
) -> None:
    broker = private_mosquitto(tls=tls_files)
    assert broker.url.startswith("mqtts://")
    assert _paho_connects(broker.host, broker.port, 5, ca_certs=str(tls_files.ca))
