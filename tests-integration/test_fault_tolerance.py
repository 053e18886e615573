"""Every client against a frozen, then returning, server: bounded failure, 503, recovery.

For each client (redisc, the cache, couchdbc, zmqc, celeryc, mqttc) a private server, or a
:class:`FaultProxy` in front of a shared one, is frozen while the client works:

1. a call fails within the client's timeout (+1 s) with an outage error;
2. a service view making that call answers 503 with ``Retry-After`` meanwhile (the
   cache answers 200 from the handler: a cache failure never fails a request);
3. once the server answers again, calls succeed within 5 s, with no help;
4. the pool is intact: 20 concurrent calls succeed.

Each test records what it measured (``envoxy_testing.reliability``);
``tools/reliability_table.py`` renders the records as the table of docs/RELIABILITY.md.
(pgsqlc and the ORM session have their own fault tests.)
"""

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from werkzeug.test import Client

from envoxy.daemon.app import create_app
from envoxy.decorators import cache, on
from envoxy.views import View
from envoxy.views.outages import is_outage
from envoxy_testing.plugin import FaultProxyFactory
from envoxy_testing.reliability import record
from envoxy_testing.servers import PrivateMosquitto, PrivateRedis
from envoxy_testing.zmq_peer import ReplyPeer

pytestmark = pytest.mark.integration

#: What a call may take beyond its own timeout.
MARGIN = 1.0
#: How soon a client must work again once its server answers.
RECOVERY = 5.0
#: Concurrent calls that must succeed after the recovery.
CONCURRENT = 20

LoadConfig = Callable[[dict[str, Any], Path], AbstractContextManager[Path]]


def service(call: Callable[[], Any], cached: bool = False) -> Client:
    """A service whose one view makes ``call``, or, when ``cached``, whose view is under
    ``@cache`` (the decorator's own look-up and store meet the frozen Redis)."""

    def get(self: View, request: Any, **kwargs: Any) -> Any:
        if not cached:
            call()
        return {"ok": True}

    view = type("Probe", (View,), {"get": cache(ttl=60)(get) if cached else get})
    return Client(create_app({}, views=[on(endpoint="/v1/probe", protocols=["http"])(view)]))


def until_it_works(call: Callable[[], Any], limit: float = RECOVERY) -> float:
    """Call until a call succeeds; return the seconds it took."""
    started = time.monotonic()
    while True:
        try:
            call()
            return time.monotonic() - started
        except Exception:
            if time.monotonic() - started > limit:
                raise
            time.sleep(0.05)


def concurrently(call: Callable[[], Any], count: int = CONCURRENT) -> float:
    """Run ``count`` calls at once; return the seconds they took (all must succeed)."""
    started = time.monotonic()
    with ThreadPoolExecutor(count) as pool:
        list(pool.map(lambda _: call(), range(count)))
    return time.monotonic() - started


def frozen_server_scenario(
    name: str,
    *,
    call: Callable[[], Any],
    freeze: Callable[[], None],
    thaw: Callable[[], None],
    timeout: float,
    fault: str,
    test: str,
    cached_view: bool = False,
) -> dict[str, float]:
    """Run steps 1-4 of the module docstring; record and return the measured seconds."""
    call()  # connected and warm
    app = service(call, cached=cached_view)
    freeze()
    try:
        started = time.monotonic()
        with pytest.raises(Exception) as caught:
            call()
        fail = time.monotonic() - started
        assert is_outage(caught.value), repr(caught.value)
        assert fail <= timeout + MARGIN, f"{name}: {fail:.2f} s past {timeout} s + {MARGIN} s"
        started = time.monotonic()
        answer = app.get("/v1/probe", headers={"Accept": "application/json"})
        answered = time.monotonic() - started
        if cached_view:
            assert answer.status_code == 200  # the handler ran without its cache
        else:
            assert answer.status_code == 503, answer.get_data(as_text=True)
            assert answer.headers["Retry-After"]
            assert answer.json is not None
            assert answer.json["error"].startswith("Service Unavailable")
        assert answered <= timeout + MARGIN
    finally:
        thaw()
    recover = until_it_works(call)
    assert recover <= RECOVERY
    parallel = concurrently(call)
    assert app.get("/v1/probe").status_code == 200
    measured = {"fail": fail, "http": answered, "recover": recover, "concurrent20": parallel}
    status = 200 if cached_view else 503
    record(
        name,
        fault,
        f"call fails in {fail:.2f} s (timeout {timeout:g} s) with "
        f"{type(caught.value).__name__}; service answers {status} in {answered:.2f} s; "
        f"works again {recover:.2f} s after the server returns; "
        f"{CONCURRENT} concurrent calls in {parallel:.2f} s",
        test,
        timeout=timeout,
        **measured,
    )
    return measured


