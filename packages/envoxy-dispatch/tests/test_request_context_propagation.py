"""The request id in outgoing envelopes, and client calls reported to observers.

Against real servers: a ZeroMQ REP peer, the shared Mosquitto and Redis.
"""

import json
import queue
import uuid
from typing import Any

import pytest

from envoxy.constants import Performative
from envoxy.mqtt.client import MqttClient
from envoxy.redis.client import RedisClient
from envoxy.utils.config import Config
from envoxy.utils.context import RequestContext, bound
from envoxy.utils.observe import (
    PoolStats,
    pool_stats,
)
from envoxy.zeromq import ZmqClient
from envoxy.zeromq.headers import generate_headers, generated_headers_json
from envoxy_testing.zmq_peer import ReplyPeer

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
Calls = list[tuple[str, str, float, BaseException | None]]


@pytest.fixture
def calls(client_calls: Calls) -> Calls:
    """The calls reported to observers (envoxy_testing's ``client_calls``)."""
    return client_calls


def test_headers_outside_a_request_have_a_random_cid_only() -> None:
    first, second = generate_headers(), json.loads(generated_headers_json())
    assert "X-Request-ID" not in first
    assert "X-Request-ID" not in second
    assert first["X-Cid"] != second["X-Cid"]


def test_headers_inside_a_request_carry_its_id_and_trace() -> None:
    with bound(RequestContext("rid-1", TRACEPARENT)):
        for headers in (generate_headers(), json.loads(generated_headers_json())):
            assert headers["X-Request-ID"] == headers["X-Cid"] == "rid-1"
            assert headers["traceparent"] == TRACEPARENT
        assert generate_headers("given")["X-Cid"] == "given"


def test_a_hand_made_context_with_quotes_stays_valid_json() -> None:
    with bound(RequestContext('a"b\\c', 'x"y')):
        headers = json.loads(generated_headers_json())
    assert headers["X-Request-ID"] == 'a"b\\c'
    assert headers["traceparent"] == 'x"y'


@pytest.mark.zmq
def test_zmq_requests_carry_the_request_id_on_every_path(calls: Calls) -> None:
    peer = ReplyPeer()
    client = ZmqClient(
        {"core": {"host": "127.0.0.1", "port": peer.port, "timeout": 2, "retries": 0}},
        workers={},
    )
    try:
        with bound(RequestContext("zmq-rid")):
            client.request("core", Performative.GET, "/a")
            client.request("core", Performative.GET, "/b", future=True).result(5)
            client.bulk_requests(
                [
                    {"server_key": "core", "performative": 0, "url": "/c"},
                    {"server_key": "core", "performative": 0, "url": "/d"},
                ]
            )
            client.send("core", {"resource": "/e", "performative": 0})
        client.request("core", Performative.GET, "/outside")
        stats = pool_stats("zmq", "core")
    finally:
        client.close()
        peer.close()
    headers = {request["resource"]: request["headers"] for request in peer.requests}
    for resource in ("/a", "/b", "/c", "/d", "/e"):
        assert headers[resource]["X-Request-ID"] == "zmq-rid", resource
        assert headers[resource]["X-Cid"] == "zmq-rid", resource
    assert "X-Request-ID" not in headers["/outside"]
    zmq_calls = [call for call in calls if call[0] == "zmq"]
    assert len(zmq_calls) == 6
    assert {key for _, key, _, _ in zmq_calls} == {"core"}
    assert all(error is None for *_, error in zmq_calls)
    assert stats is not None
    assert stats.in_use == 0
    assert 1 <= stats.open <= stats.limit


@pytest.mark.zmq
def test_a_failed_zmq_call_is_reported_with_its_error(calls: Calls) -> None:
    from envoxy_testing.network import free_port

    client = ZmqClient(
        {"dead": {"host": "127.0.0.1", "port": free_port(), "timeout": 0.2, "retries": 0}},
        workers={},
    )
    try:
        with pytest.raises(Exception, match="Service Unavailable"):
            client.request("dead", Performative.GET, "/x")
    finally:
        client.close()
    ((client_kind, key, seconds, error),) = [call for call in calls if call[0] == "zmq"]
    assert (client_kind, key) == ("zmq", "dead")
    assert error is not None
    assert 0.15 < seconds < 2


@pytest.mark.mqtt
def test_mqtt_envelope_carries_the_request_id(mqtt_url: str, calls: Calls) -> None:
    topic = f"envoxy-test/context/{uuid.uuid4().hex[:12]}"
    inbox: queue.Queue[dict[str, Any]] = queue.Queue()
    mqtt = MqttClient({"broker": {"bind": mqtt_url, "connect_timeout": 5}})
    try:
        assert mqtt.subscribe("broker", topic, lambda payload, **meta: inbox.put(meta), qos=1)
        with bound(RequestContext("mqtt-rid", TRACEPARENT)):
            assert mqtt.publish("broker", topic, {"n": 1}, qos=1)
            assert mqtt.publish("broker", topic, {"n": 2, "headers": {"X-Extra": "1"}}, qos=1)
        meta = [inbox.get(timeout=5), inbox.get(timeout=5)]
    finally:
        mqtt.close()
    for item in meta:
        assert item["headers"]["X-Request-ID"] == "mqtt-rid"
        assert item["headers"]["X-Cid"] == "mqtt-rid"
        assert item["headers"]["traceparent"] == TRACEPARENT
    assert [(c, k) for c, k, _, e in calls if c == "mqtt" and e is None] == [
        ("mqtt", "broker"),
        ("mqtt", "broker"),
    ]


@pytest.mark.redis
def test_redis_calls_and_pool_are_reported(
    redis_url: str, calls: Calls, load_config: Any, tmp_path: Any
) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(redis_url)
    config = {"redis_servers": {"obs": {"bind": f"{parts.hostname}:{parts.port}", "db": 1}}}
    with load_config(config, tmp_path):
        client = RedisClient()
        try:
            key = f"envoxy-test:obs:{uuid.uuid4().hex}"
            client.set("obs", key, {"a": 1}, ttl=5)
            assert client.get("obs", key) == {"a": 1}
            client.delete("obs", key)
            stats = pool_stats("redis", "obs")
        finally:
            client.close()
    assert [(c, k) for c, k, _, _ in calls] == [("redis", "obs")] * 3
    assert stats is not None
    assert stats == PoolStats(0, stats.open, stats.limit)
    assert stats.open >= 1
    assert stats.limit >= stats.open
    assert Config.file_path != tmp_path / "envoxy.json"
