"""OpenTelemetry spans (the [otel] extra) with the SDK's in-memory exporter, and the SDK
started after the fork in a real envoxyd (console exporter)."""

import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from werkzeug.test import Client

from envoxy.daemon.app import EnvoxyApp, MqttRoute, create_app
from envoxy.daemon.mqtt import MqttSubscriber
from envoxy.daemon.tracing import Tracing
from envoxy.decorators import on
from envoxy.views import View
from envoxy.zeromq import zmqc
from envoxy_testing.network import wait_until
from envoxy_testing.zmq_peer import ReplyPeer

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"

seen: dict[str, Any] = {}


@on(endpoint="/v1/call", protocols=["http"])
class CallView(View):
    def get(self, request: Any, **kwargs: Any) -> dict[str, Any]:
        return {"reply": zmqc.get("peer", "/backend")["status"]}


@on(endpoint="things/+/event", protocols=["mqtt"], server="broker")
class EventView(View):
    def on_event(self, data: Any, **meta: Any) -> None:
        seen["meta"] = meta
        zmqc.get("peer", "/from-mqtt")
        if data.get("fail"):
            raise ValueError("handler failed")


@pytest.fixture
def peer() -> Iterator[ReplyPeer]:
    with ReplyPeer() as server:
        yield server


@pytest.fixture
def traced(
    peer: ReplyPeer, load_config: Any, tmp_path: Path
) -> Iterator[tuple[EnvoxyApp, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    server = {"host": "127.0.0.1", "port": peer.port, "retries": 0, "timeout": 0.5}
    config = {"zmq_servers": {"peer": server}}
    with load_config(config, tmp_path):
        zmqc.close()
        app = create_app(config, views=[CallView, EventView])
        app.tracing = Tracing(provider)
        try:
            yield app, exporter
        finally:
            app.tracing.close()
            zmqc.close()


def _by_name(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    (span,) = [span for span in spans if span.name == name]
    return span


@pytest.mark.zmq
def test_request_span_continues_the_incoming_trace_and_parents_the_client_call(
    traced: tuple[EnvoxyApp, InMemorySpanExporter], peer: ReplyPeer
) -> None:
    app, exporter = traced
    answer = Client(app).get(
        "/v1/call", headers={"traceparent": TRACEPARENT, "X-Request-ID": "trace-rid"}
    )
    assert answer.status_code == 200
    spans = exporter.get_finished_spans()
    server = _by_name(spans, "GET /v1/call")
    client = _by_name(spans, "zmq peer")
    assert server.kind is SpanKind.SERVER
    assert f"{server.context.trace_id:032x}" == TRACE_ID
    assert server.parent is not None
    assert f"{server.parent.span_id:016x}" == PARENT_ID
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/v1/call"
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["envoxy.request_id"] == "trace-rid"
    assert client.kind is SpanKind.CLIENT
    assert client.parent is not None
    assert client.parent.span_id == server.context.span_id
    assert client.start_time is not None
    assert server.start_time is not None
    assert client.start_time >= server.start_time
    # the envelope carries the trace on, with the request span as the parent
    (request,) = peer.requests
    headers = request["headers"]
    assert headers["traceparent"] == f"00-{TRACE_ID}-{server.context.span_id:016x}-01"
    assert headers["X-Request-ID"] == headers["X-Cid"] == "trace-rid"


@pytest.mark.zmq
def test_a_request_without_a_trace_starts_one_and_5xx_is_an_error(
    traced: tuple[EnvoxyApp, InMemorySpanExporter], peer: ReplyPeer
) -> None:
    app, exporter = traced
    peer.close()  # the backend is gone: 503
    answer = Client(app).get("/v1/call")
    assert answer.status_code == 503
    spans = exporter.get_finished_spans()
    server = _by_name(spans, "GET /v1/call")
    client = _by_name(spans, "zmq peer")
    assert server.parent is None
    assert server.status.status_code.name == "ERROR"
    assert client.status.status_code.name == "ERROR"
    assert client.events[0].name == "exception"


@pytest.mark.zmq
def test_mqtt_handler_span_is_a_child_of_the_envelope_trace(
    traced: tuple[EnvoxyApp, InMemorySpanExporter], peer: ReplyPeer
) -> None:
    app, exporter = traced
    route = app.mqtt_routes[0]
    assert isinstance(route, MqttRoute)
    deliver = MqttSubscriber([route], app=app)._callback_for(route)
    headers = {"X-Cid": "mqtt-rid", "traceparent": TRACEPARENT}
    deliver({"n": 1}, topic="things/1/event", qos=0, retain=False, headers=headers)
    deliver({"fail": True}, topic="things/2/event", qos=0, retain=False, headers=headers)
    spans = exporter.get_finished_spans()
    consumers = [span for span in spans if span.kind is SpanKind.CONSUMER]
    assert [span.name for span in consumers] == ["things/+/event process"] * 2
    for consumer in consumers:
        assert f"{consumer.context.trace_id:032x}" == TRACE_ID
        assert consumer.parent is not None
        assert f"{consumer.parent.span_id:016x}" == PARENT_ID
    assert consumers[0].status.status_code.name == "UNSET"
    assert consumers[1].status.status_code.name == "ERROR"
    clients = [span for span in spans if span.kind is SpanKind.CLIENT]
    assert [span.parent.span_id for span in clients if span.parent] == [
        consumer.context.span_id for consumer in consumers
    ]
    assert seen["meta"]["request_id"] == "mqtt-rid"
    assert peer.requests[0]["headers"]["X-Request-ID"] == "mqtt-rid"


@pytest.mark.integration
@pytest.mark.slow
def test_workers_start_the_sdk_after_the_fork(
    start_envoxyd: Callable[..., Any], tmp_path: Path, write_config: Callable[..., Path]
) -> None:
    (tmp_path / "otel_views.py").write_text(
        "from envoxy.decorators import on\n"
        "from envoxy.views import View\n\n\n"
        '@on(endpoint="/v1/items/{item_id:int}")\n'
        "class ItemView(View):\n"
        "    def get(self, request, item_id, **kwargs):\n"
        '        return {"id": item_id}\n\n\n'
        "__loader__ = [ItemView]\n"
    )
    conf = write_config(
        {"modules": ["otel_views.py"], "otel": {"enabled": True, "exporter": "console"}}
    )
    daemon = start_envoxyd("--processes", "2", "--set", f"conf={conf}")
    request = urllib.request.Request(
        daemon.base + "/v1/items/5", headers={"traceparent": TRACEPARENT}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    wait_until(lambda: '"name": "GET /v1/items/{item_id:int}"' in daemon.log(), timeout=10)
    log = daemon.log()
    start = log.index('"name": "GET /v1/items/{item_id:int}"')
    assert f'"trace_id": "0x{TRACE_ID}"' in log[start : start + 600]