# ------------------------------------------------------------------ redisc


def redis_conf(host: str, port: int, timeout: float) -> dict[str, Any]:
    return {
        "host": host,
        "port": port,
        "socket_timeout": timeout,
        "connect_timeout": timeout,
        "pool_timeout": timeout,
        "max_connections": CONCURRENT,
    }


@pytest.mark.redis
@pytest.mark.parametrize("fault", ["SIGSTOP", "path frozen"])
def test_redisc_frozen_server(
    private_redis: Callable[..., PrivateRedis],
    fault_proxy: FaultProxyFactory,
    load_config: LoadConfig,
    tmp_path: Path,
    fault: str,
) -> None:
    from envoxy.redis import redisc

    server = private_redis()
    proxy = fault_proxy(server)
    key = f"fault_{uuid.uuid4().hex[:8]}"
    with load_config({"redis_servers": {key: redis_conf(proxy.host, proxy.port, 1.0)}}, tmp_path):
        freeze, thaw = (
            (server.freeze, server.thaw)
            if fault == "SIGSTOP"
            else (proxy.freeze, proxy.passthrough)
        )
        try:
            frozen_server_scenario(
                "redisc",
                call=lambda: redisc.set(key, "k", "v", ttl=60),
                freeze=freeze,
                thaw=thaw,
                timeout=1.0,
                fault=fault,
                test=f"test_redisc_frozen_server[{fault}]",
            )
        finally:
            redisc.close()


@pytest.mark.redis
def test_redisc_restarted_server(
    private_redis: Callable[..., PrivateRedis], load_config: LoadConfig, tmp_path: Path
) -> None:
    from envoxy.redis import redisc

    server = private_redis()
    key = f"fault_{uuid.uuid4().hex[:8]}"
    with load_config({"redis_servers": {key: redis_conf(server.host, server.port, 1.0)}}, tmp_path):
        try:
            concurrently(lambda: redisc.set(key, "k", "v"))  # 20 pooled connections open
            started = time.monotonic()
            server.restart()
            restarted = time.monotonic() - started
            started = time.monotonic()
            first = redisc.set(key, "k", "again")  # every pooled connection is dead
            first_call = time.monotonic() - started
            assert first is True
            parallel = concurrently(lambda: redisc.get(key, "k"))
        finally:
            redisc.close()
    assert first_call < 1.0
    record(
        "redisc",
        "restart",
        f"the first call after the restart succeeds ({first_call:.2f} s: dead pooled "
        f"connections are replaced); {CONCURRENT} concurrent calls in {parallel:.2f} s",
        "test_redisc_restarted_server",
        restart=restarted,
        first_call=first_call,
        concurrent20=parallel,
    )


# ------------------------------------------------------------------ cache


@pytest.mark.redis
def test_cache_frozen_server(
    private_redis: Callable[..., PrivateRedis],
    fault_proxy: FaultProxyFactory,
    load_config: LoadConfig,
    tmp_path: Path,
) -> None:
    from envoxy.cache import Cache
    from envoxy.cache.redis import OUTAGE_HOLD_OFF

    server = private_redis()
    proxy = fault_proxy(server)
    conf = {"backend": "redis", **redis_conf(proxy.host, proxy.port, 1.0)}
    with load_config({"cache": conf}, tmp_path):
        backend = Cache()
        try:
            measured = frozen_server_scenario(
                "cache",
                call=lambda: backend.set("/v1/x", "get", {}, {"v": 1}),
                freeze=proxy.freeze,
                thaw=proxy.passthrough,
                timeout=1.0,
                fault="path frozen",
                test="test_cache_frozen_server",
                cached_view=True,
            )
        finally:
            Cache.close_all()
    # the view's GET and SET: the second failed at once (held off), not after a timeout
    assert measured["http"] < 1.0 + 0.5
    assert measured["recover"] <= OUTAGE_HOLD_OFF + 0.5


# ------------------------------------------------------------------ couchdbc


@pytest.mark.couchdb
def test_couchdbc_frozen_path(
    couchdb_url: str, fault_proxy: FaultProxyFactory, load_config: LoadConfig, tmp_path: Path
) -> None:
    from envoxy.couchdb import couchdbc

    parts = urlsplit(couchdb_url)
    database = f"fault_{uuid.uuid4().hex[:8]}"
    created = httpx.put(f"{couchdb_url}/{database}", timeout=10)
    assert created.status_code in (201, 202, 412), created.text
    proxy = fault_proxy(parts.hostname or "127.0.0.1", parts.port or 5984)
    userinfo = f"{parts.username}:{parts.password}@" if parts.username else ""
    conf = {
        "bind": f"http://{userinfo}{proxy.host}:{proxy.port}",
        "timeout": 1.0,
        "connect_timeout": 1.0,
        "max_connections": CONCURRENT,
    }
    key = f"fault{uuid.uuid4().hex[:8]}"
    try:
        with load_config({"couchdb_servers": {key: conf}}, tmp_path):
            try:
                frozen_server_scenario(
                    "couchdbc",
                    call=lambda: couchdbc.get("missing-doc", f"{key}.{database}"),
                    freeze=proxy.freeze,
                    thaw=proxy.passthrough,
                    timeout=1.0,
                    fault="path frozen",
                    test="test_couchdbc_frozen_path",
                )
            finally:
                couchdbc.close()
    finally:
        httpx.delete(f"{couchdb_url}/{database}", timeout=10)


# ------------------------------------------------------------------ zmqc


@pytest.fixture
def echo_peer() -> Iterator[ReplyPeer]:
    with ReplyPeer() as peer:
        yield peer


@pytest.mark.zmq
def test_zmqc_frozen_path(
    echo_peer: ReplyPeer, fault_proxy: FaultProxyFactory, load_config: LoadConfig, tmp_path: Path
) -> None:
    from envoxy.zeromq import zmqc

    proxy = fault_proxy("127.0.0.1", echo_peer.port)
    key = f"fault_{uuid.uuid4().hex[:8]}"
    conf = {
        "host": proxy.host,
        "port": proxy.port,
        "timeout": 0.5,
        "retries": 5,
        "retry_delay": 0.1,
        "deadline": 1.5,
    }
    with load_config({"zmq_servers": {key: conf}, "zmq_workers": {}}, tmp_path):
        try:
            frozen_server_scenario(
                "zmqc",
                call=lambda: zmqc.validate_response(zmqc.get(key, "/v1/ping")),
                freeze=proxy.freeze,
                thaw=proxy.passthrough,
                timeout=1.5,
                fault="path frozen",
                test="test_zmqc_frozen_path",
            )
        finally:
            zmqc.close()


# ------------------------------------------------------------------ celeryc


@pytest.mark.celery
@pytest.mark.redis
def test_celeryc_send_task_frozen_broker(
    private_redis: Callable[..., PrivateRedis],
    fault_proxy: FaultProxyFactory,
    load_config: LoadConfig,
    tmp_path: Path,
) -> None:
    from envoxy.celery import celeryc
    from envoxy.celery.settings import publish_worst_case

    server = private_redis()
    proxy = fault_proxy(server)
    conf = {"bind": f"{proxy.host}:{proxy.port}", "socket_timeout": 0.5, "connect_timeout": 0.5}
    with load_config({"redis_servers": {"celery": conf}}, tmp_path):
        celeryc.initialize()
        try:
            frozen_server_scenario(
                "celeryc",
                call=lambda: celeryc.send_task("envoxy_fault_probe.noop", args=(1,)),
                freeze=proxy.freeze,
                thaw=proxy.passthrough,
                timeout=publish_worst_case(conf),
                fault="path frozen (Redis broker)",
                test="test_celeryc_send_task_frozen_broker",
            )
        finally:
            celeryc.close()


# ------------------------------------------------------------------ mqttc


def subscribe_persistently(
    url: str, client_id: str, topic: str, received: list[bytes]
) -> Callable[[], None]:
    """A raw paho subscriber with a persistent session; returns its stop function."""
    import paho.mqtt.client as paho

    parts = urlsplit(url)
    subscribed = threading.Event()
    client = paho.Client(
        callback_api_version=paho.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=False,
    )
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda _c, _u, message: received.append(bytes(message.payload))
    client.reconnect_delay_set(1, 2)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883, keepalive=5)
    client.loop_start()
    assert subscribed.wait(5)

    def stop() -> None:
        client.disconnect()
        client.loop_stop()

    return stop


def wait_for_messages(received: list[bytes], count: int, limit: float) -> float:
    started = time.monotonic()
    while len(set(received)) < count:
        assert time.monotonic() - started < limit, f"{len(set(received))} of {count} arrived"
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.mark.mqtt
def test_mqttc_publish_never_blocks_on_a_frozen_broker(
    private_mosquitto: Callable[..., PrivateMosquitto], fault_proxy: FaultProxyFactory
) -> None:
    from envoxy.mqtt import MqttClient

    broker = private_mosquitto(persistence=True)
    proxy = fault_proxy(broker)
    topic = f"envoxy/fault/{uuid.uuid4().hex[:8]}"
    received: list[bytes] = []
    stop = subscribe_persistently(broker.url, f"sub-{uuid.uuid4().hex[:8]}", topic, received)
    publisher = MqttClient(
        {"b": {"bind": f"mqtt://{proxy.host}:{proxy.port}", "connect_timeout": 2}}
    )
    try:
        assert publisher.publish("b", topic, b"warm", no_envelope=True, qos=1)
        wait_for_messages(received, 1, 5)
        proxy.freeze()
        started = time.monotonic()
        for number in range(CONCURRENT):
            assert publisher.publish("b", topic, f"m{number}".encode(), no_envelope=True, qos=1)
        publish = (time.monotonic() - started) / CONCURRENT
        assert publish < 0.1  # handed to the client library; the path holds the bytes
        proxy.passthrough()
        delivered = wait_for_messages(received, CONCURRENT + 1, RECOVERY)
    finally:
        publisher.close()
        stop()
    record(
        "mqttc",
        "path frozen",
        f"publish (QoS 1) returns in {publish * 1000:.1f} ms per message, queued in the "
        f"client; all {CONCURRENT} delivered {delivered:.2f} s after the path passes again",
        "test_mqttc_publish_never_blocks_on_a_frozen_broker",
        publish=publish,
        recover=delivered,
    )


@pytest.mark.mqtt
def test_mqttc_restart_loses_no_qos1_message_with_persistent_sessions(
    private_mosquitto: Callable[..., PrivateMosquitto],
) -> None:
    from envoxy.mqtt import MqttClient

    broker = private_mosquitto(persistence=True)
    topic = f"envoxy/restart/{uuid.uuid4().hex[:8]}"
    received: list[bytes] = []
    stop = subscribe_persistently(broker.url, f"sub-{uuid.uuid4().hex[:8]}", topic, received)
    connect_timeout = 5.0
    conf = {
        "bind": broker.url,
        "connect_timeout": connect_timeout,
        "client_id": f"pub-{uuid.uuid4().hex[:8]}",
        "persistent_session": True,
    }
    publisher = MqttClient({"b": conf})
    sent = 0
    try:
        for _ in range(10):
            assert publisher.publish("b", topic, f"m{sent}".encode(), no_envelope=True, qos=1)
            sent += 1
        wait_for_messages(received, sent, 5)
        started = time.monotonic()
        broker.restart()
        restart = time.monotonic() - started
        started = time.monotonic()
        for _ in range(10):  # published while the client reconnects
            assert publisher.publish("b", topic, f"m{sent}".encode(), no_envelope=True, qos=1)
            sent += 1
        publish_window = time.monotonic() - started
        delivered = wait_for_messages(received, sent, RECOVERY + 5)
    finally:
        publisher.close()
        stop()
    assert {payload.decode() for payload in received} == {f"m{n}" for n in range(sent)}
    assert publish_window <= connect_timeout + MARGIN
    record(
        "mqttc",
        "restart (persistent sessions)",
        f"no QoS 1 message lost ({sent} sent around the restart); publishes during the "
        f"reconnect took {publish_window:.2f} s in all; all delivered {delivered:.2f} s later",
        "test_mqttc_restart_loses_no_qos1_message_with_persistent_sessions",
        restart=restart,
        publish_window=publish_window,
        recover=delivered,
    )
